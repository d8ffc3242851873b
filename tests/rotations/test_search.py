"""Attending search (DESIGN §4): filters, the N-consecutive-free-weeks window, sorting,
the price of the chosen weeks with the card surcharge (§6), the attending's public
profile and calendar, and a fixed number of queries however many attendings match."""

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accounts.models import Membership
from rotations import search
from rotations.free_weeks import rebuild_free_weeks
from rotations.models import AttendingProfile, AvailabilityWeek, validate_npi
from rotations.search import (
    SearchFilters,
    search_attendings,
)
from rotations.services import next_monday
from tests import factories

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/attendings"


def monday(weeks_ahead: int):
    return factories.next_monday(weeks_ahead)


def make_attending(organization, name: str, weeks=(), capacity: int = 2, **fields):
    """An attending named ``name`` with the given weeks published (week numbers as for
    ``next_monday``); ``full=`` lists week numbers whose places are all taken."""
    full = set(fields.pop("full", ()))
    with scopes_disabled():
        profile = factories.AttendingProfileFactory(
            organization=organization, display_name=name, **fields
        )
        AvailabilityWeek.objects.bulk_create(
            AvailabilityWeek(
                organization=organization,
                attending=profile,
                week_start=monday(number),
                capacity=capacity,
                booked=capacity if number in full else 0,
            )
            for number in weeks
        )
        rebuild_free_weeks([profile.pk])  # written around the services: count the runs
    return profile


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["display_name"] for row in response.json()["results"]]


@pytest.fixture
def northside_decoy(northside):
    """Northside's attending matches every search demo makes, cheaper and sooner than
    anyone: it shows up in demo's answers the moment a tenant filter is missing."""
    return make_attending(
        northside["org"],
        "Dr. Northside Decoy",
        weeks=range(1, 15),
        weekly_rate=Decimal("1.00"),
        specialty="cardiology",
        state="CA",
        setting="university",
        has_residency_program=True,
        contact_email="decoy.private@northside.test",
    )


# --- Filters ------------------------------------------------------------------------


@pytest.fixture
def variety(demo, northside_decoy):
    """Demo attendings that each differ from ``Plain`` in one way."""
    org = demo["org"]
    base = {"weeks": range(2, 6)}
    made = {
        "Plain": make_attending(org, "Plain", **base),
        "Cardiology": make_attending(org, "Cardiology", specialty="cardiology", **base),
        "California": make_attending(org, "California", state="CA", **base),
        "University": make_attending(org, "University", setting="university", **base),
        "Residency": make_attending(org, "Residency", has_residency_program=True, **base),
        "Observer": make_attending(org, "Observer", rotation_types=["observership"], **base),
        "Tele": make_attending(org, "Tele", modes=["tele"], **base),
        "Cheap": make_attending(org, "Cheap", weekly_rate=Decimal("300.00"), **base),
    }
    with scopes_disabled():
        # A profile hanging off a student's membership is not an attending to students.
        factories.AttendingProfileFactory(
            organization=org, display_name="Not An Attending", membership=demo["student"]
        )
    return made


EVERYONE = {"Plain", "Cardiology", "California", "University", "Residency", "Observer", "Tele"}
EVERYONE |= {"Cheap"}


@pytest.mark.parametrize(
    "params, expected",
    [
        ({}, EVERYONE),
        ({"specialty": "cardiology"}, {"Cardiology"}),
        ({"state": "CA"}, {"California"}),
        ({"setting": "university"}, {"University"}),
        ({"has_residency_program": "true"}, {"Residency"}),
        ({"has_residency_program": "false"}, EVERYONE - {"Residency"}),
        ({"rotation_type": "clerkship"}, EVERYONE - {"Observer"}),
        ({"rotation_type": "observership"}, EVERYONE),
        ({"mode": "in_person"}, EVERYONE - {"Tele"}),
        ({"mode": "tele"}, EVERYONE),
        ({"max_weekly_rate": "499.99"}, {"Cheap"}),
        ({"max_weekly_rate": "500"}, EVERYONE),
        ({"specialty": "cardiology", "state": "CA"}, set()),
    ],
    ids=lambda value: str(value) if not isinstance(value, set) else "",
)
def test_each_filter_narrows_to_this_organizations_matches(variety, demo, api, params, expected):
    assert set(names(api(demo["student"]).get(SEARCH, params))) == expected


