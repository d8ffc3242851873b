"""§4: publishing weeks never silently changes weeks already published. The attending
sees which published weeks would get a new capacity (old → new) and confirms; no week
ever goes below the places booked; bad input is a 4xx and nothing changes. The same rule
holds in the service, the availability page and the API."""

import re
from datetime import timedelta

import pytest
from django_scopes import scopes_disabled

from rotations import availability
from rotations.availability import CapacityChange, CapacityChangeUnconfirmed
from rotations.models import AvailabilityWeek
from tests import factories
from usdoctors.errors import Conflict, Invalid

pytestmark = pytest.mark.django_db

PAGE = "/attending/availability/"
API = "/api/v1/availability"


def monday(weeks_ahead: int):
    return factories.next_monday(weeks_ahead)


def weeks_of(attending) -> dict:
    with scopes_disabled():
        return {
            week.week_start: (week.capacity, week.booked)
            for week in AvailabilityWeek.objects.filter(attending=attending)
        }


def text(response) -> str:
    html = response.content.decode()
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace("&#x27;", "'")


@pytest.fixture
def published(attending, northside_attending):
    """Weeks 2–9 published at 3 places (week 4 has 2 booked), and northside's weeks."""
    with scopes_disabled():
        weeks = factories.publish(attending, monday(2), 8, capacity=3)
        AvailabilityWeek.objects.filter(pk=weeks[2].pk).update(booked=2)
    return weeks


def in_scope(function, *args, **kwargs):
    from django_scopes import scope

    attending = args[0]
    with scope(organization=attending.organization_id):
        return function(*args, **kwargs)


# --- The service -------------------------------------------------------------------------


def test_the_preview_lists_each_published_week_whose_capacity_changes_and_writes_nothing(
    attending, published
):
    before = weeks_of(attending)

    plan = in_scope(
        availability.plan_publish, attending, first_week=monday(8), last_week=monday(11), capacity=2
    )

    assert plan.changes == [
        CapacityChange(monday(8), 3, 2, 0),
        CapacityChange(monday(9), 3, 2, 0),
    ]
    assert plan.new_weeks == [monday(10), monday(11)]
    assert plan.confirmation  # names the changes
    assert weeks_of(attending) == before


def test_unchanged_weeks_are_not_changes(attending, published):
    plan = in_scope(
        availability.plan_publish, attending, first_week=monday(2), last_week=monday(3), capacity=3
    )
    assert plan.changes == [] and plan.unchanged == [monday(2), monday(3)]
    assert plan.confirmation == ""


def test_capacity_changes_need_the_previewed_confirmation(attending, published):
    before = weeks_of(attending)
    arguments = {"first_week": monday(8), "last_week": monday(10), "capacity": 5}

    with pytest.raises(CapacityChangeUnconfirmed) as refused:
        in_scope(availability.publish_weeks, attending, **arguments)

    assert refused.value.status_code == 409
    assert refused.value.code == "capacity_change_unconfirmed"
    assert [change.week_start for change in refused.value.plan.changes] == [monday(8), monday(9)]
    assert weeks_of(attending) == before  # not even the new week 10

    confirmation = in_scope(availability.plan_publish, attending, **arguments).confirmation
    in_scope(availability.publish_weeks, attending, **arguments, confirmed=confirmation)

    after = weeks_of(attending)
    assert after[monday(8)] == after[monday(9)] == after[monday(10)] == (5, 0)
    assert after[monday(7)] == (3, 0)


def test_a_confirmation_of_other_changes_is_refused(attending, published):
    """The weeks changed after the preview (another tab lowered one): the old confirmation
    no longer matches, so nothing is written."""
    arguments = {"first_week": monday(8), "last_week": monday(9), "capacity": 1}
    confirmation = in_scope(availability.plan_publish, attending, **arguments).confirmation
    with scopes_disabled():
        AvailabilityWeek.objects.filter(attending=attending, week_start=monday(9)).update(
            capacity=2
        )
    before = weeks_of(attending)

    with pytest.raises(CapacityChangeUnconfirmed) as refused:
        in_scope(availability.publish_weeks, attending, **arguments, confirmed=confirmation)

    assert "changed since you reviewed them" in refused.value.message
    assert weeks_of(attending) == before


def test_capacity_never_goes_below_the_places_booked_even_confirmed(attending, published):
    before = weeks_of(attending)
    arguments = {"first_week": monday(2), "last_week": monday(6), "capacity": 1}

    with pytest.raises(Conflict) as refused:
        in_scope(availability.plan_publish, attending, **arguments)
    assert refused.value.code == "capacity_below_booked"
    week = monday(4)
    assert f"The week of {week:%A %B} {week.day}, {week.year} already has 2 students booked" in (
        refused.value.message
    )

    with pytest.raises(Conflict) as refused:
        in_scope(
            availability.publish_weeks,
            attending,
            **arguments,
            confirmed=f"{monday(2):%Y-%m-%d}:3>1",
        )
    assert refused.value.code == "capacity_below_booked"
    assert weeks_of(attending) == before


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ({"first_week": monday(2) + timedelta(days=2)}, "not_monday"),
        ({"capacity": 0}, "capacity_out_of_range"),
        ({"capacity": 21}, "capacity_out_of_range"),
        ({"last_week": monday(1)}, "range_reversed"),
        ({"first_week": monday(0)}, "week_in_past"),
    ],
)
def test_bad_input_is_refused_and_nothing_changes(attending, published, arguments, code):
    before = weeks_of(attending)
    call = {"first_week": monday(2), "last_week": monday(12), "capacity": 2, **arguments}
    for service in (availability.plan_publish, availability.publish_weeks):
        with pytest.raises(Invalid) as refused:
            in_scope(service, attending, **call)
        assert refused.value.code == code
    assert weeks_of(attending) == before


