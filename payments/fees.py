"""Method fees (DESIGN §6): paying by card adds the organization's surcharge to each
payment, as its own line; Zelle and wire add nothing.

Pure functions, no database. Amounts are ``Decimal`` whole cents (an ``int`` of dollars
is accepted too); a float is refused with ``TypeError`` wherever it appears, because a
float has already lost the cent it was meant to carry.
"""

from __future__ import annotations

from decimal import Decimal

from rotations.choices import PaymentMethod
from usdoctors.errors import Invalid
from usdoctors.money import CENT, to_cents  # the one ROUND_HALF_UP helper

ZERO = Decimal("0.00")
# The card networks' cap on a surcharge; 0 means surcharges are off (DESIGN §2, §6).
MAX_SURCHARGE_RATE = Decimal("0.03")
FLOAT_REFUSED = "amounts are Decimal; a float is refused"


def exact_decimal(value, name: str = "amount") -> Decimal:
    """``value`` as a finite Decimal. Decimals and ints pass; a float (or a bool, or a
    string) is a programming error and raises ``TypeError`` before any arithmetic."""
    if isinstance(value, float):
        raise TypeError(f"{name}: {FLOAT_REFUSED}")
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")
    value = Decimal(value)
    if not value.is_finite():
        raise ValueError(f"{name} must be a finite amount, not {value}")
    return value


def cents(value, name: str = "amount") -> Decimal:
    """``value`` as an amount of whole cents (``Decimal('12.30')``), refusing floats and
    anything finer than a cent: an amount that needs rounding was computed wrongly
    upstream, and rounding it here would hide the lost fraction."""
    value = exact_decimal(value, name)
    quantized = to_cents(value)
    if quantized != value:
        raise ValueError(f"{name} must be whole cents, not {value}")
    return quantized


def surcharge_rate(value) -> Decimal:
    """The card surcharge rate: a Decimal from 0 to 0.03 (3%, the networks' cap)."""
    rate = exact_decimal(value, "rate")
    if not ZERO <= rate <= MAX_SURCHARGE_RATE:
        raise ValueError(f"rate must be between 0 and {MAX_SURCHARGE_RATE}, not {rate}")
    return rate


def card_fee(amount, rate) -> Decimal:
    """The card surcharge on **one payment** of ``amount``: amount × rate, rounded half up
    to the cent (§6).

    Call it once per installment, never on an invoice's total: the sum of per-payment fees
    can differ from the fee on the total by rounding, and each payment is charged its own
    (e.g. $1.00 in two payments at 3% is $0.02 + $0.02, not $0.03).
    """
    amount = cents(amount)
    if amount < 0:
        raise ValueError(f"amount must not be negative, not {amount}")
    return to_cents(amount * surcharge_rate(rate))


def check_payment_method(method: str) -> str:
    """The method if it is one we take (paypal, zelle, wire), else a 400 naming the field."""
    if method not in PaymentMethod.values:
        raise Invalid(
            "Choose a payment method: card or PayPal, Zelle or wire transfer.",
            code="payment_method_invalid",
            field="payment_method",
        )
    return method


def method_fee(amount, method: str, rate) -> Decimal:
    """What paying ``amount`` by ``method`` adds (§6): by card through PayPal, the card
    fee at ``rate`` on this payment; by Zelle or wire, nothing."""
    check_payment_method(method)
    if method == PaymentMethod.PAYPAL:
        return card_fee(amount, rate)
    cents(amount)  # still refuse a float or a fraction of a cent
    surcharge_rate(rate)
    return ZERO


__all__ = [
    "CENT",
    "FLOAT_REFUSED",
    "MAX_SURCHARGE_RATE",
    "ZERO",
    "card_fee",
    "cents",
    "check_payment_method",
    "exact_decimal",
    "method_fee",
    "surcharge_rate",
]
