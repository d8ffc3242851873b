"""Money rules shared by every app (DESIGN §6, STYLE §5): Decimal USD, quantized to cents
with ROUND_HALF_UP in this one helper; never float.

The kernel holds them because every layer shows or computes amounts: rotations' search
shows what a card payment would add, payments writes invoices and installments.
"""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def to_cents(amount) -> Decimal:
    """Quantize to cents, rounding half up (Python's default would round half to even).
    A float is refused: it cannot hold most cent amounts exactly."""
    if isinstance(amount, float):
        raise TypeError(f"{amount!r} is a float: amounts are Decimal; a float is refused.")
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def card_surcharge(amount: Decimal, rate: Decimal) -> Decimal:
    """What paying ``amount`` by card adds at the organization's surcharge ``rate``."""
    return to_cents(Decimal(amount) * Decimal(rate))
