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
  attendings without one last. Sort ``reviewed`` (best reviewed, §15): the kept teaching
  average of the reviews that count descending, then their number; attendings without
  reviews last. Ties go to the lower rate, then name, then id.
- Eligibility (§13), for a student searching: each result carries ``eligibility``, one
  ``rotations.eligibility.Eligibility`` per rotation type (the type filtered on, else
  each type the attending offers), judged for a rotation starting on the earliest start
  asked for (A, at least next Monday). ``eligible_only`` keeps only the attendings for
  whom at least one of those types is eligible, in SQL (``eligibility.only_qualifying``,
  the same rules as the Python check); it is for students only (400 otherwise). Other
  members' results carry no eligibility.
- Cost, however many attendings match: a page is one query for its matches (``LIMIT``,
  read off an index in the common orders), one for its profiles and one for their
  requirement rows; the count is one more when the page's query cannot bring it. With
  the weeks filter the count reads the index ``listed_by_runs`` alone (no row), and a
  page in the soonest order reads only the attendings it shows when enough runs start
  on the window's first Monday (``MaskRunResults``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import connection
from django.db.models import F, QuerySet, TextField
from django.db.models.functions import Cast, Collate
from django.utils import timezone

from rotations import eligibility
from rotations.choices import RotationType
from rotations.free_weeks import MASK_WEEKS, first_free_week, soonest_free_week, stale
from rotations.models import MAX_WEEKS, AttendingProfile, AvailabilityWeek
from rotations.requirements import housing_by_type, housing_note, rows_for
from rotations.services import next_monday
from usdoctors.errors import Invalid
from usdoctors.money import card_surcharge, to_cents

SORT_PRICE = "price"
SORT_SOONEST = "soonest"
SORT_REVIEWED = "reviewed"
SORTS = {
    SORT_SOONEST: "Soonest start",
    SORT_PRICE: "Lowest weekly rate",
    SORT_REVIEWED: "Best reviewed",
}
# Results per page, the page's and the API's default (the API's page_size may ask for up
# to 100): a screenful on a phone, and what keeps a page quick to render.
PAGE_SIZE = 20
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
    eligible_only: bool = False

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
    # For a student: one answer per rotation type (module docstring); else empty.
    eligibility: tuple = ()
    # The rotation types shown (the one filtered on, else those offered) whose
    # requirement includes housing (§13).
    housing_types: tuple = ()
    housing_for_all: bool = False  # every type shown includes housing

    @property
    def housing_note(self) -> str:
        """ "Housing included", naming the types when not every type shown includes it."""
        return housing_note(self.housing_types, self.housing_for_all)

    @property
    def eligible_types(self) -> list:
        return [answer for answer in self.eligibility if answer.eligible]

    @property
    def ineligible_types(self) -> list:
        return [answer for answer in self.eligibility if not answer.eligible]


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
    return AttendingProfile.objects.filter(organization=organization, listed=True).defer(
        "contact_email"
    )


def search_attendings(
    organization, filters: SearchFilters | dict, *, student=None
) -> SearchResults:
    """Attendings matching ``filters``, sorted, priced (the rules are in this module's
    docstring). Returns a sequence whose ``len()`` is one COUNT and whose slices read one
    page (``LIMIT``/``OFFSET``) and its profiles: two queries per page at any page number,
    on PostgreSQL and SQLite alike. With ``student`` (a student membership) each result
    says whether they qualify, and ``eligible_only`` may keep only those."""
    if not isinstance(filters, SearchFilters):
        filters = SearchFilters.from_data(filters)
    earliest = max(filters.start_from or date.min, next_monday())
    candidates = _filtered(public_attendings(organization), filters)
    facts = None
    if student is not None and student.is_student:
        # The certificates held are read with the page (SearchResults._load).
        facts = eligibility.facts_from(student, on=earliest, held=())
    if filters.eligible_only:
        if facts is None:
            raise Invalid(
                "Only students can show only the attendings they qualify for.",
                code="eligible_only_for_students",
                field="eligible_only",
            )
        candidates = eligibility.only_qualifying(
            candidates, facts, organization, filters.rotation_type
        )
    surcharge = organization.card_surcharge_rate
    if not filters.weeks_filter_applies:
        results = SoonestFreeWeekResults(candidates, filters, earliest, surcharge)
    elif connection.vendor == "postgresql":
        results = MaskRunResults(organization, candidates, filters, earliest, surcharge)
    else:
        results = RunResults(organization, candidates, filters, earliest, surcharge)
    results.judge_for(organization, facts)
    return results


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


