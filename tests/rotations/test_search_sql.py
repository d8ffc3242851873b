"""Search in SQL (issue 10, DESIGN §4) against a plain reference written here.

The reference reads every profile (with its membership's role) and every availability
week from the database and applies the search rules literally in Python: it never reads
the kept ``free_run`` or ``next_free_week``, it recounts from booked, capacity and the
week dates. Hypothesis builds small random data sets in two organizations, changes them
through the services that keep the runs (book, release, publish, remove, role changes)
and around them (then ``rebuild_free_weeks``), moves the clock so the kept next free
week goes stale, and compares every page of random searches with the reference.

The query counts of the API and the page stay the same at page 1 and page 200.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
import time_machine
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from accounts.models import Membership, User
from rotations import search as search_module
from rotations.availability import plan_publish, publish_weeks, remove_week
from rotations.choices import Mode, PracticeSetting, RotationType
from rotations.free_weeks import rebuild_free_weeks
from rotations.locks import lock_weeks
from rotations.models import MAX_WEEKS, AttendingProfile, AvailabilityWeek
from rotations.search import SearchFilters, search_attendings
from rotations.services import book, release
from usdoctors.errors import Conflict
from usdoctors.models import Organization

pytestmark = pytest.mark.django_db

HYPOTHESIS = settings(
    max_examples=40,
    deadline=None,
    database=None,  # no .hypothesis folder in the worktree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SPECIALTIES = ["internal_medicine", "cardiology", "surgery"]
STATES = ["TX", "CA", "NY"]
RATES = [Decimal(rate) for rate in ("1.00", "300.00", "450.50", "500.00", "500.01", "900.00")]
REVIEW_AVERAGES = [Decimal(a) for a in ("1.00", "2.50", "3.67", "4.00", "4.33", "4.50", "5.00")]
# Duplicates, case, accents and a non-BMP character: ties go to the code point, then id.
NAMES = ["Dr. Ada", "dr. ada", "Dr. Ada", "Dr. Émile", "Dr. Zoe", "Dr. zoe", "Ärztin", "Dr. 𝔸"]
FIRST_OFFSET = -3  # weeks are written from three Mondays before next Monday
SLOTS = 24  # ... to twenty Mondays after it
FAR_OFFSET = 54  # and some around a year and a quarter ahead (past 60 weeks)
FAR_SLOTS = 14

_emails = itertools.count()


def monday_after(day: date) -> date:
    """The first Monday after ``day`` (a Monday gives the one a week later)."""
    return day + timedelta(days=7 - day.weekday())


def next_monday_now() -> date:
    return monday_after(timezone.localdate())


# --- The reference ----------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    pk: int
    organization_id: int
    role: str
    name: str
    specialty: str
    state: str
    setting: str
    has_residency_program: bool
    rotation_types: list
    modes: list
    weekly_rate: Decimal
    minimum_weeks: int
    # The kept review summary (§15), for the "best reviewed" order.
    review_average: Decimal = Decimal("0")
    review_count: int = 0


def load_everything() -> tuple[list[Row], dict[int, set[date]]]:
    """Every profile of every organization with its membership's role, and every
    attending's free weeks (published, booked < capacity), straight from the rows."""
    with scopes_disabled():
        rows = [
            Row(*values)
            for values in AttendingProfile.objects.values_list(
                "pk",
                "organization_id",
                "membership__role",
                "display_name",
                "specialty",
                "state",
                "setting",
                "has_residency_program",
                "rotation_types",
                "modes",
                "weekly_rate",
                "minimum_weeks",
                "review_average",
                "review_count",
            )
        ]
        free: dict[int, set[date]] = {}
        for attending_id, week_start, capacity, booked in AvailabilityWeek.objects.values_list(
            "attending_id", "week_start", "capacity", "booked"
        ):
            if booked < capacity:
                free.setdefault(attending_id, set()).add(week_start)
    return rows, free