# --- The availability page ------------------------------------------------------------


def test_the_form_prefills_no_capacity(demo, attending, client_for):
    response = client_for(demo["attending"]).get(PAGE)
    html = response.content.decode()
    capacity_input = re.search(r'<input[^>]*name="capacity"[^>]*>', html).group(0)
    assert "value=" not in capacity_input
    assert 'name="first_week"' in html  # the range is still suggested


def test_the_page_previews_capacity_changes_then_publishes_on_confirmation(
    demo, attending, published, client_for
):
    client = client_for(demo["attending"])
    before = weeks_of(attending)
    form = {"first_week": monday(6), "last_week": monday(11), "capacity": "2"}

    preview = client.post(PAGE, form)

    assert preview.status_code == 200
    assert weeks_of(attending) == before
    page = text(preview)
    assert "changes the capacity of 4 published weeks" in page
    html = preview.content.decode()
    listed = re.findall(r'data-testid="change-(\d{4}-\d\d-\d\d)"', html)
    assert listed == [monday(n).isoformat() for n in range(6, 10)]
    assert "It also publishes 2 new weeks." in page
    confirmation = re.search(r'name="confirmed" value="([^"]*)"', html).group(1)
    assert (
        confirmation.replace("&gt;", ">")
        == in_scope(
            availability.plan_publish,
            attending,
            first_week=monday(6),
            last_week=monday(11),
            capacity=2,
        ).confirmation
    )

    confirmed = client.post(PAGE, {**form, "confirmed": confirmation.replace("&gt;", ">")})

    assert confirmed.status_code == 302
    after = weeks_of(attending)
    assert all(after[monday(n)] == (2, 0) for n in range(6, 12))
    assert after[monday(5)] == (3, 0)


def test_the_page_refuses_below_booked_next_to_the_capacity(demo, attending, published, client_for):
    before = weeks_of(attending)
    response = client_for(demo["attending"]).post(
        PAGE, {"first_week": monday(2), "last_week": monday(9), "capacity": "1"}
    )
    assert response.status_code == 409
    error = re.search(r'id="id_capacity_error">([^<]*)<', response.content.decode()).group(1)
    assert "already has 2 students booked" in error
    assert f"{monday(4):%B} {monday(4).day}" in error
    assert weeks_of(attending) == before


def test_the_page_refuses_bad_input_with_a_400(demo, attending, published, client_for):
    before = weeks_of(attending)
    client = client_for(demo["attending"])
    for form in (
        {"first_week": monday(2), "last_week": monday(3), "capacity": ""},
        {"first_week": monday(2), "last_week": monday(3), "capacity": "0"},
        {"first_week": "soon", "last_week": monday(3), "capacity": "2"},
    ):
        assert client.post(PAGE, form).status_code == 400
    assert weeks_of(attending) == before


def test_a_stale_confirmation_on_the_page_is_a_409_with_the_new_preview(
    demo, attending, published, client_for
):
    form = {"first_week": monday(8), "last_week": monday(9), "capacity": "1"}
    before = weeks_of(attending)
    response = client_for(demo["attending"]).post(PAGE, {**form, "confirmed": "made-up"})
    assert response.status_code == 409
    assert "changed since you reviewed them" in text(response)
    assert weeks_of(attending) == before


# --- The API --------------------------------------------------------------------------


def test_the_api_previews_and_publishes_only_confirmed_changes(demo, attending, published, api):
    client = api(demo["attending"])
    body = {"first_week": monday(9).isoformat(), "last_week": monday(10).isoformat(), "capacity": 4}
    before = weeks_of(attending)

    preview = client.post(API, {**body, "preview": True})
    unconfirmed = client.post(API, body)

    assert preview.status_code == 200, preview.json()
    assert preview.json()["changes"] == [
        {
            "week_start": monday(9).isoformat(),
            "capacity_before": 3,
            "capacity_after": 4,
            "booked": 0,
        }
    ]
    assert preview.json()["new_weeks"] == [monday(10).isoformat()]
    assert unconfirmed.status_code == 409
    assert unconfirmed.json()["code"] == "capacity_change_unconfirmed"
    assert weeks_of(attending) == before

    published_now = client.post(API, {**body, "confirm_changes": preview.json()["confirmation"]})

    assert published_now.status_code == 201
    assert weeks_of(attending)[monday(9)] == weeks_of(attending)[monday(10)] == (4, 0)


def test_the_api_never_goes_below_booked(demo, attending, published, api):
    before = weeks_of(attending)
    body = {"first_week": monday(4).isoformat(), "last_week": monday(4).isoformat(), "capacity": 1}
    for extra in ({"preview": True}, {"confirm_changes": f"{monday(4):%Y-%m-%d}:3>1"}):
        response = api(demo["attending"]).post(API, {**body, **extra})
        assert response.status_code == 409
        assert response.json()["code"] == "capacity_below_booked"
        assert "already has 2 students booked" in response.json()["detail"]
    assert weeks_of(attending) == before
