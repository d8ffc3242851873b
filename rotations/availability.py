"""Attendings publish the weeks they can host students (DESIGN §4).

Publishing never silently changes a week already published: ``plan_publish`` lists each
published week whose capacity would change (old → new), the attending confirms that
list, and ``publish_weeks`` writes only when the confirmation names the same changes it
finds under the weeks' locks. No week's capacity ever goes below the places booked.
"""

from dataclasses import dataclass, field
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
MAX_CAPACITY = 20


def attending_profile_of(membership: Membership) -> AttendingProfile:
    profile = getattr(membership, "attending_profile", None) if membership.is_attending else None
    if profile is None:
        raise NotAllowed(
            "Complete your attending profile before publishing availability.",
            code="no_attending_profile",
        )
    return profile


@dataclass(frozen=True)
class CapacityChange:
    """A published week whose capacity a publish would change."""

    week_start: date
    capacity_before: int
    capacity_after: int
    booked: int

    def describe(self) -> str:
        return (
            f"the week of {long_date(self.week_start)}: "
            f"{self.capacity_before} → {self.capacity_after}"
        )


@dataclass(frozen=True)
class PublishPlan:
    """What publishing a range would do: the weeks it adds and the published weeks whose
    capacity changes. ``confirmation`` names exactly those changes; ``publish_weeks``
    accepts it only while the changes are still the same."""

    first_week: date
    last_week: date
    capacity: int
    new_weeks: list[date] = field(default_factory=list)
    changes: list[CapacityChange] = field(default_factory=list)
    unchanged: list[date] = field(default_factory=list)

    @property
    def confirmation(self) -> str:
        return ";".join(
            f"{change.week_start:%Y-%m-%d}:{change.capacity_before}>{change.capacity_after}"
            for change in self.changes
        )


class CapacityChangeUnconfirmed(Conflict):
    """409: the publish would change published weeks' capacity and the caller has not
    confirmed these changes (or they changed since the preview). Carries the plan."""

    def __init__(self, plan: PublishPlan, *, stale: bool):
        listed = "; ".join(change.describe() for change in plan.changes)
        count = len(plan.changes)
        lead = (
            "Your published weeks changed since you reviewed them. "
            if stale
            else "Publishing this range changes weeks you already published. "
        )
        super().__init__(
            f"{lead}{count} week{'s' if count != 1 else ''} would get a new capacity "
            f"({listed}). Review the changes and confirm them.",
            code="capacity_change_unconfirmed",
        )
        self.plan = plan


def publish_range(first_week: date, last_week: date, capacity: int) -> list[date]:
    """The Mondays from ``first_week`` to ``last_week``, or 400 naming the bad field:
    both must be Mondays, the first after today, the last not before the first, at most
    ``MAX_WEEKS_PER_PUBLISH`` weeks, capacity 1 to ``MAX_CAPACITY``."""
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
    if not 1 <= capacity <= MAX_CAPACITY:
        raise Invalid(
            f"Capacity is 1 to {MAX_CAPACITY} students at once.",
            code="capacity_out_of_range",
            field="capacity",
        )
    return [first_week + timedelta(weeks=number) for number in range(count)]


def _plan(starts: list[date], capacity: int, existing: dict[date, AvailabilityWeek]) -> PublishPlan:
    """Sort the range into new, changed and unchanged weeks; 409 naming the week and its
    booked count when the capacity would fall below the places already booked."""
    plan = PublishPlan(first_week=starts[0], last_week=starts[-1], capacity=capacity)
    for start in starts:
        week = existing.get(start)
        if week is None:
            plan.new_weeks.append(start)
        elif week.booked > capacity:
            raise Conflict(
                f"The week of {long_date(start)} already has {week.booked} student"
                f"{'s' if week.booked != 1 else ''} booked; its capacity cannot go below "
                f"{week.booked}. Publish {week.booked} or more, or leave that week out.",
                code="capacity_below_booked",
                field="capacity",
            )
        elif week.capacity != capacity:
            plan.changes.append(CapacityChange(start, week.capacity, capacity, week.booked))
        else:
            plan.unchanged.append(start)
    return plan


def plan_publish(
    attending: AttendingProfile, *, first_week: date, last_week: date, capacity: int
) -> PublishPlan:
    """The preview of ``publish_weeks`` (§4): which weeks it adds and which published
    weeks' capacity it changes, old → new. Writes nothing; refuses what ``publish_weeks``
    would refuse (400 bad range or capacity, 409 below the places booked)."""
    starts = publish_range(first_week, last_week, capacity)
    existing = {
        week.week_start: week
        for week in AvailabilityWeek.objects.filter(
            attending=attending, week_start__gte=starts[0], week_start__lte=starts[-1]
        )
    }
    return _plan(starts, capacity, existing)


@transaction.atomic
def publish_weeks(
    attending: AttendingProfile,
    *,
    first_week: date,
    last_week: date,
    capacity: int,
    confirmed: str = "",
) -> list[AvailabilityWeek]:
    """Publish every Monday from ``first_week`` to ``last_week`` with ``capacity`` places
    (§4). Only weeks students can still book: the first must start after today.

    Weeks already published are never changed silently: when any of them would get a new
    capacity, ``confirmed`` must be the ``confirmation`` of the plan the attending saw
    (``plan_publish``), and still match under the weeks' locks, else 409
    ``capacity_change_unconfirmed`` carrying the current plan and nothing is written. A
    capacity below a week's booked places is refused (409 ``capacity_below_booked``
    naming the week and its count), confirmed or not.
    """
    starts = publish_range(first_week, last_week, capacity)
    existing = lock_weeks(attending, starts)
    plan = _plan(starts, capacity, existing)
    if plan.changes and confirmed != plan.confirmation:
        raise CapacityChangeUnconfirmed(plan, stale=bool(confirmed))
    for start in plan.new_weeks:
        existing[start] = AvailabilityWeek.objects.create(
            organization=attending.organization,
            attending=attending,
            week_start=start,
            capacity=capacity,
        )
    for change in plan.changes:
        week = existing[change.week_start]
        week.capacity = capacity
        week.save(update_fields=["capacity"])
    keep_free_weeks(
        attending.pk, [*plan.new_weeks, *(change.week_start for change in plan.changes)]
    )
    return [existing[start] for start in starts]


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
