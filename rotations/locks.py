"""Row locks in one fixed order (STYLE §4): availability weeks by date, then the rotation.

Every transaction that changes ``AvailabilityWeek.booked`` takes its locks here, so two
transactions never wait on each other in opposite orders.
"""

from collections.abc import Iterable
from datetime import date

from rotations.models import AttendingProfile, AvailabilityWeek, Rotation


def lock_weeks(attending: AttendingProfile, starts: Iterable[date]) -> dict[date, AvailabilityWeek]:
    """Lock the attending's published weeks among ``starts``, in date order."""
    weeks = (
        AvailabilityWeek.objects.select_for_update()
        .filter(attending=attending, week_start__in=sorted(set(starts)))
        .order_by("week_start")
    )
    return {week.week_start: week for week in weeks}


def lock_rotation(rotation: Rotation) -> Rotation:
    return (
        Rotation.objects.select_for_update(of=("self",))
        .select_related("student__user", "attending__membership__user", "organization")
        .get(pk=rotation.pk)
    )