def reference(organization, filters: SearchFilters, everything) -> list[tuple[int, date, int]]:
    """``(attending id, first_start, weeks priced)`` in order, by the rules as written."""
    rows, free = everything
    earliest = max(filters.start_from or date.min, next_monday_now())
    window = bool(filters.weeks or filters.start_from or filters.start_to)
    found = []
    for row in rows:
        if row.organization_id != organization.pk or row.role != "attending":
            continue
        if filters.specialty and row.specialty != filters.specialty:
            continue
        if filters.state and row.state != filters.state:
            continue
        if filters.setting and row.setting != filters.setting:
            continue
        if filters.rotation_type and filters.rotation_type not in row.rotation_types:
            continue
        if filters.mode and filters.mode not in row.modes:
            continue
        if (
            filters.has_residency_program is not None
            and row.has_residency_program != filters.has_residency_program
        ):
            continue
        if filters.max_weekly_rate is not None and row.weekly_rate > filters.max_weekly_rate:
            continue
        weeks = filters.weeks or row.minimum_weeks
        mine = free.get(row.pk, set())
        if window:
            if filters.weeks is not None and filters.weeks < row.minimum_weeks:
                continue
            starts = [
                start
                for start in mine
                if start >= earliest
                and (filters.start_to is None or start <= filters.start_to)
                and all(start + timedelta(weeks=k) in mine for k in range(weeks))
            ]
            if not starts:
                continue
            first_start = min(starts)
        else:
            first_start = min((start for start in mine if start >= earliest), default=None)
        found.append((row, first_start, weeks))
    if filters.sort == "price":
        found.sort(key=lambda hit: (hit[0].weekly_rate, hit[0].name, hit[0].pk))
    elif filters.sort == "reviewed":
        found.sort(
            key=lambda hit: (
                -hit[0].review_average,
                -hit[0].review_count,
                hit[0].weekly_rate,
                hit[0].name,
                hit[0].pk,
            )
        )
    else:
        found.sort(
            key=lambda hit: (
                hit[1] is None,
                hit[1] or date.min,
                hit[0].weekly_rate,
                hit[0].name,
                hit[0].pk,
            )
        )
    return [(row.pk, first_start, weeks) for row, first_start, weeks in found]


def test_the_reference_reads_the_rules_as_written(demo):
    """A hand-made case, so the reference itself is known to be right."""
    org = demo["org"]
    nm = next_monday_now()
    a = Row(1, org.pk, "attending", "B", "surgery", "TX", "community", False, [], [], 5, 2)
    b = Row(2, org.pk, "attending", "A", "surgery", "TX", "community", False, [], [], 5, 1)
    c = Row(3, org.pk, "student", "C", "surgery", "TX", "community", False, [], [], 1, 1)
    d = Row(4, org.pk + 1, "attending", "D", "surgery", "TX", "community", False, [], [], 1, 1)
    week = timedelta(weeks=1)
    free = {
        1: {nm, nm + week, nm + 3 * week, nm + 4 * week},
        2: {nm + 4 * week, nm - week},
        3: {nm},
        4: {nm},
    }
    everything = ([a, b, c, d], free)
    assert reference(org, SearchFilters(), everything) == [(1, nm, 2), (2, nm + 4 * week, 1)]
    assert reference(org, SearchFilters(sort="price"), everything) == [
        (2, nm + 4 * week, 1),
        (1, nm, 2),
    ]
    assert reference(org, SearchFilters(weeks=2), everything) == [(1, nm, 2)]
    assert reference(org, SearchFilters(weeks=1), everything) == [(2, nm + 4 * week, 1)]
    assert reference(org, SearchFilters(start_from=nm + week), everything) == [
        (1, nm + 3 * week, 2),
        (2, nm + 4 * week, 1),
    ]
    assert reference(org, SearchFilters(start_to=nm + 2 * week), everything) == [(1, nm, 2)]


# --- Random data ------------------------------------------------------------------------


def week_slot(kind: int, capacity: int, booked: int):
    """None: not published; else (capacity, booked), full one time in ten."""
    if kind == 0:
        return None
    if kind == 1:
        return (capacity, capacity)
    return (capacity, min(booked, capacity - 1))


SLOT = st.builds(week_slot, st.integers(0, 9), st.integers(1, 3), st.integers(0, 3))