def name_order(field: str = "display_name"):
    """Names sort by code point on every database (PostgreSQL's "C" collation, SQLite's
    default), so a page's order never depends on the server's locale."""
    if connection.vendor == "postgresql":
        return Collate(field, "C")
    return F(field)


class SearchPaginator(Paginator):
    """Django's paginator over ``SearchResults``: a page within range is read with its
    count in one query (``page_with_count``); only a page past the end needs the count
    first, to fall back as Django's paginator does."""

    def page(self, number):
        try:
            wanted = int(number)
        except (TypeError, ValueError):
            return super().page(number)  # Django's own message for a page that is not a number
        if wanted >= 1 and isinstance(self.object_list, SearchResults):
            offset = (wanted - 1) * self.per_page
            profiles = self.object_list.page_with_count(offset, self.per_page)
            if profiles or wanted == 1:
                self.__dict__["count"] = self.object_list.count()
                return self._get_page(profiles, wanted, self)
        return super().page(number)

    def get_page(self, number):
        """As Django's, without counting before reading the page (``page``)."""
        try:
            return self.page(number)
        except (PageNotAnInteger, EmptyPage):
            return super().get_page(number)


class SearchResults:
    """The ordered matches. ``len()`` counts them in one query; a slice reads that page's
    ``(id, weeks, first start)`` in one query and the profiles in one more, each with its
    ``search`` (a SearchHit). Django's and DRF's paginators take it as is."""

    def __init__(self, filters: SearchFilters, surcharge_rate: Decimal):
        self.filters = filters
        self._surcharge_rate = surcharge_rate
        self._count: int | None = None
        self._organization = None
        self._facts = None

    def judge_for(self, organization, facts) -> None:
        """Each page's results say whether the student of ``facts`` qualifies (None: no
        student, nothing said)."""
        self._organization, self._facts = organization, facts

    def _eligibility_types(self, profile: AttendingProfile) -> list[str]:
        if self.filters.rotation_type:
            return [self.filters.rotation_type]
        return [value for value in RotationType.values if value in profile.rotation_types]

    def count(self) -> int:
        if self._count is None:
            self._count = self._count_matches()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if isinstance(index, slice):
            if index.step not in (None, 1):
                raise ValueError("Search results slice without a step.")
            offset = index.start or 0
            stop = index.stop if index.stop is not None else self.count()
            if offset < 0 or stop < 0:
                raise ValueError("Search results slice with non-negative bounds.")
            return self._load(self._page(offset, max(stop - offset, 0)))
        matches = self._page(index, 1)
        if not matches:
            raise IndexError(index)
        return self._load(matches)[0]

    def __iter__(self):
        return iter(self[0 : self.count()])

    @property
    def ids(self) -> list[int]:
        return [match.pk for match in self._page(0, self.count())]

    def page_with_count(self, offset: int, limit: int) -> list[AttendingProfile]:
        """One page and the number of matches from the same query (``COUNT(*) OVER ()``),
        for ``SearchPaginator``: a page costs that query and the profiles', whatever its
        number. Past the last page the count comes from a query of its own."""
        matches, total = self._page(offset, limit, with_total=True)
        if matches and total is not None:
            self._count = total
        return self._load(matches)

    def _count_matches(self) -> int:
        raise NotImplementedError

    def _page(self, offset: int, limit: int, *, with_total: bool = False):
        """The matches ``offset`` to ``offset + limit`` in order (one query); with
        ``with_total``, ``(matches, number of matches)``."""
        raise NotImplementedError

    def _load(self, matches: list[_Match]) -> list[AttendingProfile]:
        if not matches:
            return []
        profiles = AttendingProfile.objects.defer("contact_email")
        if self._facts is not None:
            profiles = profiles.annotate(**eligibility.held_annotations(self._facts))
        profiles = profiles.in_bulk([match.pk for match in matches])
        # The requirement rows of the page: one query, for housing and eligibility (§13).
        rows = rows_for(next(iter(profiles.values())).organization_id, list(profiles))
        judged = {}
        if self._facts is not None:
            facts = eligibility.with_held_from(self._facts, next(iter(profiles.values())))
            judged = eligibility.judge_many(
                facts, self._organization, profiles.values(), self._eligibility_types, rows=rows
            )
        loaded = []
        for match in matches:
            profile = profiles[match.pk]
            total, surcharge = price_quote(profile.weekly_rate, match.weeks, self._surcharge_rate)
            shown = self._eligibility_types(profile)
            housing = housing_by_type(rows, profile.pk, shown)
            profile.search = SearchHit(
                housing_types=tuple(housing),
                housing_for_all=bool(shown) and len(housing) == len(shown),
                weeks=match.weeks,
                weeks_chosen=self.filters.weeks is not None,
                total=total,
                card_surcharge=surcharge,
                first_start=match.first_start,
                eligibility=tuple(judged.get(match.pk, ())),
            )
            loaded.append(profile)
        return loaded


