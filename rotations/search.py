"""Attending search and the read-only views of an attending's weeks (DESIGN §4, §6).

``search_attendings`` applies these rules:

- Only attending profiles of this organization whose membership has the attending
  role. The private ``contact_email`` is never loaded into a result (§8).
- Filters, each optional: specialty, state, rotation type offered, mode offered,
  practice setting, residency program in the specialty at the site (yes or no) and a
  maximum weekly rate (inclusive).
- Free weeks: a week is free when it is published and ``booked < capacity``. When any of
  ``weeks`` (N), ``start_from`` (A) or ``start_to`` (B) is given, an attending qualifies
  only with N consecutive free weeks (no missing week, no full week in between) whose
  first Monday falls in [A, B]. N defaults to the attending's minimum weeks; an explicit
  N below an attending's minimum excludes them (they would refuse it, §5). A and B need
  not be Mondays. Rotations start in the future, so A is at least the first Monday after
  today; B may be left open.
- Each result carries, for N weeks (the attending's minimum when N is not given): the
  total ``weekly_rate × N`` and the card surcharge a card payment would add at the
  organization's rate, both Decimal cents rounded half up (§6; 0 when surcharges are
  off). ``first_start`` is the earliest qualifying run start when the weeks filter
  applies, else the soonest free week after today (None when there is none).
- Sort ``price``: weekly rate ascending. Sort ``soonest``: ``first_start`` ascending,
  attendings without one last. Ties go to the lower rate, then name, then id.
- Cost: one query for the candidates (with their soonest free week), one over the free
  week rows of all candidates when the weeks filter applies, and one per page read,
  however many attendings match.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import F, OuterRef, QuerySet, Subquery, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from accounts.choices import Role
from rotations.models import MAX_WEEKS, AttendingProfile, AvailabilityWeek
from rotations.services import next_monday
from usdoctors.errors import Invalid
from usdoctors.money import card_surcharge, to_cents

SORT_PRICE = "price"
SORT_SOONEST = "soonest"
SORTS = {SORT_SOONEST: "Soonest start", SORT_PRICE: "Lowest weekly rate"}
CALENDAR_WEEKS = 26


def price_quote(
    weekly_rate: Decimal, weeks: int, surcharge_rate: Decimal
) -> tuple[Decimal, Decimal]:
    """Price = weekly rate × weeks (§6), and what paying all of it by card would add at
    the organization's rate: what search shows before anything is owed. The invoice's
    own per-payment surcharge lines are payments' business."""
    total = to_cents(Decimal(weekly_rate) * weeks)
    return total, card_surcharge(total, surcharge_rate)


@dataclass(frozen=True)
class SearchFilters:
    """What a student asks for. Blank strings and None mean "any"."""

    specialty: str = ""
    state: str = ""
    rotation_type: str = ""
    mode: str = ""
    setting: str = ""
    has_residency_program: bool | None = None
    max_weekly_rate: Decimal | None = None
    weeks: int | None = None
    start_from: date | None = None
    start_to: date | None = None
    sort: str = SORT_SOONEST

    def __post_init__(self):
        if self.weeks is not None and not 1 <= self.weeks <= MAX_WEEKS:
            raise Invalid(
                f"A rotation lasts 1 to {MAX_WEEKS} weeks.",
                code="weeks_out_of_range",
                field="weeks",
            )
        if self.start_from and self.start_to and self.start_to < self.start_from:
            raise Invalid(
                "The latest start comes before the earliest start.",
                code="start_window_reversed",
                field="start_to",
            )
        if self.sort not in SORTS:
            raise Invalid(f"Sort by {' or '.join(SORTS)}.", code="sort_invalid", field="sort")

    @classmethod
    def from_data(cls, data: dict) -> SearchFilters:
        """Build from validated form or serializer data, ignoring unknown and empty keys."""
        names = {field.name for field in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names and v not in (None, "")})

    @property
    def weeks_filter_applies(self) -> bool:
        return bool(self.weeks or self.start_from or self.start_to)