ATTENDING = st.fixed_dictionaries(
    {
        "other_org": st.integers(0, 3).map(lambda n: n == 0),
        "role": st.sampled_from(["attending"] * 5 + ["student", "admin"]),
        "display_name": st.sampled_from(NAMES),
        "specialty": st.sampled_from(SPECIALTIES),
        "state": st.sampled_from(STATES),
        "setting": st.sampled_from(PracticeSetting.values),
        "has_residency_program": st.booleans(),
        "rotation_types": st.lists(st.sampled_from(RotationType.values), unique=True),
        "modes": st.lists(st.sampled_from(Mode.values), unique=True),
        "weekly_rate": st.sampled_from(RATES),
        "minimum_weeks": st.one_of(st.integers(1, 3), st.integers(1, 3), st.integers(1, MAX_WEEKS)),
        "weeks": st.lists(SLOT, max_size=SLOTS),
        "far_weeks": st.one_of(st.just([]), st.lists(SLOT, max_size=FAR_SLOTS)),
    }
)
DATA = st.lists(ATTENDING, min_size=2, max_size=12)


def optional(strategy):
    return st.one_of(st.none(), strategy)


def seldom(values: list, empty=""):
    """Any (``empty``) three times in four: searches that keep some attendings."""
    return st.one_of(st.just(empty), st.just(empty), st.just(empty), st.sampled_from(values))


WINDOW_WEEKS = st.one_of(
    st.integers(-2, 21),
    st.integers(-2, 21),
    st.integers(FAR_OFFSET - 2, FAR_OFFSET + FAR_SLOTS + 2),
)
FILTERS = st.fixed_dictionaries(
    {
        "specialty": seldom(SPECIALTIES),
        "state": seldom(STATES),
        "setting": seldom(PracticeSetting.values),
        "rotation_type": seldom(RotationType.values),
        "mode": seldom(Mode.values),
        "has_residency_program": seldom([True, False], None),
        "max_weekly_rate": seldom(RATES, None),
        "weeks": optional(st.one_of(st.integers(1, 3), st.integers(1, MAX_WEEKS))),
        # (weeks, days) after next Monday: near the weeks written, often not a Monday,
        # sometimes before next Monday or around the far weeks.
        "start_from": optional(st.tuples(WINDOW_WEEKS, st.integers(0, 6))),
        "start_to": optional(st.tuples(WINDOW_WEEKS, st.integers(0, 6))),
        "sort": st.sampled_from(["soonest", "price", "reviewed"]),
        "page_size": st.integers(1, 5),
    }
)
SEARCHES = st.lists(FILTERS, min_size=1, max_size=5)

# Changes through the services, each naming an attending by index and weeks by offset
# from the next Monday at the time of the change.
OFFSET = st.one_of(st.integers(-3, 20), st.integers(FAR_OFFSET, FAR_OFFSET + FAR_SLOTS))
FUTURE = st.one_of(st.integers(0, 20), st.integers(FAR_OFFSET, FAR_OFFSET + FAR_SLOTS))
CHANGE = st.one_of(
    st.tuples(st.just("book"), st.integers(0, 11), OFFSET, st.integers(1, 3)),
    st.tuples(st.just("fill"), st.integers(0, 11), OFFSET, st.integers(1, 3)),
    st.tuples(st.just("release"), st.integers(0, 11), OFFSET, st.integers(1, 3)),
    st.tuples(st.just("publish"), st.integers(0, 11), FUTURE, st.integers(1, 4), st.integers(1, 3)),
    st.tuples(st.just("remove"), st.integers(0, 11), OFFSET),
    st.tuples(st.just("role"), st.integers(0, 11), st.sampled_from(["attending", "student"])),
)
CHANGES = st.lists(CHANGE, max_size=12)

# Changes written around the services, followed by rebuild_free_weeks.
RAW = st.one_of(
    st.tuples(st.just("set_booked"), st.integers(0, 11), OFFSET, st.booleans()),
    st.tuples(st.just("add"), st.integers(0, 11), OFFSET, st.integers(1, 3)),
    st.tuples(st.just("delete"), st.integers(0, 11), OFFSET),
)
RAWS = st.lists(RAW, max_size=6)


