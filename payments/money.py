"""Money rules shared by every app (DESIGN §6): Decimal USD, cents, ROUND_HALF_UP."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def to_cents(amount) -> Decimal:
    """Quantize to cents, rounding half up (Python's default would round half to even)."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def card_surcharge(amount: Decimal, rate: Decimal) -> Decimal:
    """What paying ``amount`` by card adds at the organization's surcharge ``rate``."""
    return to_cents(Decimal(amount) * Decimal(rate))


def price_quote(
    weekly_rate: Decimal, weeks: int, surcharge_rate: Decimal
) -> tuple[Decimal, Decimal]:
    """Price = weekly rate × weeks (§6), and what paying all of it by card would add."""
    total = to_cents(Decimal(weekly_rate) * weeks)
    return total, card_surcharge(total, surcharge_rate)