@dataclass(frozen=True)
class SearchHit:
    """What a result adds to the attending: the price of ``weeks`` weeks and when."""

    weeks: int
    weeks_chosen: bool  # False: ``weeks`` is the attending's minimum
    total: Decimal
    card_surcharge: Decimal
    first_start: date | None


@dataclass(frozen=True)
class _Match:
    pk: int
    weekly_rate: Decimal
    display_name: str
    weeks: int
    first_start: date | None


def public_attendings(organization) -> QuerySet:
    """The organization's attendings as students see them: attending role only, no
    private contact email."""
    return AttendingProfile.objects.filter(
        organization=organization, membership__role=Role.ATTENDING
    ).defer("contact_email")


def free_weeks(organization) -> QuerySet:
    """Published weeks with at least one place left."""
    return AvailabilityWeek.objects.filter(organization=organization, booked__lt=F("capacity"))


def search_attendings(organization, filters: SearchFilters | dict) -> SearchResults:
    """Attendings matching ``filters``, sorted, priced (the rules are in this module's
    docstring). Returns a sequence that reads one page of profiles per slice."""
    if not isinstance(filters, SearchFilters):
        filters = SearchFilters.from_data(filters)
    earliest = max(filters.start_from or date.min, next_monday())
    candidates = _filtered(public_attendings(organization), filters)

    if filters.weeks_filter_applies:
        rows = candidates.values_list("pk", "weekly_rate", "display_name", "minimum_weeks")
        free = _free_weeks_by_attending(organization, candidates, earliest, filters.start_to)
        matches = []
        for pk, rate, name, minimum_weeks in rows:
            weeks = filters.weeks or minimum_weeks
            start = first_run_start(free.get(pk, ()), weeks, earliest, filters.start_to)
            if start is not None:
                matches.append(_Match(pk, rate, name, weeks, start))
    else:
        soonest = (
            free_weeks(organization)
            .filter(attending=OuterRef("pk"), week_start__gte=earliest)
            .order_by("week_start")
            .values("week_start")[:1]
        )
        rows = candidates.annotate(soonest=Subquery(soonest)).values_list(
            "pk", "weekly_rate", "display_name", "minimum_weeks", "soonest"
        )
        matches = [
            _Match(pk, rate, name, filters.weeks or minimum_weeks, start)
            for pk, rate, name, minimum_weeks, start in rows
        ]

    if filters.sort == SORT_PRICE:
        matches.sort(key=lambda m: (m.weekly_rate, m.display_name, m.pk))
    else:
        matches.sort(key=lambda m: (m.first_start or date.max, m.weekly_rate, m.display_name, m.pk))
    return SearchResults(
        matches,
        surcharge_rate=organization.card_surcharge_rate,
        weeks_chosen=filters.weeks is not None,
    )


def _filtered(attendings: QuerySet, filters: SearchFilters) -> QuerySet:
    exact = {
        name: getattr(filters, name)
        for name in ("specialty", "state", "setting")
        if getattr(filters, name)
    }
    attendings = attendings.filter(**exact)
    # The JSON lists are matched as text ('"clerkship"' inside '["clerkship", ...]'): the
    # values are fixed choices, and unlike JSON containment this also runs on SQLite.
    if filters.rotation_type:
        attendings = attendings.alias(types_text=Cast("rotation_types", TextField())).filter(
            types_text__contains=f'"{filters.rotation_type}"'
        )
    if filters.mode:
        attendings = attendings.alias(modes_text=Cast("modes", TextField())).filter(
            modes_text__contains=f'"{filters.mode}"'
        )
    if filters.has_residency_program is not None:
        attendings = attendings.filter(has_residency_program=filters.has_residency_program)
    if filters.max_weekly_rate is not None:
        attendings = attendings.filter(weekly_rate__lte=filters.max_weekly_rate)
    if filters.weeks:
        attendings = attendings.filter(minimum_weeks__lte=filters.weeks)
    return attendings