class SoonestFreeWeekResults(SearchResults):
    """No weeks filter: every candidate matches, with its soonest free week from next
    Monday. Attendings whose summary was kept from next Monday (rotations.free_weeks)
    have it kept: the index ``listed_by_soonest`` hands them over in order, so a page
    reads ``offset + limit`` index entries. The others (kept before this week began, not
    kept yet) are looked up one by one and merged in: one query either way."""

    def __init__(self, candidates, filters, earliest, surcharge_rate):
        super().__init__(filters, surcharge_rate)
        self.candidates = candidates
        self.earliest = earliest

    def _count_matches(self) -> int:
        return self.candidates.count()

    def _page(self, offset: int, limit: int, *, with_total: bool = False):
        if limit <= 0:
            return ([], None) if with_total else []
        columns = ("pk", "weekly_rate", "display_name", "minimum_weeks", "first_start")
        if self.filters.sort in (SORT_PRICE, SORT_REVIEWED):
            order = ("weekly_rate", name_order(), "pk")
            if self.filters.sort == SORT_REVIEWED:  # the index listed_by_reviews
                order = ("-review_average", "-review_count", *order)
            rows = (
                self.candidates.annotate(first_start=soonest_free_week(self.earliest))
                .order_by(*order)
                .values_list(*columns)[offset : offset + limit]
            )
        else:
            rows = self._soonest_rows(columns, offset, limit)
        weeks = self.filters.weeks
        matches = [
            _Match(pk, Decimal(rate), name, weeks or minimum_weeks, _as_date(start))
            for pk, rate, name, minimum_weeks, start in rows
        ]
        # Every candidate matches: the index answers the page alone (LIMIT), and counting
        # them apart costs less than a window over all of them.
        return (matches, None) if with_total else matches

    def _soonest_rows(self, columns, offset: int, limit: int) -> list[tuple]:
        kept = (
            self.candidates.filter(next_free_week_from=self.earliest)
            .annotate(first_start=F("next_free_week"))
            .order_by(F("next_free_week").asc(nulls_last=True), "weekly_rate", name_order(), "pk")
            .values_list(*columns)[: offset + limit]
        )
        looked_up = (
            self.candidates.filter(stale(self.earliest))
            .annotate(first_start=first_free_week(self.earliest))
            .values_list(*columns)
        )
        kept_sql, kept_params = kept.query.sql_with_params()
        looked_up_sql, looked_up_params = looked_up.query.sql_with_params()
        sql = (
            f"SELECT * FROM (SELECT * FROM ({kept_sql}) k "
            f"UNION ALL SELECT * FROM ({looked_up_sql}) l) u "
            f"ORDER BY u.first_start IS NULL, u.first_start, u.weekly_rate, "
            f"{_name_sql('u.display_name')}, u.pk LIMIT %s OFFSET %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*kept_params, *looked_up_params, limit, offset])
            return cursor.fetchall()


def _name_sql(column: str) -> str:
    """``name_order`` in raw SQL."""
    return f'{column} COLLATE "C"' if connection.vendor == "postgresql" else column


def _order_sql(sort: str, first_start: str) -> str:
    """The weeks filter's ORDER BY over candidates ``c`` (the sorts of this module's
    docstring), ``first_start`` naming the first start's column."""
    name = _name_sql("c.display_name")
    if sort == SORT_PRICE:
        return f"c.weekly_rate, {name}, c.id"
    if sort == SORT_REVIEWED:
        return f"c.review_average DESC, c.review_count DESC, c.weekly_rate, {name}, c.id"
    return f"{first_start}, c.weekly_rate, {name}, c.id"


# N consecutive free weeks starting in [A, B]: weeks whose kept free run is N or more
# (rotations.free_weeks), read from the partial index free_runs, grouped per attending
# to its first such Monday, then joined to the filtered candidates. Without a chosen N
# the attending's minimum applies, so the grouping joins the profiles first.
RUN_STARTS_SQL = """
WITH c AS NOT MATERIALIZED ({candidates}),
starts AS (
    SELECT w.attending_id, MIN(w.week_start) AS first_start
    FROM rotations_availabilityweek w {minimum_join}
    WHERE w.organization_id = %s AND w.week_start >= %s {before} AND w.free_run >= %s
      AND w.attending_id IN (SELECT id FROM c)
    GROUP BY w.attending_id
)
SELECT {columns}
FROM starts s JOIN c ON c.id = s.attending_id
"""
# The kept review summary (§15) that the "best reviewed" order reads.
REVIEW_COLUMNS = ("review_average", "review_count")
MINIMUM_JOIN = (
    "JOIN rotations_attendingprofile m ON m.id = w.attending_id AND w.free_run >= m.minimum_weeks"
)


class RunResults(SearchResults):
    """The weeks filter: candidates with N consecutive free weeks whose first Monday
    falls in [A, B], each with its first such Monday (``RUN_STARTS_SQL``); counted,
    sorted and limited by the database (PostgreSQL and SQLite alike)."""

    def __init__(self, organization, candidates, filters, earliest, surcharge_rate):
        super().__init__(filters, surcharge_rate)
        self.organization = organization
        self.candidates = candidates
        self.earliest = earliest

    def _query(self, columns: str) -> tuple[str, list]:
        candidates_sql, candidates_params = self.candidates.values(
            "id", "weekly_rate", "display_name", "minimum_weeks", *REVIEW_COLUMNS
        ).query.sql_with_params()
        params: list = [self.organization.pk, self.earliest]
        before = ""
        if self.filters.start_to is not None:
            before = "AND w.week_start <= %s"
            params.append(self.filters.start_to)
        params.append(self.filters.weeks or 1)
        sql = RUN_STARTS_SQL.format(
            minimum_join="" if self.filters.weeks else MINIMUM_JOIN,
            before=before,
            columns=columns,
            candidates=candidates_sql,
        )
        return sql, [*candidates_params, *params]

    def _count_matches(self) -> int:
        sql, params = self._query("COUNT(*)")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]

    def _page(self, offset: int, limit: int, *, with_total: bool = False):
        if limit <= 0:
            return ([], None) if with_total else []
        sql, params = self._query(
            "c.id, c.weekly_rate, c.display_name, c.minimum_weeks, s.first_start, "
            "COUNT(*) OVER () AS total"
        )
        order = _order_sql(self.filters.sort, "s.first_start")
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} ORDER BY {order} LIMIT %s OFFSET %s", [*params, limit, offset])
            rows = cursor.fetchall()
        weeks = self.filters.weeks
        matches = [
            _Match(pk, Decimal(rate), name, weeks or minimum_weeks, _as_date(start))
            for pk, rate, name, minimum_weeks, start, _ in rows
        ]
        return (matches, rows[0][-1] if rows else None) if with_total else matches


