"""Row locks in one fixed order (STYLE §4): availability weeks by date, then the rotation.

Every transaction that changes ``AvailabilityWeek.booked`` takes its locks here, so two
transactions never wait on each other in opposite orders.
"""

from collections.abc import Iterable
from datetime import date, timedelta

from rotations.models import MAX_WEEKS, AttendingProfile, AvailabilityWeek, Rotation


def lock_weeks(attending: AttendingProfile, starts: Iterable[date]) -> dict[date, AvailabilityWeek]:
    """Lock the attending's published weeks from ``MAX_WEEKS - 1`` weeks before the first
    of ``starts`` to the last, in date order. The weeks before are the ones whose kept
    free run (rotations.free_weeks) a change to ``starts`` may alter: holding them too
    means two transactions never keep the same run at once, and the fixed date order
    means they never wait on each other in opposite orders."""
    starts = sorted(set(starts))
    if not starts:
        return {}
    weeks = (
        AvailabilityWeek.objects.select_for_update()
        .filter(
            attending=attending,
            week_start__gte=starts[0] - timedelta(weeks=MAX_WEEKS - 1),
            week_start__lte=starts[-1],
        )
        .order_by("week_start")
    )
    return {week.week_start: week for week in weeks}


def lock_rotation(rotation: Rotation) -> Rotation:
    return (
        Rotation.objects.select_for_update(of=("self",))
        .select_related("student__user", "attending__membership__user", "organization")
        .get(pk=rotation.pk)
    )