ATTENDING_DEFAULTS = {
    "other_org": False,
    "role": "attending",
    "display_name": "Dr. Ada",
    "specialty": SPECIALTIES[0],
    "state": STATES[0],
    "setting": PracticeSetting.values[0],
    "has_residency_program": False,
    "rotation_types": RotationType.values,
    "modes": Mode.values,
    "weekly_rate": Decimal("500.00"),
    "minimum_weeks": 1,
    "weeks": [],
    "far_weeks": [],
}


def build(organizations: dict, data: list[dict]) -> list[AttendingProfile]:
    """The attendings and their weeks (bulk-written, then counted by rebuild_free_weeks),
    plus a decoy in the other organization that matches any search, cheapest and soonest."""
    nm = next_monday_now()
    decoy = {
        **ATTENDING_DEFAULTS,
        "other_org": True,
        "display_name": "Dr. Decoy",
        "weekly_rate": Decimal("0.50"),
        "weeks": [(3, 0)] * SLOTS,
        "far_weeks": [(3, 0)] * FAR_SLOTS,
    }
    profiles = []
    weeks = []
    with scopes_disabled():
        for spec in [*data, decoy]:
            organization = organizations["other" if spec["other_org"] else "own"]
            user = User.objects.create(email=f"search-sql-{next(_emails)}@example.test")
            membership = Membership.objects.create(
                organization=organization, user=user, role=spec["role"]
            )
            profile = AttendingProfile(
                organization=organization,
                membership=membership,
                display_name=spec["display_name"],
                specialty=spec["specialty"],
                setting=spec["setting"],
                care_setting="both",
                city="Houston",
                state=spec["state"],
                has_residency_program=spec["has_residency_program"],
                rotation_types=spec["rotation_types"],
                modes=spec["modes"],
                weekly_rate=spec["weekly_rate"],
                minimum_weeks=spec["minimum_weeks"],
            )
            profile.save()
            profiles.append(profile)
            for first, slots in ((FIRST_OFFSET, spec["weeks"]), (FAR_OFFSET, spec["far_weeks"])):
                weeks += [
                    AvailabilityWeek(
                        organization=organization,
                        attending=profile,
                        week_start=nm + timedelta(weeks=first + number),
                        capacity=slot[0],
                        booked=slot[1],
                    )
                    for number, slot in enumerate(slots)
                    if slot is not None
                ]
        AvailabilityWeek.objects.bulk_create(weeks)
        rebuild_free_weeks([profile.pk for profile in profiles])
    return profiles


def apply_changes(profiles: list[AttendingProfile], changes) -> None:
    """Book, release, publish, remove and change roles through the services; a refusal
    (409) leaves everything as it was."""
    nm = next_monday_now()
    with scopes_disabled():
        for change in changes:
            kind, index = change[0], change[1] % len(profiles)
            attending = profiles[index]
            try:
                if kind in ("book", "fill", "release"):
                    starts = [nm + timedelta(weeks=change[2] + k) for k in range(change[3])]
                    for _ in range(3 if kind == "fill" else 1):
                        with transaction.atomic():
                            locked = lock_weeks(attending, starts)
                            if kind == "release":
                                release(locked, starts)
                            else:
                                book(attending, locked, starts)
                elif kind == "publish":
                    first = nm + timedelta(weeks=change[2])
                    arguments = {
                        "first_week": first,
                        "last_week": first + timedelta(weeks=change[3] - 1),
                        "capacity": change[4],
                    }
                    # The attending confirms the capacity changes the preview lists (§4).
                    confirmed = plan_publish(attending, **arguments).confirmation
                    publish_weeks(attending, **arguments, confirmed=confirmed)
                elif kind == "remove":
                    week = AvailabilityWeek.objects.filter(
                        attending=attending, week_start=nm + timedelta(weeks=change[2])
                    ).first()
                    if week is not None:
                        remove_week(week, by=attending.membership)
                elif kind == "role":
                    attending.membership.role = change[2]
                    attending.membership.save()
            except Conflict:
                pass


