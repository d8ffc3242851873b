"""The planner's page, the dashboard's next deadline and ``/api/v1/planner`` (DESIGN §14).

Time is 2027-01-04 (time-machine); the season of the 2028 Match has applicants
submitting on Wednesday 2027-09-01, so letters are due 2027-08-25 and a rotation with a
14-day letter writer must end by 2027-08-11.
"""

from datetime import date, timedelta

import pytest
import time_machine
from django_scopes import scopes_disabled

from lor.models import MatchTarget, Season
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = date(2027, 1, 4)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(date(2027, 1, 4), tick=False):
        yield


@pytest.fixture(autouse=True)
def season(db):
    Season.objects.update_or_create(
        match_year=2028,
        defaults={
            "eras_opens_on": date(2027, 6, 2),
            "submission_opens_on": date(2027, 9, 1),
            "programs_review_on": date(2027, 9, 22),
            "rank_deadline_on": date(2028, 3, 1),
            "match_day": date(2028, 3, 17),
        },
    )


def late_rotation(student, **kwargs):
    """An approved 4-week rotation ending Sunday 2027-08-15: too late for ERAS 2028."""
    with scopes_disabled():
        return factories.RotationFactory(
            organization=student.organization,
            student=student,
            start=date(2027, 7, 19),
            weeks=4,
            status="approved",
            **kwargs,
        )


def target_of(student):
    with scopes_disabled():
        return MatchTarget.objects.filter(student=student).first()


# --- The page --------------------------------------------------------------------------------


def test_the_student_sets_a_target_and_sees_the_plan_follow_it(demo, client_for):
    student = demo["student"]
    late_rotation(student)
    client = client_for(student)

    page = client.get("/planner/")
    assert page.status_code == 200
    assert b"You have not set a target yet" in page.content

    response = client.post(
        "/planner/",
        {"match_year": "2028", "specialty": "internal_medicine", "visa_wait_weeks": "10"},
    )
    assert response.status_code == 302
    target = target_of(student)
    assert (target.match_year, target.specialty, target.visa_wait_weeks) == (
        2028,
        "internal_medicine",
        10,
    )

    page = client.get("/planner/").content.decode()
    assert "Wednesday, August 25, 2027" in page  # letters due
    assert "Too late for this season" in page
    # Booking lead 8 + consulate 10 weeks before Monday 2027-07-19.
    assert "book by March 15, 2027" in page
    assert "Book by Monday, March 8, 2027 to finish by Sunday, August 8, 2027" in page


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"match_year": "2045", "specialty": "surgery", "visa_wait_weeks": "2"}, "match_year"),
        ({"match_year": "2028", "specialty": "astrology", "visa_wait_weeks": "2"}, "specialty"),
        (
            {"match_year": "2028", "specialty": "surgery", "visa_wait_weeks": "53"},
            "visa_wait_weeks",
        ),
        (
            {"match_year": "2028", "specialty": "surgery", "visa_wait_weeks": "-1"},
            "visa_wait_weeks",
        ),
    ],
)
def test_a_bad_target_is_refused_with_400_and_changes_nothing(demo, client_for, data, field):
    student = demo["student"]
    response = client_for(student).post("/planner/", data)
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert target_of(student) is None


def test_the_planner_is_for_students(demo, client_for):
    assert client_for(demo["attending"]).get("/planner/").status_code == 403
    assert client_for(None).get("/planner/").status_code == 302  # to the login page


def test_the_navigation_links_the_planner(demo, client_for):
    page = client_for(demo["student"]).get("/dashboard/").content.decode()
    assert 'href="/planner/">Season planner</a>' in page


def test_the_dashboard_shows_the_next_deadline(demo, client_for):
    # No target yet: the next season ahead (ERAS 2028) and no visa wait, so the last
    # 4-week rotation ending Sunday 2027-08-08 is booked 8 weeks before its start
    # (Monday 2027-07-12): Monday 2027-05-17.
    page = client_for(demo["student"]).get("/dashboard/").content.decode()
    assert "Next deadline for ERAS 2028" in page
    assert "Last day to book a rotation that counts this season" in page
    assert "Monday, May 17, 2027" in page


def test_the_planner_costs_the_same_queries_for_one_rotation_or_many(
    demo, client_for, django_assert_max_num_queries
):
    student = demo["student"]
    client = client_for(student)
    late_rotation(student)
    client.get("/planner/")  # the calendar address is made on the first visit
    with django_assert_max_num_queries(20) as few:
        assert client.get("/planner/").status_code == 200
    for weeks_ahead in range(1, 9):
        with scopes_disabled():
            factories.RotationFactory(
                organization=student.organization,
                student=student,
                start=date(2027, 1, 4) + timedelta(weeks=3 * weeks_ahead),
                weeks=2,
                status="approved",
            )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/planner/").status_code == 200


def test_the_page_shows_only_this_organizations_rows(demo, northside, client_for):
    with scopes_disabled():
        factories.RotationFactory(
            organization=northside["org"],
            student=northside["student"],
            attending__display_name="Dr. Northside Only",
            start=date(2027, 2, 1),
            status="approved",
        )
    page = client_for(demo["student"]).get("/planner/").content.decode()
    assert "Dr. Northside Only" not in page


def test_the_attending_sets_a_letter_turnaround_on_their_profile(demo, client_for):
    with scopes_disabled():
        profile = factories.AttendingProfileFactory(
            organization=demo["org"], membership=demo["attending"]
        )
    page = client_for(demo["attending"]).get("/attending/profile/").content.decode()
    assert 'name="letter_turnaround_days"' in page
    assert profile.letter_turnaround_days == 14


