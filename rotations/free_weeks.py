"""What search reads instead of every attending's weeks (DESIGN §4): each week's free
run and each attending's next free week, kept in the transactions that change them.

``AvailabilityWeek.free_run`` is how many free weeks in a row start at that week (it
included), counted up to MAX_WEEKS; 0 when it is full. N consecutive free weeks start at
a week exactly when its free run is N or more, so "N weeks in a row starting between A
and B" is a range read of one index (``free_runs``). A change to week W's free places
alters the runs of W and of the MAX_WEEKS - 1 weeks before it only: rotations.locks
locks those with W, and ``keep_free_weeks`` recounts them from the weeks after.

``AttendingProfile.next_free_week`` is the first Monday on or after
``next_free_week_from`` (the first bookable Monday when it was kept) whose week is
published with a place left (``booked < capacity``); None when there was none. It is kept
in the transactions that change a week's free places, under their locks: booking,
releasing, publishing, removing (``keep_next_free_week``).

For a search from ``earliest``, the kept value is the answer when it was kept from no
later than ``earliest`` and is itself ``earliest`` or later (or None): no week between
was free then, and every change since kept it again (``soonest_free_week``). Otherwise
(never kept, e.g. weeks written by a data import, or the week it names has passed)
search looks the attending's weeks up through the partial index; the hourly sweep
``refresh_stale_next_free_weeks`` keeps such attendings again, set-based.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from django.db.models import Case, DateField, F, OuterRef, Q, Subquery, Value, When

from rotations.models import MAX_WEEKS, AttendingProfile, AvailabilityWeek
from usdoctors.bulk import update_each
from usdoctors.dates import next_monday

BATCH_SIZE = 5000
# Weeks an attending's free-week mask covers from its base: bits 0 to 61 of a signed
# 64-bit integer, so that every shift search makes stays inside it.
MASK_WEEKS = 62


def first_free_week(earliest: date) -> Subquery:
    """The outer attending's first free week from ``earliest`` on (a correlated subquery
    the partial index ``free_weeks`` answers)."""
    return Subquery(
        AvailabilityWeek.objects.filter(
            organization_id=OuterRef("organization_id"),
            attending_id=OuterRef("pk"),
            booked__lt=F("capacity"),
            week_start__gte=earliest,
        )
        .order_by("week_start")
        .values("week_start")[:1]
    )


def soonest_free_week(earliest: date) -> Case:
    """The outer attending's first free week from ``earliest`` on: the kept value when it
    holds for ``earliest`` (module docstring), else looked up."""
    holds = Q(next_free_week_from__lte=earliest)
    return Case(
        When(holds & Q(next_free_week__gte=earliest), then=F("next_free_week")),
        When(holds & Q(next_free_week__isnull=True), then=Value(None, output_field=DateField())),
        default=first_free_week(earliest),
        output_field=DateField(),
    )


def keep_free_weeks(attending_id: int, starts: Iterable[date]) -> None:
    """After the weeks ``starts`` of one attending changed (booked, released, published,
    removed), under their locks: recount the free runs they alter and keep the next free
    week. Three queries, whatever the number of weeks."""
    starts = sorted(set(starts))
    if not starts:
        return
    last = starts[-1]
    rows = list(
        AvailabilityWeek.objects.filter(
            attending_id=attending_id,
            week_start__gte=starts[0] - timedelta(weeks=MAX_WEEKS - 1),
            week_start__lte=last + timedelta(weeks=1),
        ).order_by("-week_start")
    )
    # The week after the last change is unchanged: its stored run is right.
    following = rows.pop(0) if rows and rows[0].week_start > last else None
    changed = _recount(rows, following)
    update_each(changed, ["free_run"])
    keep_next_free_week([attending_id])


def free_run(has_place: bool, run_after: int) -> int:
    """A week's free run: 0 when it has no place left, else one more than the run of the
    week right after it (0 when that week is not published), capped at MAX_WEEKS."""
    return min(run_after + 1, MAX_WEEKS) if has_place else 0


def _recount(latest_first: list[AvailabilityWeek], following=None) -> list[AvailabilityWeek]:
    """Set the free run of one attending's weeks, given latest first, from the week
    after each (``following``: the published week after the latest one, if known);
    returns the weeks whose run changed."""
    changed = []
    for week in latest_first:
        consecutive = following is not None and (
            following.week_start == week.week_start + timedelta(weeks=1)
        )
        run = free_run(week.booked < week.capacity, following.free_run if consecutive else 0)
        if run != week.free_run:
            week.free_run = run
            changed.append(week)
        following = week
    return changed


def count_free_runs(weeks: Iterable[AvailabilityWeek]) -> list[AvailabilityWeek]:
    """Set every given week's free run from the others (all of one or more attendings'
    weeks from some date on); returns the weeks whose run changed. For data written
    around the services: seeds, imports, tests."""
    by_attending: dict[int, list[AvailabilityWeek]] = {}
    for week in weeks:
        by_attending.setdefault(week.attending_id, []).append(week)
    changed = []
    for attending_weeks in by_attending.values():
        attending_weeks.sort(key=lambda week: week.week_start, reverse=True)
        changed.extend(_recount(attending_weeks))
    return changed


def rebuild_free_weeks(attending_ids: Iterable[int]) -> None:
    """Recount every week's free run and keep the next free week of these attendings
    (data written around the services)."""
    ids = sorted(set(attending_ids))
    if not ids:
        return
    changed = count_free_runs(AvailabilityWeek.objects.filter(attending_id__in=ids))
    for start in range(0, len(changed), BATCH_SIZE):
        update_each(changed[start : start + BATCH_SIZE], ["free_run"])
    keep_next_free_week(ids)


def summary(free_mondays: Iterable[date], base: date) -> tuple[date | None, int, date | None]:
    """What an attending keeps of its free weeks on or after ``base`` (a Monday): the
    first one, the mask of the first MASK_WEEKS (bit i: the week ``base + i weeks``) and
    the last one (to know whether any lies past the mask)."""
    mondays = sorted(day for day in free_mondays if day >= base)
    mask = 0
    for day in mondays:
        offset = (day - base).days // 7
        if offset < MASK_WEEKS:
            mask |= 1 << offset
    return (mondays[0] if mondays else None), mask, (mondays[-1] if mondays else None)


def keep_next_free_week(attending_ids: Iterable[int]) -> None:
    """Keep the next free week, the free-week mask and the last free week of these
    attendings from next Monday (one read of their free weeks, one bulk update), inside
    the caller's transaction, after it changed their weeks."""
    ids = sorted(set(attending_ids))
    if not ids:
        return
    base = next_monday()
    free: dict[int, list[date]] = {pk: [] for pk in ids}
    for attending_id, week_start in AvailabilityWeek.objects.filter(
        attending_id__in=ids, week_start__gte=base, booked__lt=F("capacity")
    ).values_list("attending_id", "week_start"):
        free[attending_id].append(week_start)
    profiles = []
    for pk in ids:
        first, mask, last = summary(free[pk], base)
        profiles.append(
            AttendingProfile(
                pk=pk,
                next_free_week=first,
                next_free_week_from=base,
                free_mask=mask,
                last_free_week=last,
            )
        )
    for start in range(0, len(profiles), BATCH_SIZE):
        update_each(
            profiles[start : start + BATCH_SIZE],
            ["next_free_week", "next_free_week_from", "free_mask", "last_free_week"],
        )


def stale(earliest: date) -> Q:
    """Attendings whose kept week and mask were not kept from ``earliest`` (next Monday):
    never kept, or kept before this week began (the mask's base has moved on)."""
    # Three ranges of the index listed_by_soonest rather than a negation it cannot use.
    return (
        Q(next_free_week_from__isnull=True)
        | Q(next_free_week_from__lt=earliest)
        | Q(next_free_week_from__gt=earliest)
    )


def refresh_stale_next_free_weeks(organization, *, batch_size: int = BATCH_SIZE) -> int:
    """Keep again, one UPDATE per batch, every attending of ``organization`` whose kept
    week does not hold from next Monday (never kept, or passed). Returns how many."""
    earliest = next_monday()
    refreshed = 0
    while True:
        ids = list(
            AttendingProfile.objects.filter(stale(earliest), organization=organization)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return refreshed
        keep_next_free_week(ids)
        refreshed += len(ids)