@dataclass(frozen=True)
class _MaskSql:
    """The pieces of ``MaskRunResults``' SQL, over candidates aliased ``c``."""

    candidates: str  # the filtered candidates' SELECT
    params: list
    kept: str  # the mask answers for this attending
    not_kept: str  # its negation, as index ranges
    run_mask: str  # bit i: a qualifying run starts at the week base + i
    window: int  # the bits of [A, B]
    first_bit: int
    looked_up: str  # for an attending not kept: its first start, from its weeks
    base: date

    @property
    def matches(self) -> str:
        return (
            f"CASE WHEN {self.kept} THEN ({self.run_mask} & {self.window}) <> 0 "
            f"ELSE {self.looked_up} IS NOT NULL END"
        )

    @property
    def first_start(self) -> str:
        hit = f"({self.run_mask} & {self.window})"
        # The lowest bit of hit, as a week from base.
        from_mask = (
            f"CASE WHEN {hit} = 0 THEN NULL ELSE DATE '{self.base.isoformat()}' "
            f"+ 7 * round(ln(({hit} & -{hit})::float8) / ln(2.0))::int END"
        )
        return f"CASE WHEN {self.kept} THEN {from_mask} ELSE {self.looked_up} END"

    @property
    def first_monday(self) -> date:
        """The window's first Monday: where most runs start when weeks are mostly free."""
        return self.base + timedelta(weeks=self.first_bit)

    @property
    def starts_first_monday(self) -> str:
        return (
            f"CASE WHEN {self.kept} THEN ({self.run_mask} & {1 << self.first_bit}) <> 0 "
            f"ELSE {self.looked_up} = DATE '{self.first_monday.isoformat()}' END"
        )


