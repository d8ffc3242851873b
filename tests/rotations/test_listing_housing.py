"""Housing included and the application fee on the listing (DESIGN §13): each search
result (page and API) says which of the rotation types it shows include housing, per the
requirement that applies to each type (the attending's own, else the organization's
default); the attending's page lists, per type offered, housing and the non-refundable
application fee. None of it costs a query per result."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from rotations.models import Requirement
from tests.rotations.test_search import SEARCH, make_attending

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed(demo):
    """Housed: their clerkship includes housing and asks $250.00; plain: nothing."""
    housed = make_attending(demo["org"], "Housed Listing", weeks=range(1, 5))
    plain = make_attending(demo["org"], "Plain Listing", weeks=range(1, 5))
    with scopes_disabled():
        Requirement.objects.create(
            organization=demo["org"],
            attending=housed,
            rotation_type="clerkship",
            housing_included=True,
            application_fee=Decimal("250.00"),
        )
    return housed, plain


def result_of(html: str, name: str) -> str:
    """The one search result (its <li>) for the attending named ``name``."""
    [item] = [part for part in html.split('<li class="card result">') if name in part]
    return item.split("</ol>")[0]


def test_search_results_show_housing_when_included_and_not_otherwise(demo, listed, client_for):
    html = client_for(demo["student"]).get("/attendings/").content.decode()
    assert "Housing included for clerkship rotations" in result_of(html, "Housed Listing")
    assert "housing-included" not in result_of(html, "Plain Listing")

    clerkships = (
        client_for(demo["student"])
        .get("/attendings/", {"rotation_type": "clerkship"})
        .content.decode()
    )
    assert 'data-testid="housing-included">Housing included</p>' in result_of(
        clerkships, "Housed Listing"
    )
    electives = (
        client_for(demo["student"])
        .get("/attendings/", {"rotation_type": "elective"})
        .content.decode()
    )
    assert "housing-included" not in result_of(electives, "Housed Listing")


def test_the_organizations_default_applies_where_the_attending_has_no_row(demo, listed, client_for):
    housed, plain = listed
    with scopes_disabled():
        Requirement.objects.create(
            organization=demo["org"], rotation_type="observership", housing_included=True
        )
        # The housed attending's own observership row says no: theirs wins.
        Requirement.objects.create(
            organization=demo["org"], attending=housed, rotation_type="observership"
        )
    html = client_for(demo["student"]).get("/attendings/").content.decode()
    assert "Housing included for clerkship rotations" in result_of(html, "Housed Listing")
    assert "Housing included for observership rotations" in result_of(html, "Plain Listing")


def test_search_api_lists_the_types_with_housing(demo, listed, api):
    rows = api(demo["student"]).get(SEARCH).json()["results"]
    by_name = {row["display_name"]: row["housing_included"] for row in rows}
    assert by_name == {"Housed Listing": ["clerkship"], "Plain Listing": []}
    rows = api(demo["admin"]).get(SEARCH, {"rotation_type": "observership"}).json()["results"]
    assert all(row["housing_included"] == [] for row in rows)


def test_the_attending_page_shows_housing_and_the_fee_per_type(demo, listed, client_for):
    housed, plain = listed
    html = client_for(demo["student"]).get(f"/attendings/{housed.pk}/").content.decode()
    clerkship = re.search(r'data-testid="terms-clerkship">(.*?)</li>', html).group(1)
    assert "housing included" in clerkship
    assert "application fee $250.00 (non-refundable)" in clerkship
    elective = re.search(r'data-testid="terms-elective">(.*?)</li>', html).group(1)
    assert "no housing" in elective and "no application fee" in elective

    other = client_for(demo["student"]).get(f"/attendings/{plain.pk}/").content.decode()
    assert "housing included" not in other
    assert 'data-testid="terms-clerkship">Clerkship: no housing' in other


@pytest.mark.parametrize("who", ["student", "admin"])
def test_housing_costs_no_query_per_result(demo, client_for, who):
    """A page of results reads every requirement row in one query: the same number of
    queries for 2 results as for 12, every one with its own housing row."""

    def queries_for_page() -> int:
        client = client_for(demo[who])
        client.get("/attendings/")  # warm the session and the organization
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/attendings/")
        assert response.status_code == 200
        return len(captured)

    def add(count: int, start: int) -> None:
        for number in range(start, start + count):
            profile = make_attending(demo["org"], f"Housing {number:02d}", weeks=range(1, 3))
            with scopes_disabled():
                Requirement.objects.create(
                    organization=demo["org"],
                    attending=profile,
                    rotation_type="clerkship",
                    housing_included=True,
                )

    add(2, 0)
    few = queries_for_page()
    add(10, 2)
    many = queries_for_page()
    assert many == few, (few, many)
    html = client_for(demo[who]).get("/attendings/").content.decode()
    assert html.count("Housing included for clerkship rotations") == 12
