"""What platform staff change in /admin/ about availability (DESIGN §4), under the same
rules as the attendings' own pages and the booking services.

A week's ``booked`` count moves only with the bookings (approve, cancel, date changes):
staff never set it. Staff may add a week, change a week's capacity (never below the
places booked) or remove a week nobody is booked into; each change takes the weeks'
locks in date order (``rotations.locks``) and keeps the free runs and the next free
week that search reads (``rotations.free_weeks.keep_free_weeks``), as the services do.
"""

from __future__ import annotations

from django.db import transaction

from rotations.free_weeks import keep_free_weeks
from rotations.locks import lock_weeks
from rotations.models import AvailabilityWeek
from usdoctors.errors import Conflict


def capacity_refusal(week: AvailabilityWeek, capacity: int) -> str:
    """Why ``capacity`` cannot be set on ``week``, or "" when it can."""
    if week.pk and capacity < week.booked:
        return (
            f"{week.booked} place{'s are' if week.booked != 1 else ' is'} booked in the week "
            f"of {week.week_start:%B} {week.week_start.day}; capacity cannot go below that."
        )
    return ""


@transaction.atomic
def save_week(week: AvailabilityWeek, *, capacity: int) -> AvailabilityWeek:
    """Publish a new week, or set an existing week's capacity, with its locks held, then
    keep the free runs. The capacity never goes below ``booked`` (409)."""
    attending = week.attending
    locked = lock_weeks(attending, [week.week_start]).get(week.week_start)
    if locked is None:
        week.organization_id = attending.organization_id
        week.capacity = capacity
        week.booked = 0
        week.save()
    else:
        refusal = capacity_refusal(locked, capacity)
        if refusal:
            raise Conflict(refusal, code="capacity_below_booked")
        locked.capacity = capacity
        locked.save(update_fields=["capacity"])
        week = locked
    keep_free_weeks(attending.pk, [week.week_start])
    return week


@transaction.atomic
def remove_week(week: AvailabilityWeek) -> None:
    """Remove a week nobody is booked into (409 otherwise), then keep the free runs."""
    locked = lock_weeks(week.attending, [week.week_start]).get(week.week_start)
    if locked is None:
        return
    if locked.booked:
        raise Conflict(
            f"The week of {locked.week_start:%B} {locked.week_start.day} has bookings; "
            "cancel or move them on the rotation's page first.",
            code="week_booked",
        )
    locked.delete()
    keep_free_weeks(week.attending_id, [week.week_start])