def test_search_page_filters_too(variety, demo, client_for):
    page = client_for(demo["student"]).get("/attendings/", {"state": "CA"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "California, MD" in html
    assert "Plain, MD" not in html
    assert "Northside Decoy" not in html
    assert "Not An Attending" not in html


def test_no_other_organization_or_non_attending_anywhere(variety, demo, api):
    response = api(demo["student"]).get(SEARCH, {"page_size": 100})
    assert "Northside" not in response.content.decode()
    assert "Not An Attending" not in response.content.decode()
    assert response.json()["count"] == len(EVERYONE)


# --- N consecutive free weeks starting between A and B -------------------------------


@pytest.fixture
def runs(demo, northside_decoy):
    org = demo["org"]
    return {
        "Exactly three": make_attending(org, "Exactly three", weeks=[3, 4, 5]),
        "Full week inside": make_attending(org, "Full week inside", weeks=[3, 4, 5, 6], full=[4]),
        "Missing week inside": make_attending(org, "Missing week inside", weeks=[3, 4, 6, 7]),
        "Starts late": make_attending(org, "Starts late", weeks=[9, 10, 11]),
        "Starts early": make_attending(org, "Starts early", weeks=[1, 2, 3]),
        "No weeks": make_attending(org, "No weeks"),
    }


def window(weeks, first, last, **extra):
    return {"weeks": weeks, "start_from": monday(first), "start_to": monday(last), **extra}


def test_only_unbroken_runs_starting_in_the_window_qualify(runs, demo, api):
    response = api(demo["student"]).get(SEARCH, window(3, 2, 6))
    assert names(response) == ["Exactly three"]
    assert response.json()["results"][0]["first_start"] == monday(3).isoformat()


def test_a_full_week_or_a_missing_week_breaks_a_run(runs, demo, api):
    found = set(names(api(demo["student"]).get(SEARCH, window(2, 2, 6))))
    # Two weeks in a row exist on each side of the break.
    assert {"Full week inside", "Missing week inside", "Exactly three"} <= found
    found = set(names(api(demo["student"]).get(SEARCH, window(3, 1, 12))))
    assert "Full week inside" not in found
    assert "Missing week inside" not in found


def test_the_run_start_must_fall_between_a_and_b(runs, demo, api):
    student = api(demo["student"])
    assert "Starts late" not in names(student.get(SEARCH, window(3, 2, 8)))
    assert "Starts late" in names(student.get(SEARCH, window(3, 2, 9)))
    assert "Starts early" not in names(student.get(SEARCH, window(3, 2, 8)))
    assert "Starts early" in names(student.get(SEARCH, window(3, 1, 8)))


def test_window_dates_need_not_be_mondays(runs, demo, api):
    params = {
        "weeks": 3,
        "start_from": monday(3) - timedelta(days=2),  # Saturday
        "start_to": monday(3) + timedelta(days=2),  # Wednesday
    }
    assert names(api(demo["student"]).get(SEARCH, params)) == ["Exactly three"]


def test_a_run_may_run_past_the_latest_start(runs, demo, api):
    assert names(api(demo["student"]).get(SEARCH, window(3, 3, 3))) == ["Exactly three"]


def test_without_weeks_the_run_is_the_attendings_minimum(demo, api):
    org = demo["org"]
    make_attending(org, "Needs four", weeks=[2, 3, 4], minimum_weeks=4)
    make_attending(org, "Needs two", weeks=[2, 3, 4], minimum_weeks=2)
    student = api(demo["student"])
    assert names(student.get(SEARCH, {"start_from": monday(1)})) == ["Needs two"]
    # Asking for fewer weeks than an attending's minimum leaves them out (they'd refuse).
    assert names(student.get(SEARCH, {"weeks": 2})) == ["Needs two"]
    assert names(student.get(SEARCH, {"weeks": 3})) == ["Needs two"]


def test_weeks_alone_counts_runs_from_next_monday(demo, api):
    org = demo["org"]
    make_attending(org, "Past run", weeks=[-3, -2, -1, 0])
    make_attending(org, "Future run", weeks=[1, 2])
    assert names(api(demo["student"]).get(SEARCH, {"weeks": 2})) == ["Future run"]


# --- Sorting ------------------------------------------------------------------------


def test_sort_by_price_puts_the_lowest_weekly_rate_first(demo, api, northside_decoy):
    org = demo["org"]
    make_attending(org, "Seven hundred", weekly_rate=Decimal("700"), weeks=[2])
    make_attending(org, "Three hundred", weekly_rate=Decimal("300"), weeks=[6])
    make_attending(org, "Five hundred", weekly_rate=Decimal("500"))
    assert names(api(demo["student"]).get(SEARCH, {"sort": "price"})) == [
        "Three hundred",
        "Five hundred",
        "Seven hundred",
    ]


def test_sort_by_soonest_uses_the_first_free_week(demo, api, northside_decoy):
    org = demo["org"]
    make_attending(org, "Week five", weeks=[5, 6])
    make_attending(org, "Week two, full", weeks=[2, 7], full=[2])
    make_attending(org, "Week three", weeks=[3], weekly_rate=Decimal("900"))
    make_attending(org, "Nothing free", weekly_rate=Decimal("1"))
    response = api(demo["student"]).get(SEARCH, {"sort": "soonest"})
    assert names(response) == ["Week three", "Week five", "Week two, full", "Nothing free"]
    starts = [row["first_start"] for row in response.json()["results"]]
    assert starts == [monday(3).isoformat(), monday(5).isoformat(), monday(7).isoformat(), None]


def test_sort_by_soonest_with_a_window_uses_the_qualifying_run_start(demo, api):
    org = demo["org"]
    make_attending(org, "Single week soon", weeks=[2, 6, 7, 8])
    make_attending(org, "Run in week four", weeks=[4, 5, 6])
    student = api(demo["student"])
    assert names(student.get(SEARCH, {"sort": "soonest"})) == [
        "Single week soon",
        "Run in week four",
    ]
    response = student.get(SEARCH, window(3, 1, 10, sort="soonest"))
    assert names(response) == ["Run in week four", "Single week soon"]
    assert [row["first_start"] for row in response.json()["results"]] == [
        monday(4).isoformat(),
        monday(6).isoformat(),
    ]


# --- Price of the chosen weeks and the card surcharge (§6) ---------------------------


def test_total_and_card_surcharge_are_exact_cents(demo, api, client_for):
    make_attending(demo["org"], "Dr. Thirds", weekly_rate=Decimal("333.33"), weeks=[2, 3, 4])
    response = api(demo["student"]).get(SEARCH, {"weeks": 3})
    [row] = response.json()["results"]
    # 333.33 × 3 = 999.99; 999.99 × 0.0299 = 29.899701 → 29.90.
    assert (row["weeks"], row["total"], row["card_surcharge"]) == (3, "999.99", "29.90")
    html = client_for(demo["student"]).get("/attendings/", {"weeks": 3}).content.decode()
    assert "$999.99" in html
    assert "+ $29.90 if paid by card" in html


def test_without_weeks_the_price_is_for_the_minimum_and_rounds_half_up(demo, api):
    make_attending(demo["org"], "Dr. Fifty", weekly_rate=Decimal("50.00"), minimum_weeks=3)
    [row] = api(demo["student"]).get(SEARCH).json()["results"]
    # 50 × 3 = 150.00; 150.00 × 0.0299 = 4.485 → 4.49 half up (half-even would give 4.48).
    assert (row["weeks"], row["total"], row["card_surcharge"]) == (3, "150.00", "4.49")


def test_no_card_fee_when_the_organization_turned_surcharges_off(demo, api, client_for):
    with scopes_disabled():
        demo["org"].card_surcharge_rate = Decimal("0")
        demo["org"].save()
    make_attending(demo["org"], "Dr. Thirds", weekly_rate=Decimal("333.33"), weeks=[2, 3, 4])
    [row] = api(demo["student"]).get(SEARCH, {"weeks": 3}).json()["results"]
    assert (row["total"], row["card_surcharge"]) == ("999.99", "0.00")
    html = client_for(demo["student"]).get("/attendings/", {"weeks": 3}).content.decode()
    assert "$999.99" in html
    assert "if paid by card" not in html


def test_service_results_carry_decimal_money(demo):
    make_attending(demo["org"], "Dr. Thirds", weekly_rate=Decimal("333.33"), weeks=[2, 3, 4])
    with scope(organization=demo["org"]):
        [attending] = list(search_attendings(demo["org"], SearchFilters(weeks=3)))
    assert attending.search.total == Decimal("999.99")
    assert attending.search.card_surcharge == Decimal("29.90")
    assert attending.search.first_start == next_monday() + timedelta(weeks=1)


# --- Bad query parameters -----------------------------------------------------------


@pytest.mark.parametrize(
    "params, field, code, message",
    [
        (
            {
                "start_from": str(next_monday() + timedelta(weeks=9)),
                "start_to": str(next_monday() + timedelta(weeks=8)),
            },
            "start_to",
            "start_window_reversed",
            "The latest start comes before the earliest start.",
        ),
        ({"weeks": "0"}, "weeks", "invalid", "A rotation lasts 1 to 12 weeks."),
        ({"weeks": "13"}, "weeks", "invalid", "A rotation lasts 1 to 12 weeks."),
        ({"weeks": "two"}, "weeks", "invalid", "A valid integer is required."),
        ({"start_from": "next week"}, "start_from", "invalid", "Date has wrong format."),
        ({"specialty": "astrology"}, "specialty", "invalid", '"astrology" is not a valid'),
        ({"sort": "random"}, "sort", "invalid", '"random" is not a valid choice.'),
        ({"max_weekly_rate": "-1"}, "max_weekly_rate", "invalid", "greater than or equal to 0"),
        ({"has_residency_program": "maybe"}, "has_residency_program", "invalid", "valid boolean"),
    ],
)
def test_bad_parameters_answer_400_naming_the_parameter(demo, api, params, field, code, message):
    response = api(demo["student"]).get(SEARCH, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code
    assert message in body["detail"]
    assert field in body["errors"]
    assert message in body["errors"][field][0]


def test_non_monday_window_and_empty_parameters_are_fine(demo, api):
    wednesday = str(next_monday() + timedelta(weeks=8, days=2))
    params = {"start_from": wednesday, "start_to": wednesday, "specialty": "", "weeks": ""}
    assert api(demo["student"]).get(SEARCH, params).status_code == 200


def test_search_page_shows_what_to_fix(demo, client_for):
    page = client_for(demo["student"]).get(
        "/attendings/",
        {
            "start_from": str(next_monday() + timedelta(weeks=9)),
            "start_to": str(next_monday() + timedelta(weeks=8)),
        },
    )
    html = page.content.decode()
    assert page.status_code == 400
    assert "Fix these filters to see results" in html
    assert "Latest start: The latest start comes before the earliest start." in html


# --- One attending: profile and availability ------------------------------------------


@pytest.fixture
def doctor(demo):
    return make_attending(
        demo["org"],
        "Dr. Ada Verified",
        weeks=[-1, 1, 2, 4],
        full=[2],
        npi="1234567893",
        npi_verified_at=timezone.now(),
        contact_email="ada.private@demo.test",
        weekly_rate=Decimal("400.00"),
        minimum_weeks=2,
    )


def test_detail_api_shows_public_fields_and_the_npi_mark_never_the_contact_email(doctor, demo, api):
    response = api(demo["student"]).get(f"{SEARCH}/{doctor.pk}")
    body = response.json()
    assert response.status_code == 200
    assert body["display_name"] == "Dr. Ada Verified"
    assert (body["npi"], body["npi_verified"]) == ("1234567893", True)
    assert "contact_email" not in body
    assert "ada.private" not in response.content.decode()
    with scopes_disabled():
        AttendingProfile.objects.filter(pk=doctor.pk).update(npi_verified_at=None)
    assert api(demo["student"]).get(f"{SEARCH}/{doctor.pk}").json()["npi_verified"] is False


def test_search_results_never_carry_the_contact_email(doctor, demo, api, client_for):
    response = api(demo["student"]).get(SEARCH)
    assert names(response) == ["Dr. Ada Verified"]
    assert "contact_email" not in response.json()["results"][0]
    assert "ada.private" not in response.content.decode()
    assert "ada.private" not in client_for(demo["student"]).get("/attendings/").content.decode()


def test_availability_api_lists_published_weeks_from_today(doctor, demo, api):
    response = api(demo["student"]).get(f"{SEARCH}/{doctor.pk}/availability")
    assert response.status_code == 200
    rows = [
        (row["week_start"], row["capacity"], row["booked"], row["free"])
        for row in response.json()["results"]
    ]
    assert rows == [
        (monday(1).isoformat(), 2, 0, 2),
        (monday(2).isoformat(), 2, 2, 0),
        (monday(4).isoformat(), 2, 0, 2),
    ]


def test_detail_page_shows_a_26_week_calendar_in_words(doctor, demo, client_for):
    page = client_for(demo["student"]).get(f"/attendings/{doctor.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "NPI verified manually by an admin on" in html
    assert "ada.private" not in html
    rows = re.findall(r'<tr class="week-(\w+)">', html)
    assert len(rows) == 26
    assert rows[:4] == ["free", "full", "not_offered", "free"]
    assert html.count("Free: 2 places of 2") == 2
    assert "Full (2 of 2 taken)" in html
    assert html.count("Not offered") == 23
    assert "2 weeks: $800.00" in html
    assert "+ $23.92 if paid by card" in html  # 800 × 0.0299 = 23.92


@pytest.mark.parametrize(
    "path",
    ["/api/v1/attendings/{id}", "/api/v1/attendings/{id}/availability", "/attendings/{id}/"],
)
def test_another_organizations_attending_is_404(path, demo, northside_decoy, client_for):
    response = client_for(demo["student"]).get(path.format(id=northside_decoy.pk))
    assert response.status_code == 404
    assert "Northside Decoy" not in response.content.decode()


@pytest.mark.parametrize(
    "path",
    ["/api/v1/attendings/{id}", "/api/v1/attendings/{id}/availability", "/attendings/{id}/"],
)
def test_a_profile_without_the_attending_role_is_404(path, demo, client_for):
    with scopes_disabled():
        profile = factories.AttendingProfileFactory(
            organization=demo["org"], membership=demo["pending"]
        )
    assert client_for(demo["student"]).get(path.format(id=profile.pk)).status_code == 404


@pytest.mark.parametrize("path", [SEARCH, "/attendings/"])
def test_only_members_search(path, demo, northside, client_for):
    assert client_for(northside["student"], host="demo.localhost").get(path).status_code == 404
    anonymous = client_for(host="demo.localhost").get(path)
    assert anonymous.status_code in (302, 401, 403)
    for member in ("admin", "attending", "pending"):
        assert client_for(demo[member]).get(path).status_code == 200


# --- The search page ------------------------------------------------------------------


def test_search_page_result_card(doctor, demo, client_for):
    html = client_for(demo["student"]).get("/attendings/").content.decode()
    assert '<label for="id_specialty">' in html
    assert "<legend>When</legend>" in html
    assert 'hx-get="/attendings/"' in html and 'hx-push-url="true"' in html
    assert f'href="/attendings/{doctor.pk}/' in html  # with its first start when it has one
    assert "Dr. Ada Verified, MD" in html
    assert "NPI verified manually by an admin on" in html
    assert "Internal medicine" in html and "Houston, TX" in html
    assert "$400.00 a week" in html
    assert "Total for 2 weeks (minimum)" in html and "$800.00" in html
    assert f'<time datetime="{monday(1).isoformat()}">' in html


def test_htmx_gets_only_the_results(doctor, demo, client_for):
    client = client_for(demo["student"])
    fragment = client.get("/attendings/", {"state": "TX"}, HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert "Dr. Ada Verified" in html
    assert "<html" not in html and "<form" not in html
    assert "HX-Request" in fragment["Vary"]
    restore = client.get(
        "/attendings/", HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in restore.content.decode()


def test_empty_results_say_what_to_change(doctor, demo, client_for):
    html = (
        client_for(demo["student"])
        .get("/attendings/", {"max_weekly_rate": "100", "state": "TX", "weeks": "4"})
        .content.decode()
    )
    assert "No attendings match all of these filters" in html
    assert "Raise the maximum weekly rate." in html
    assert "Search any state." in html
    assert "Ask for fewer weeks in a row, or widen the start dates." in html


# --- A page of 20 results in at most 8 queries -----------------------------------------


@pytest.fixture
def crowd(demo, northside):
    """65 demo attendings and 5 northside ones, each with 10 weeks, some full."""
    for side, count in ((demo, 65), (northside, 5)):
        for number in range(count):
            make_attending(
                side["org"],
                f"Crowd {side['org'].slug} {number:02d}",
                weeks=range(1 + number % 3, 11 + number % 3),
                full=[2 + number % 4],
                weekly_rate=Decimal(250 + number * 10),
                minimum_weeks=1 + number % 2,
            )


@pytest.mark.parametrize(
    "params",
    [{}, {"sort": "price"}, {"weeks": 2, "start_from": monday(1), "start_to": monday(8)}],
    ids=["soonest", "price", "window"],
)
def test_search_api_page_of_20_in_at_most_8_queries(
    crowd, demo, client_for, params, django_assert_max_num_queries
):
    client = client_for(demo["student"])
    with django_assert_max_num_queries(8):
        response = client.get(SEARCH, params)
    assert response.status_code == 200
    assert len(response.json()["results"]) == search.PAGE_SIZE == 20
    assert response.json()["count"] == 65
    assert all(row["display_name"].startswith("Crowd demo") for row in response.json()["results"])


@pytest.mark.parametrize(
    "params",
    [{}, {"sort": "price"}, {"weeks": 2, "start_from": monday(1), "start_to": monday(8)}],
    ids=["soonest", "price", "window"],
)
def test_search_page_of_20_in_at_most_8_queries(
    crowd, demo, client_for, params, django_assert_max_num_queries
):
    client = client_for(demo["student"])
    with django_assert_max_num_queries(8):
        response = client.get("/attendings/", params)
    html = response.content.decode()
    assert response.status_code == 200
    assert len(re.findall(r'<li class="card result">', html)) == 20
    assert "65 attendings found, showing 1–20" in html
    assert 'rel="next"' in html
    last = client.get("/attendings/", {**params, "page": 4}).content.decode()
    assert len(re.findall(r'<li class="card result">', last)) == 5
    assert "showing 61–65" in last


# --- Demo data --------------------------------------------------------------------------


def seeded_counts() -> dict:
    with scopes_disabled():
        return {
            slug: (
                AttendingProfile.objects.filter(
                    organization__slug=slug, membership__role="attending"
                ).count(),
                AvailabilityWeek.objects.filter(organization__slug=slug).count(),
                Membership.objects.filter(organization__slug=slug).count(),
            )
            for slug in ("demo", "northside")
        }


def test_seed_demo_creates_40_searchable_attendings_per_organization_once():
    call_command("seed_demo", stdout=io.StringIO())
    first = seeded_counts()
    for attendings, weeks, _members in first.values():
        assert attendings >= 40
        assert weeks >= attendings * 10
    with scopes_disabled():
        profiles = list(AttendingProfile.objects.filter(organization__slug="demo"))
        assert AttendingProfile.objects.filter(membership__user__email="attending1@demo.test")
        for profile in profiles:
            if profile.npi:
                validate_npi(profile.npi)
            assert Decimal("250") <= profile.weekly_rate <= Decimal("1200")
            assert 1 <= profile.minimum_weeks <= 4
        assert any(profile.npi_verified for profile in profiles)
        assert len({profile.specialty for profile in profiles}) >= 10
        assert len({profile.state for profile in profiles}) >= 5
        capacities = set(
            AvailabilityWeek.objects.filter(organization__slug="demo").values_list(
                "capacity", flat=True
            )
        )
        assert capacities == {1, 2, 3}
    call_command("seed_demo", stdout=io.StringIO())
    assert seeded_counts() == first