def apply_raw(profiles: list[AttendingProfile], raws) -> None:
    """Weeks written around the services, then counted again by rebuild_free_weeks."""
    nm = next_monday_now()
    touched = set()
    with scopes_disabled():
        for kind, index, offset, *rest in raws:
            attending = profiles[index % len(profiles)]
            start = nm + timedelta(weeks=offset)
            weeks = AvailabilityWeek.objects.filter(attending=attending, week_start=start)
            if kind == "set_booked":
                weeks.update(booked=F("capacity") if rest[0] else 0)
            elif kind == "add" and not weeks.exists():
                AvailabilityWeek.objects.bulk_create(
                    [
                        AvailabilityWeek(
                            organization_id=attending.organization_id,
                            attending=attending,
                            week_start=start,
                            capacity=rest[0],
                        )
                    ]
                )
            elif kind == "delete":
                weeks.delete()
            touched.add(attending.pk)
        rebuild_free_weeks(touched)


def make_filters(spec: dict) -> SearchFilters:
    """The search ``spec`` asks for, its window counted from next Monday as it is now."""
    nm = next_monday_now()
    start_from, start_to = (
        None if spec[key] is None else nm + timedelta(weeks=spec[key][0], days=spec[key][1])
        for key in ("start_from", "start_to")
    )
    if start_from is not None and start_to is not None and start_to < start_from:
        start_from, start_to = start_to, start_from
    values = {key: value for key, value in spec.items() if key != "page_size"}
    return SearchFilters(**{**values, "start_from": start_from, "start_to": start_to})


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def assert_search_matches_reference(organization, searches) -> None:
    everything = load_everything()
    rates = {row.pk: row.weekly_rate for row in everything[0]}
    for spec in searches:
        filters = make_filters(spec)
        expected = reference(organization, filters, everything)
        size = spec["page_size"]
        with scope(organization=organization):
            results = search_attendings(organization, filters)
            assert len(results) == len(expected), (filters, expected)
            for offset in range(0, len(expected) + size, size):
                page = results[offset : offset + size]
                got = [(hit.pk, hit.search.first_start, hit.search.weeks) for hit in page]
                assert got == expected[offset : offset + size], (filters, offset, expected)
                for hit in page:
                    assert hit.organization_id == organization.pk
                    assert hit.search.weeks_chosen == (filters.weeks is not None)
                    assert hit.search.total == cents(rates[hit.pk] * hit.search.weeks)
            whole = [(hit.pk, hit.search.first_start, hit.search.weeks) for hit in results]
            assert whole == expected, filters
            # The paginator the page and the API use (a page may bring its own count).
            paginator_class = getattr(search_module, "SearchPaginator", Paginator)
            for number in range(1, len(expected) // size + 2):
                paginator = paginator_class(search_attendings(organization, filters), size)
                page = paginator.get_page(number)
                last = max(1, -(-len(expected) // size))
                start = (min(number, last) - 1) * size
                got = [(hit.pk, hit.search.first_start, hit.search.weeks) for hit in page]
                assert got == expected[start : start + size], (filters, number, expected)
                assert paginator.count == len(expected), (filters, number)


@pytest.fixture
def organizations(demo, northside):
    return {"own": demo["org"], "other": northside["org"]}


def run_in_savepoint(check) -> None:
    """One Hypothesis example's rows, rolled back when it ends (pass or fail)."""
    with transaction.atomic():
        check()
        transaction.set_rollback(True)


@HYPOTHESIS
@given(data=DATA, searches=SEARCHES, changes=CHANGES, raws=RAWS)
def test_sql_search_gives_the_references_answers(organizations, data, searches, changes, raws):
    def check():
        note(f"data={data!r}\nsearches={searches!r}\nchanges={changes!r}\nraws={raws!r}")
        own = organizations["own"]
        profiles = build(organizations, data)
        assert_search_matches_reference(own, searches)
        apply_changes(profiles, changes)  # weeks fill up and come free
        assert_search_matches_reference(own, searches)
        apply_raw(profiles, raws)  # written around the services, then recounted
        assert_search_matches_reference(own, searches)

    run_in_savepoint(check)


@settings(HYPOTHESIS, max_examples=20)
@given(
    data=DATA,
    searches=SEARCHES,
    changes=CHANGES,
    days=st.integers(1, 45),
    later_changes=CHANGES,
)
def test_sql_search_is_right_when_the_kept_next_free_week_is_stale(
    organizations, data, searches, changes, days, later_changes
):
    """The clock moves on after the weeks were kept: the kept next free week may have
    passed (or was kept from an earlier Monday); search still answers right, and so it
    does after more changes under the new date."""

    def check():
        note(f"data={data!r}\nsearches={searches!r}\nchanges={changes!r}")
        note(f"days={days!r}\nlater_changes={later_changes!r}")
        own = organizations["own"]
        profiles = build(organizations, data)
        apply_changes(profiles, changes)
        with time_machine.travel(timezone.now() + timedelta(days=days), tick=False):
            assert_search_matches_reference(own, searches)
            apply_changes(profiles, later_changes)
            assert_search_matches_reference(own, searches)

    run_in_savepoint(check)


def test_other_organization_rows_never_show(organizations):
    """The decoy of the other organization is cheapest and soonest: it never appears."""
    own = organizations["own"]
    with transaction.atomic():
        build(organizations, [])
        with scope(organization=own):
            for filters in (SearchFilters(), SearchFilters(weeks=1, sort="price")):
                assert list(search_attendings(own, filters)) == []
        transaction.set_rollback(True)


# --- Two windows the Monday arithmetic must get right (found by the properties) ------


def test_a_window_starting_mid_week_leaves_out_the_monday_before(organizations):
    """A is a Wednesday: a run starting the Monday before it does not start in [A, B]."""
    own = organizations["own"]
    nm = next_monday_now()
    spec = {**ATTENDING_DEFAULTS, "weeks": [None] * -FIRST_OFFSET + [(2, 0)] * 3}
    build(organizations, [spec])  # free weeks: next Monday and the two after
    filters = SearchFilters(start_from=nm + timedelta(days=2))
    [(pk, first_start, weeks)] = reference(own, filters, load_everything())
    assert first_start == nm + timedelta(weeks=1)
    with scope(organization=own):
        got = [
            (hit.pk, hit.search.first_start, hit.search.weeks)
            for hit in search_attendings(own, filters)
        ]
    assert got == [(pk, nm + timedelta(weeks=1), 1)]


def test_a_window_ending_before_next_monday_finds_nothing(organizations):
    """B falls before the first bookable Monday: no run can start in [A, B]."""
    own = organizations["own"]
    nm = next_monday_now()
    spec = {**ATTENDING_DEFAULTS, "weeks": [None] * -FIRST_OFFSET + [(2, 0)] * 3}
    build(organizations, [spec])
    filters = SearchFilters(start_to=nm - timedelta(days=2))
    with scope(organization=own):
        assert list(search_attendings(own, filters)) == []
    assert reference(own, filters, load_everything()) == []


def test_a_window_page_runs_on_from_the_first_mondays_starts_to_later_ones(organizations):
    """In the soonest order, a window's pages read the runs starting on its first Monday
    first (rate order), then the later starts: every page, sizes 1 to 4, as the
    reference, with the first Monday's runs fewer than, as many as and more than a page."""
    own = organizations["own"]
    free, full = (2, 0), (2, 2)
    before = [None] * -FIRST_OFFSET
    data = [
        {
            **ATTENDING_DEFAULTS,
            "display_name": f"Dr. {'ABCDEFGHIJ'[n]}",
            "weekly_rate": RATES[n % len(RATES)],
            # Three start on the window's first Monday; the others one to four weeks on.
            "weeks": before + ([free] * 6 if n < 3 else [full] * (n % 4 + 1) + [free] * 4),
        }
        for n in range(10)
    ]
    build(organizations, data)
    searches = [
        {
            "specialty": "",
            "state": "",
            "setting": "",
            "rotation_type": "",
            "mode": "",
            "has_residency_program": None,
            "max_weekly_rate": None,
            "weeks": weeks,
            "start_from": (0, 0),
            "start_to": (8, 0),
            "sort": "soonest",
            "page_size": size,
        }
        for weeks in (None, 2)
        for size in (1, 2, 3, 4)
    ]
    assert_search_matches_reference(own, searches)


# --- Query counts at page 1 and page 200 ----------------------------------------------

PAGE_SIZE = 10  # the API's page_size parameter; the page's size is set to it below
PAGES = 200
MANY = PAGE_SIZE * PAGES  # exactly 200 pages of results


def build_many(organization: Organization, count: int) -> list[int]:
    """``count`` attendings in bulk, each with three free weeks in a row (every one of
    them matches "2 weeks in a row"), then counted by rebuild_free_weeks."""
    nm = next_monday_now()
    with scopes_disabled():
        users = User.objects.bulk_create(
            User(email=f"many-{organization.slug}-{n}@example.test", password="!")
            for n in range(count)
        )
        memberships = Membership.objects.bulk_create(
            Membership(organization=organization, user=user, role="attending") for user in users
        )
        profiles = AttendingProfile.objects.bulk_create(
            AttendingProfile(
                organization=organization,
                membership=membership,
                display_name=f"Dr. Many {n % 97:02d}",
                specialty=SPECIALTIES[n % len(SPECIALTIES)],
                setting="community",
                care_setting="both",
                city="Houston",
                state=STATES[n % len(STATES)],
                rotation_types=["clerkship"],
                modes=["in_person"],
                weekly_rate=RATES[n % len(RATES)],
                minimum_weeks=1 + n % 2,
                listed=True,
                # A kept review summary as reviews.services.recount leaves it (§15).
                review_count=n % 4,
                review_average=REVIEW_AVERAGES[n % 7] if n % 4 else Decimal("0"),
            )
            for n, membership in enumerate(memberships)
        )
        AvailabilityWeek.objects.bulk_create(
            AvailabilityWeek(
                organization=organization,
                attending=profile,
                week_start=nm + timedelta(weeks=(n % 5) + k),
                capacity=2,
            )
            for n, profile in enumerate(profiles)
            for k in range(3)
        )
        ids = [profile.pk for profile in profiles]
        rebuild_free_weeks(ids)
    return ids


SEARCHES_FOR_COUNTS = [
    {},
    {"sort": "price"},
    {"weeks": 2},
    {"weeks": 2, "sort": "price", "start_to": 8},  # weeks after next Monday
    {"sort": "reviewed"},
    {"weeks": 2, "sort": "reviewed"},
]


def test_query_counts_are_the_same_at_page_1_and_page_200(
    demo, northside, client_for, django_assert_max_num_queries, monkeypatch
):
    """200 pages of results for each search, read by the API (``page_size``) and the
    page (its page size set to the same, so 2,000 attendings make 200 pages there too:
    the page size is a LIMIT and changes no query)."""
    monkeypatch.setattr("rotations.search_views.PAGE_SIZE", PAGE_SIZE)
    build_many(demo["org"], MANY)
    build_many(northside["org"], 30)  # another organization's rows in the same tables
    everything = load_everything()
    client = client_for(demo["student"])
    for params in SEARCHES_FOR_COUNTS:
        if "start_to" in params:
            params = {**params, "start_to": next_monday_now() + timedelta(weeks=params["start_to"])}
        expected = reference(demo["org"], SearchFilters.from_data(params), everything)
        assert len(expected) == MANY
        for path in ("/api/v1/attendings", "/attendings/"):
            counts = []
            for page in (1, PAGES):
                start = (page - 1) * PAGE_SIZE
                want = expected[start : start + PAGE_SIZE]
                with (
                    django_assert_max_num_queries(8),
                    CaptureQueriesContext(connection) as queries,
                ):
                    response = client.get(path, {**params, "page": page, "page_size": PAGE_SIZE})
                assert response.status_code == 200, response.content[:500]
                counts.append(len(queries))
                if path.startswith("/api/"):
                    body = response.json()
                    assert body["count"] == MANY
                    got = [(row["id"], row["first_start"], row["weeks"]) for row in body["results"]]
                    assert got == [
                        (pk, first.isoformat() if first else None, weeks)
                        for pk, first, weeks in want
                    ], (params, page)
                else:
                    page_obj = response.context["page_obj"]
                    assert (page_obj.number, page_obj.paginator.count) == (page, MANY)
                    got = [(hit.pk, hit.search.first_start, hit.search.weeks) for hit in page_obj]
                    assert got == want, (params, page)
            assert counts[0] == counts[1], (path, params, counts)