# --- The API ---------------------------------------------------------------------------------


def test_api_planner_answers_the_plan(demo, api):
    student = demo["student"]
    rotation = late_rotation(student)
    body = api(student).put(
        "/api/v1/planner/target",
        {"match_year": 2028, "specialty": "internal_medicine", "visa_wait_weeks": 10},
    )
    assert body.status_code == 200, body.content

    response = api(student).get("/api/v1/planner")
    assert response.status_code == 200
    plan = response.json()
    assert plan["target"] == {
        "match_year": 2028,
        "specialty": "internal_medicine",
        "visa_wait_weeks": 10,
    }
    assert plan["submission"] == "2027-09-01"
    assert plan["letters_due"] == "2027-08-25"
    assert plan["rotations_end_by"] == "2027-08-11"
    [entry] = plan["rotations"]
    assert entry["id"] == rotation.pk
    assert entry["too_late"] is True
    assert entry["book_by"] == "2027-03-15"
    assert {"rotation_too_late"} <= {warning["code"] for warning in plan["warnings"]}
    assert plan["next_deadline"]["on"] == "2027-03-08"


def test_api_refuses_a_bad_target_and_changes_nothing(demo, api):
    student = demo["student"]
    response = api(student).put(
        "/api/v1/planner/target",
        {"match_year": 2045, "specialty": "surgery", "visa_wait_weeks": 3},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "season_not_open"
    response = api(student).put(
        "/api/v1/planner/target",
        {"match_year": 2028, "specialty": "surgery", "visa_wait_weeks": 99},
    )
    assert response.status_code == 400
    assert "visa_wait_weeks" in response.json()["errors"]
    assert target_of(student) is None


def test_api_planner_is_for_students_of_this_organization(demo, northside, api):
    assert api(demo["attending"]).get("/api/v1/planner").status_code == 403
    assert api(None).get("/api/v1/planner").status_code in (401, 403)
    other = api(northside["student"], host="demo.localhost").get("/api/v1/planner")
    assert other.status_code == 404


@pytest.mark.parametrize("value", ["0", "91", "two weeks"])
def test_a_bad_letter_turnaround_is_refused_and_changes_nothing(demo, client_for, value):
    from tests.rotations.test_pages import PROFILE_FORM

    client = client_for(demo["attending"])
    assert (
        client.post(
            "/attending/profile/", {**PROFILE_FORM, "letter_turnaround_days": "21"}
        ).status_code
        == 302
    )
    response = client.post("/attending/profile/", {**PROFILE_FORM, "letter_turnaround_days": value})
    assert response.status_code == 400
    assert response.context["form"].errors["letter_turnaround_days"]
    with scopes_disabled():
        demo["attending"].attending_profile.refresh_from_db()
        assert demo["attending"].attending_profile.letter_turnaround_days == 21


def test_the_api_sets_the_letter_turnaround(demo, api):
    from tests.rotations.test_attending_api import PROFILE_BODY

    response = api(demo["attending"]).put(
        "/api/v1/attending/profile", {**PROFILE_BODY, "letter_turnaround_days": 30}
    )
    assert response.status_code in (200, 201), response.content
    assert response.json()["letter_turnaround_days"] == 30
    bad = api(demo["attending"]).put(
        "/api/v1/attending/profile", {**PROFILE_BODY, "letter_turnaround_days": 0}
    )
    assert bad.status_code == 400
    with scopes_disabled():
        demo["attending"].attending_profile.refresh_from_db()
        assert demo["attending"].attending_profile.letter_turnaround_days == 30


def test_seed_demo_gives_the_verified_student_a_target_and_a_plan(client_for):
    import io

    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())  # a second run adds nothing
    with scopes_disabled():
        [target] = MatchTarget.objects.filter(
            organization__slug="demo", student__user__email="student.verified@demo.test"
        )
        student = target.student
    # On 2027-01-04 the next season whose submission date is ahead is ERAS 2028.
    assert (target.match_year, target.specialty, target.visa_wait_weeks) == (
        2028,
        "internal_medicine",
        8,
    )
    page = client_for(student).get("/planner/")
    assert page.status_code == 200
    assert b"Clerkship with" in page.content


# --- Platform staff keep the season dates --------------------------------------------------


@pytest.fixture
def staff_client(world):
    from django.test import Client

    staff = factories.UserFactory(is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)
    return client


def test_staff_edit_a_seasons_dates_in_admin_and_the_plan_follows(staff_client, demo, api):
    from tests.test_staff_console import post_form

    season = Season.objects.get(match_year=2028)
    path = f"/admin/lor/season/{season.pk}/change/"
    assert staff_client.get("/admin/lor/season/").status_code == 200
    response = post_form(staff_client, path, submission_opens_on="2027-09-15")
    assert response.status_code == 302
    # Wednesday 2027-09-15 − 5 business days = Wednesday 2027-09-08.
    assert api(demo["student"]).get("/api/v1/planner").json()["letters_due"] == "2027-09-08"

    # Dates out of order (submission after Match Day) are refused and nothing changes.
    refused = post_form(staff_client, path, submission_opens_on="2028-04-01")
    assert refused.status_code == 200
    assert b"must come in this form" in refused.content
    season.refresh_from_db()
    assert season.submission_opens_on == date(2027, 9, 15)
