"""Issue 11: the request form fills from the calendar and the search, keeps its errors in
view, and says what happens next; deadlines carry their UTC offset; the attending's
dashboard lists everything waiting for them (date changes too) in a fixed number of
queries."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from rotations.models import DateChange, Rotation
from tests import factories
from usdoctors.dates import deadline_text

pytestmark = pytest.mark.django_db


def monday(weeks_ahead: int):
    return factories.next_monday(weeks_ahead)


def text(response) -> str:
    html = response.content.decode()
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace("&#x27;", "'")


def input_value(response, name: str) -> str | None:
    html = response.content.decode()
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
    match = re.search(r'value="([^"]*)"', tag)
    return match.group(1) if match else None


@pytest.fixture
def open_weeks(attending, northside_attending):
    with scopes_disabled():
        return factories.publish(attending, monday(2), 6, capacity=2)


def page(client, attending, **query):
    suffix = f"?{urlencode(query)}" if query else ""
    return client.get(f"/attendings/{attending.pk}/{suffix}")


# --- Filling the form from links ---------------------------------------------------------


def test_each_free_week_links_to_the_form_with_its_start(demo, attending, open_weeks, client_for):
    with scopes_disabled():
        open_weeks[1].booked = 2  # full
        open_weeks[1].save()
    response = page(client_for(demo["student"]), attending)
    html = response.content.decode()

    links = re.findall(r'<a class="choose-week" href="\?start=([\d-]+)#request-form"', html)

    assert links == [monday(n).isoformat() for n in (2, 4, 5, 6, 7)]  # not the full week 3


def test_a_clicked_week_fills_the_start_and_the_search_fills_the_weeks(
    demo, attending, open_weeks, client_for
):
    back = urlencode({"specialty": "cardiology", "weeks": "3"})
    response = page(client_for(demo["student"]), attending, start=monday(4).isoformat(), back=back)

    assert input_value(response, "start") == monday(4).isoformat()
    assert input_value(response, "weeks") == "3"
    html = response.content.decode()
    # The chosen week is marked, and its links keep the way back to the search.
    assert 'aria-current="true"' in html
    assert f"back={urlencode({'x': back})[2:]}" in html.replace("&amp;", "&")


@pytest.mark.parametrize(
    "start",
    ["2020-01-06", "soon", (monday(4) + timedelta(days=1)).isoformat(), "9999-12-27"],
)
def test_a_start_that_cannot_be_booked_is_not_filled_in(
    demo, attending, open_weeks, client_for, start
):
    response = page(client_for(demo["student"]), attending, start=start, weeks="99")
    assert response.status_code == 200
    assert input_value(response, "start") is None
    assert input_value(response, "weeks") == str(attending.minimum_weeks)


def test_search_results_link_to_the_form_with_their_first_start(
    demo, attending, open_weeks, client_for
):
    response = client_for(demo["student"]).get(
        "/attendings/", {"weeks": "2", "start_from": monday(3).isoformat()}
    )
    html = response.content.decode().replace("&amp;", "&")
    assert f'href="/attendings/{attending.pk}/?start={monday(3).isoformat()}&back=' in html


# --- Errors in view, next step after sending -------------------------------------------


def request_data(**overrides):
    return {
        "rotation_type": "clerkship",
        "mode": "in_person",
        "start": monday(2).isoformat(),
        "weeks": "2",
        "payer": "self",
        "plan": "full",
        "payment_method": "zelle",
        "message": "",
        "confirmed_total": "1000.00",
        **overrides,
    }


def test_a_refused_request_lands_on_the_form_with_errors_next_to_their_fields(
    demo, attending, open_weeks, client_for
):
    client = client_for(demo["student"])
    form_page = page(client, attending).content.decode()
    assert f'action="/attendings/{attending.pk}/request/#request-form"' in form_page

    tuesday = monday(3) + timedelta(days=1)
    response = client.post(f"/attendings/{attending.pk}/", request_data(start=tuesday.isoformat()))

    assert response.status_code == 400
    html = response.content.decode()
    summary = re.search(r'data-testid="request-errors".*?</ul>', html, flags=re.S).group(0)
    assert 'href="#id_start"' in summary
    assert "is not a Monday; rotations start on Mondays." in summary
    # Next to the field, and tied to it for screen readers.
    assert re.search(r'<p class="error" id="id_start_error">[^<]*is not a Monday', html)
    start_input = re.search(r'<input[^>]*name="start"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in start_input and "id_start_error" in start_input
    with scopes_disabled():
        assert not Rotation.objects.filter(student=demo["student"]).exists()


def test_after_sending_the_rotation_page_says_what_happens_next(
    demo, attending, open_weeks, client_for
):
    client = client_for(demo["student"])
    response = client.post(f"/attendings/{attending.pk}/", request_data(), follow=True)

    with scopes_disabled():
        rotation = Rotation.objects.get(student=demo["student"])
    steps = re.search(
        r'data-testid="next-step".*?</section>', response.content.decode(), flags=re.S
    ).group(0)
    steps = " ".join(re.sub(r"<[^>]+>", " ", steps).split())
    assert f"{attending.display_name} has 7 days to answer: until " in steps
    assert deadline_text(rotation.respond_by, weekday=True) in steps
    assert demo["student"].user.email in steps
    assert "Nothing is charged before they approve" in steps
    assert "$1,000.00 by Zelle: the whole amount is due when they approve" in steps
    # The attending does not see the student's next steps.
    assert "What happens next" not in text(
        client_for(demo["attending"]).get(f"/rotations/{rotation.pk}/")
    )


def test_deadlines_show_their_utc_offset():
    winter = datetime(2026, 12, 8, 22, 0, tzinfo=UTC)
    summer = datetime(2027, 7, 8, 21, 30, tzinfo=UTC)
    assert deadline_text(winter) == "Dec 8, 2026, 5:00 PM EST (UTC−05:00)"
    assert deadline_text(summer, weekday=True) == "Thursday, July 8, 2027, 5:30 PM EDT (UTC−04:00)"


def test_the_attending_sees_the_deadline_with_its_offset(demo, attending, open_weeks, client_for):
    with scopes_disabled():
        rotation = factories.RotationFactory(attending=attending, student=demo["student"])
    for path in ("/dashboard/", "/rotations/", f"/rotations/{rotation.pk}/"):
        assert "(UTC−0" in text(client_for(demo["attending"]).get(path)), path


# --- The attending's dashboard -----------------------------------------------------------


def approved_with_change(attending, weeks_ahead: int, student=None):
    with scopes_disabled():
        student = student or factories.StudentFactory(organization=attending.organization)
        rotation = factories.RotationFactory(
            attending=attending, student=student, status="approved", start=monday(weeks_ahead)
        )
        return DateChange.objects.create(
            organization=attending.organization,
            rotation=rotation,
            proposed_start=monday(weeks_ahead + 1),
            proposed_by=student,
        )


def test_the_dashboard_lists_date_changes_waiting_beside_the_requests(
    demo, attending, client_for, northside_attending
):
    change = approved_with_change(attending, 3, student=demo["student"])
    with scopes_disabled():  # another tenant's waiting change stays out
        approved_with_change(northside_attending, 5)

    response = client_for(demo["attending"]).get("/dashboard/")

    page_text = text(response)
    assert "No requests waiting" not in page_text and "Nothing waiting" not in page_text
    assert "New start dates to answer" in page_text
    table = re.search(
        r'data-testid="waiting-date-changes".*?</table>', response.content.decode(), flags=re.S
    ).group(0)
    assert f'href="/rotations/{change.rotation.pk}/"' in table
    assert f"{change.proposed_start:%b} {change.proposed_start.day}, " in table
    assert len(re.findall(r"<tr>", table)) == 2  # the heading row and demo's one change


def test_the_dashboard_lists_ended_rotations_to_mark_completed(demo, attending, client_for):
    with scopes_disabled():
        ended = factories.RotationFactory(
            attending=attending,
            student=demo["student"],
            status="in_progress",
            start=monday(-3),
        )
    page_text = text(client_for(demo["attending"]).get("/dashboard/"))
    assert "Rotations to mark completed" in page_text
    assert f"ended {ended.end:%b} {ended.end.day}, {ended.end.year}" in page_text


def dashboard_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/dashboard/").status_code == 200
    return len(queries)


def test_the_attending_dashboard_costs_the_same_for_1_or_25_waiting_items(
    demo, attending, client_for, django_assert_max_num_queries
):
    client = client_for(demo["attending"])
    with scopes_disabled():
        factories.RotationFactory(attending=attending)
    approved_with_change(attending, 2)
    one_each = dashboard_queries(client)

    with scopes_disabled():
        for number in range(24):
            factories.RotationFactory(attending=attending, start=monday(2 + number % 10))
    for number in range(24):
        approved_with_change(attending, 3 + number)
    with django_assert_max_num_queries(one_each):
        response = client.get("/dashboard/")
    assert "25 requests to answer." in text(response)
    assert "25 students asked to move a rotation." in text(response)