def _free_weeks_by_attending(
    organization, candidates: QuerySet, earliest: date, latest_start: date | None
) -> dict[int, set[date]]:
    """Every candidate's free Mondays from ``earliest`` on, in one query."""
    weeks = free_weeks(organization).filter(
        attending__in=candidates.values("pk"), week_start__gte=earliest
    )
    if latest_start is not None:
        # A run starting on the last allowed day still needs up to MAX_WEEKS weeks.
        weeks = weeks.filter(week_start__lte=latest_start + timedelta(weeks=MAX_WEEKS - 1))
    free: dict[int, set[date]] = {}
    for attending_id, week_start in weeks.order_by().values_list("attending_id", "week_start"):
        free.setdefault(attending_id, set()).add(week_start)
    return free


def first_run_start(
    free: set[date], weeks: int, earliest: date, latest: date | None
) -> date | None:
    """The first Monday in [earliest, latest] that begins ``weeks`` consecutive free weeks."""
    for start in sorted(free):
        if start < earliest:
            continue
        if latest is not None and start > latest:
            return None
        if all(start + timedelta(weeks=n) in free for n in range(1, weeks)):
            return start
    return None


class SearchResults:
    """The ordered matches; slicing loads just those profiles, in one query, each with
    its ``search`` (a SearchHit). Django's and DRF's paginators take it as is."""

    def __init__(self, matches: list[_Match], *, surcharge_rate: Decimal, weeks_chosen: bool):
        self._matches = matches
        self._surcharge_rate = surcharge_rate
        self._weeks_chosen = weeks_chosen

    def __len__(self) -> int:
        return len(self._matches)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._load(self._matches[index])
        return self._load([self._matches[index]])[0]

    def __iter__(self):
        return iter(self._load(self._matches))

    @property
    def ids(self) -> list[int]:
        return [match.pk for match in self._matches]

    def _load(self, matches: list[_Match]) -> list[AttendingProfile]:
        if not matches:
            return []
        profiles = AttendingProfile.objects.defer("contact_email").in_bulk(
            [match.pk for match in matches]
        )
        loaded = []
        for match in matches:
            profile = profiles[match.pk]
            total, surcharge = price_quote(profile.weekly_rate, match.weeks, self._surcharge_rate)
            profile.search = SearchHit(
                weeks=match.weeks,
                weeks_chosen=self._weeks_chosen,
                total=total,
                card_surcharge=surcharge,
                first_start=match.first_start,
            )
            loaded.append(profile)
        return loaded


# --- One attending's weeks ---------------------------------------------------------


def published_weeks(attending: AttendingProfile, *, since: date | None = None) -> QuerySet:
    """The attending's published weeks from ``since`` (today) on, in date order."""
    since = since or timezone.localdate()
    return AvailabilityWeek.objects.filter(
        organization_id=attending.organization_id, attending=attending, week_start__gte=since
    ).order_by("week_start")


@dataclass(frozen=True)
class CalendarWeek:
    week_start: date
    capacity: int  # 0: not offered
    booked: int

    FREE = "free"
    FULL = "full"
    NOT_OFFERED = "not_offered"

    @property
    def week_end(self) -> date:
        return self.week_start + timedelta(days=6)

    @property
    def free(self) -> int:
        return self.capacity - self.booked

    @property
    def state(self) -> str:
        if not self.capacity:
            return self.NOT_OFFERED
        return self.FREE if self.free > 0 else self.FULL


def availability_calendar(
    attending: AttendingProfile, *, first_week: date | None = None, count: int = CALENDAR_WEEKS
) -> list[CalendarWeek]:
    """``count`` Mondays from the first bookable one, each free, full or not offered."""
    first_week = first_week or next_monday()
    mondays = [first_week + timedelta(weeks=n) for n in range(count)]
    published = {
        week.week_start: week
        for week in published_weeks(attending, since=first_week).filter(week_start__lte=mondays[-1])
    }
    return [
        CalendarWeek(
            monday,
            capacity=getattr(published.get(monday), "capacity", 0),
            booked=getattr(published.get(monday), "booked", 0),
        )
        for monday in mondays
    ]
