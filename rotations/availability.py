"""Attendings publish the weeks they can host students (DESIGN §4)."""

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership
from rotations.free_weeks import keep_free_weeks
from rotations.locks import lock_weeks
from rotations.models import AttendingProfile, AvailabilityWeek
from rotations.services import long_date
from usdoctors.errors import Conflict, Invalid, NotAllowed

MAX_WEEKS_PER_PUBLISH = 78  # a year and a half at once is plenty


def attending_profile_of(membership: Membership) -> AttendingProfile:
    profile = getattr(membership, "attending_profile", None) if membership.is_attending else None
    if profile is None:
        raise NotAllowed(
            "Complete your attending profile before publishing availability.",
            code="no_attending_profile",
        )
    return profile


@transaction.atomic
def publish_weeks(
    attending: AttendingProfile, *, first_week: date, last_week: date, capacity: int
) -> list[AvailabilityWeek]:
    """Publish every Monday from ``first_week`` to ``last_week`` with ``capacity`` places.

    Weeks already published get the new capacity, which may not drop below the places
    already booked (409 naming the week). Only weeks students can still book are published:
    the first must start after today.
    """
    for name, day in (("first_week", first_week), ("last_week", last_week)):
        if day.weekday() != 0:
            raise Invalid(f"{long_date(day)} is not a Monday.", code="not_monday", field=name)
    if first_week <= timezone.localdate():
        raise Invalid(
            "Publish weeks from next Monday on; past weeks cannot be booked.",
            code="week_in_past",
            field="first_week",
        )
    if last_week < first_week:
        raise Invalid(
            "The last week comes before the first.", code="range_reversed", field="last_week"
        )
    count = (last_week - first_week).days // 7 + 1
    if count > MAX_WEEKS_PER_PUBLISH:
        raise Invalid(
            f"Publish at most {MAX_WEEKS_PER_PUBLISH} weeks at once.",
            code="range_too_long",
            field="last_week",
        )
    if not 1 <= capacity <= 20:
        raise Invalid(
            "Capacity is 1 to 20 students at once.", code="capacity_out_of_range", field="capacity"
        )
    starts = [first_week + timedelta(weeks=number) for number in range(count)]
    existing = lock_weeks(attending, starts)
    published = []
    for start in starts:
        week = existing.get(start)
        if week is None:
            week = AvailabilityWeek.objects.create(
                organization=attending.organization,
                attending=attending,
                week_start=start,
                capacity=capacity,
            )
        else:
            if capacity < week.booked:
                raise Conflict(
                    f"The week of {start:%B} {start.day} already has {week.booked} students "
                    "booked; capacity cannot go below that.",
                    code="capacity_below_booked",
                )
            week.capacity = capacity
            week.save(update_fields=["capacity"])
        published.append(week)
    keep_free_weeks(attending.pk, starts)
    return published


@transaction.atomic
def remove_week(week: AvailabilityWeek, *, by: Membership) -> None:
    """An attending withdraws a week nobody is booked into yet."""
    if week.attending.membership_id != by.pk:
        raise NotAllowed("You can only change your own availability.", code="not_your_week")
    week = lock_weeks(week.attending, [week.week_start])[week.week_start]
    if week.booked:
        raise Conflict(
            f"{week.booked} student{' is' if week.booked == 1 else 's are'} booked the week "
            f"of {week.week_start:%B} {week.week_start.day}; it cannot be removed.",
            code="week_booked",
        )
    week.delete()
    keep_free_weeks(week.attending_id, [week.week_start])
