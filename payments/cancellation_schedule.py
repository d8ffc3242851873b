"""The organization's published schedule for a student's own cancellation (DESIGN §5,
§15), shown with the quote before booking and on the rotation page.

The schedule is the organization's ``CancellationTier`` rows: cancelled at least
``days_before_start`` days before the start, ``refund_percent`` of what was paid towards
the price goes back where it came from and ``credit_percent`` becomes credit; the rest
is kept. The line with the most days that the cancellation meets applies; a
cancellation later than every line (or on or after the start) gets nothing back. With no
rows the default applies, which is today's rule (§5): at any time, everything paid
towards the price becomes credit. Card fees are never part of it: they went to the card
network (only refund protection returns them, payments.refunds), and neither is the
non-refundable application fee (§6, §13): only refund protection returns it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from payments.refund_models import CancellationTier


@dataclass(frozen=True)
class Tier:
    days_before_start: int
    refund_percent: int
    credit_percent: int

    @property
    def kept_percent(self) -> int:
        return 100 - self.refund_percent - self.credit_percent

    def describe(self) -> str:
        """E.g. "50% refunded to how you paid and 50% as credit"."""
        parts = []
        if self.refund_percent:
            parts.append(f"{self.refund_percent}% refunded to how you paid")
        if self.credit_percent:
            parts.append(f"{self.credit_percent}% as credit toward your next rotation")
        return " and ".join(parts) if parts else "nothing back"


DEFAULT_SCHEDULE = (Tier(days_before_start=0, refund_percent=0, credit_percent=100),)
NOTHING_BACK = Tier(days_before_start=0, refund_percent=0, credit_percent=0)


def schedule_for(organization) -> tuple[Tier, ...]:
    """The organization's lines, most days first; the default when it has none."""
    tiers = tuple(
        Tier(row.days_before_start, row.refund_percent, row.credit_percent)
        for row in CancellationTier.objects.filter(organization=organization).order_by(
            "-days_before_start"
        )
    )
    return tiers or DEFAULT_SCHEDULE


def tier_for(schedule: tuple[Tier, ...], start: date, on: date) -> Tier:
    """The line that applies to a cancellation on ``on`` of a rotation starting on
    ``start``: the one with the most days that ``start - on`` meets. A cancellation on
    or after the start counts as 0 days before it (a rotation on hold is cancelled
    after its start). None met → nothing back."""
    days = max((start - on).days, 0)
    for tier in schedule:  # most days first
        if days >= tier.days_before_start:
            return tier
    return NOTHING_BACK


def policy_lines(schedule: tuple[Tier, ...]) -> list[str]:
    """The schedule in words, one line per tier, most days first."""
    lines = []
    for tier in schedule:
        when = (
            "Up to the start"
            if tier.days_before_start == 0
            else f"{tier.days_before_start} days or more before the start"
        )
        lines.append(f"{when}: {tier.describe()}")
    last = schedule[-1].days_before_start if schedule else 0
    if last > 0:
        lines.append(f"Fewer than {last} days before the start: nothing back")
    return lines


def policy(organization, start: date | None, on: date, *, application_fee=None) -> dict:
    """What the quote and the rotation page show: the schedule in words, what applies
    if the student cancels on ``on`` (when the start is known), the application fee
    that is not returned (when there is one), and the protection."""
    schedule = schedule_for(organization)
    now = tier_for(schedule, start, on) if start else None
    return {
        "lines": policy_lines(schedule),
        "now": now.describe() if now else "",
        "card_fees_kept": True,
        "application_fee": application_fee or None,
        "protection": (
            "If the attending cancels, does not show up in the first week, or your visa "
            "is refused, everything you paid, card fees and the application fee "
            "included, is refunded to how you paid."
        ),
    }