class MaskRunResults(RunResults):
    """The weeks filter on PostgreSQL, from each attending's kept free-week mask
    (rotations.free_weeks) instead of its weeks.

    With F the mask (bit i: the week ``base + i`` is free), the N-week runs start at the
    bits of ``F & F>>1 & … & F>>(N-1)``; masked to the bits of [A, B], the lowest bit
    left is the first start. The mask answers for an attending kept from next Monday
    (the base every attending has once kept this week, so the bits of [A, B] are the same
    for all) when no run it cannot see could count: no free week past the mask, or B
    early enough that a run starting by B ends inside it. Otherwise (kept before this
    week began, or not kept) the attending's weeks are looked up (the ``free_runs``
    rows), as ``RunResults`` does for all.

    The count is its own query, read first, which the index ``listed_by_runs`` answers
    alone. When the matches are at least twice ``offset + limit``, a page in the soonest
    order reads first the attendings whose run starts on the window's first Monday (most
    of them, when weeks are mostly free) in rate order straight off the index
    ``listed_by_rate``, so it stops after ``offset + limit`` of them; only when they are
    fewer does the same query sort the others by their first start."""

    @cached_property
    def _sql(self) -> _MaskSql:
        f = self.filters
        base = next_monday()
        horizon = MASK_WEEKS - 1
        # A's week rounds up, B's down: A and B need not be Mondays (B may even fall
        # before next Monday, leaving no week).
        first_bit = -(-(self.earliest - base).days // 7)
        last_bit = horizon if f.start_to is None else min((f.start_to - base).days // 7, horizon)
        window = (1 << (last_bit + 1)) - (1 << first_bit) if first_bit <= last_bit else 0
        if f.weeks:
            weeks = str(int(f.weeks))
            shifted = [f"(c.free_mask >> {shift})" for shift in range(1, f.weeks)]
            run_mask = f"({' & '.join(['c.free_mask', *shifted])})"
        else:  # the attending's minimum: the database keeps its runs (minimum_run_mask)
            weeks, run_mask = "c.minimum_weeks", "c.minimum_run_mask"
        past_mask = f"DATE '{(base + timedelta(weeks=horizon)).isoformat()}'"
        sees_every_run = f"c.last_free_week IS NULL OR c.last_free_week <= {past_mask}"
        misses_a_run = f"c.last_free_week > {past_mask}"
        if f.start_to is not None:
            # A run starting by B ends inside the mask for N up to this many weeks.
            short = f"{weeks} <= {horizon + 1 - (f.start_to - base).days // 7}"
            sees_every_run += f" OR {short}"
            misses_a_run += f" AND NOT {short}"
        kept_from = f"DATE '{base.isoformat()}'"
        latest = f"AND w.week_start <= DATE '{f.start_to.isoformat()}' " if f.start_to else ""
        looked_up = (
            "(SELECT MIN(w.week_start) FROM rotations_availabilityweek w "
            f"WHERE w.organization_id = {int(self.organization.pk)} AND w.attending_id = c.id "
            f"AND w.week_start >= DATE '{self.earliest.isoformat()}' {latest}"
            f"AND w.free_run >= {weeks})"
        )
        candidates, params = self.candidates.values(
            "id",
            "weekly_rate",
            "display_name",
            "minimum_weeks",
            "next_free_week_from",
            "free_mask",
            "minimum_run_mask",
            "last_free_week",
            *REVIEW_COLUMNS,
        ).query.sql_with_params()
        return _MaskSql(
            candidates=candidates,
            params=list(params),
            kept=f"(c.next_free_week_from = {kept_from} AND ({sees_every_run}))",
            # Ranges of the indexes listed_by_soonest and listed_by_runs (free_weeks.stale).
            not_kept=(
                f"(c.next_free_week_from IS NULL OR c.next_free_week_from < {kept_from} "
                f"OR c.next_free_week_from > {kept_from} "
                f"OR (c.next_free_week_from = {kept_from} AND {misses_a_run}))"
            ),
            run_mask=run_mask,
            window=window,
            first_bit=first_bit,
            looked_up=looked_up,
            base=base,
        )

    def _count_matches(self) -> int:
        """The kept attendings whose mask has a run in the window, counted off the index
        listed_by_runs alone, and the others whose weeks have one."""
        sql = self._sql
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT (SELECT COUNT(*) FROM ({sql.candidates}) c "
                f"WHERE {sql.kept} AND ({sql.run_mask} & {sql.window}) <> 0) + "
                f"(SELECT COUNT(*) FROM ({sql.candidates}) c "
                f"WHERE {sql.not_kept} AND {sql.looked_up} IS NOT NULL)",
                [*sql.params, *sql.params],
            )
            return cursor.fetchone()[0]

    def _page(self, offset: int, limit: int, *, with_total: bool = False):
        # Counted first (the count is cheap): no page to read past the last match, and
        # the first Monday's runs are read first only when they are likely to fill it.
        total = self.count()
        if limit <= 0 or offset >= total:
            return ([], total) if with_total else []
        sql = self._sql
        name = _name_sql("c.display_name")
        columns = "c.id, c.weekly_rate, c.display_name, c.minimum_weeks"
        first_monday_first = (
            self.filters.sort == SORT_SOONEST and sql.window and total >= 2 * (offset + limit)
        )
        if not first_monday_first:
            query = (
                f"SELECT {columns}, {sql.first_start} AS first_start "
                f"FROM ({sql.candidates}) c WHERE {sql.matches} "
                f"ORDER BY {_order_sql(self.filters.sort, 'first_start')} LIMIT %s OFFSET %s"
            )
            params = [*sql.params, limit, offset]
        else:
            first_monday = f"DATE '{sql.first_monday.isoformat()}'"
            wanted = offset + limit
            query = (
                "WITH f AS MATERIALIZED ("
                f"SELECT {columns}, {first_monday} AS first_start "
                f"FROM ({sql.candidates}) c WHERE {sql.starts_first_monday} "
                f"ORDER BY c.weekly_rate, {name}, c.id LIMIT {wanted}) "
                "SELECT id, weekly_rate, display_name, minimum_weeks, first_start FROM ("
                "SELECT f.*, 0 AS later FROM f UNION ALL "
                "SELECT c.*, 1 FROM ("
                f"SELECT * FROM (SELECT {columns}, {sql.first_start} AS first_start "
                f"FROM ({sql.candidates}) c OFFSET 0) c WHERE c.first_start > {first_monday} "
                f"ORDER BY c.first_start, c.weekly_rate, {name}, c.id LIMIT {wanted}) c "
                f"WHERE (SELECT COUNT(*) FROM f) < {wanted}) c "
                f"ORDER BY c.later, c.first_start, c.weekly_rate, {name}, c.id "
                "LIMIT %s OFFSET %s"
            )
            params = [*sql.params, *sql.params, limit, offset]
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            rows = cursor.fetchall()
        weeks = self.filters.weeks
        matches = [
            _Match(row[0], Decimal(row[1]), row[2], weeks or row[3], _as_date(row[-1]))
            for row in rows
        ]
        return (matches, total) if with_total else matches


def _as_date(value) -> date:
    """SQLite answers a raw query's dates as text."""
    return date.fromisoformat(value) if isinstance(value, str) else value


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
