"""The browser pages for attendings and rotations (DESIGN §4, §5): the attending's
profile and availability, the request form, the rotation list and the rotation page
with its actions and thread. Refusals show their message on the page, with the service's
status code, and change nothing."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from rotations.models import (
    AttendingProfile,
    AvailabilityWeek,
    DateChange,
    Evaluation,
    Message,
    Rotation,
)
from tests import factories
from tests.rotations.conftest import booked

pytestmark = pytest.mark.django_db

VALID_NPI = "1234567893"
OTHER_VALID_NPI = "1245319599"


def reload(obj):
    with scopes_disabled():
        return type(obj).objects.get(pk=obj.pk)


def text(response) -> str:
    """The page's text with tags dropped and whitespace collapsed, as a reader sees it."""
    html = response.content.decode()
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace("&#x27;", "'")


def field_error(response, name: str) -> str:
    """The error text rendered right after the control named ``name``."""
    html = response.content.decode()
    match = re.search(rf'id="id_{name}_error">([^<]*)<', html)
    return match.group(1).replace("&#x27;", "'") if match else ""


def top_error(response) -> str:
    html = response.content.decode()
    match = re.search(r'<div class="form-errors" role="alert">(.*?)</div>', html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()) if match else ""


def monday(weeks_ahead: int):
    return factories.next_monday(weeks_ahead)


# --- Attending profile (§4) ---------------------------------------------------------------

PROFILE_FORM = {
    "display_name": "Dr. Maria Lopez",
    "credentials": "MD",
    "npi": VALID_NPI,
    "specialty": "cardiology",
    "practice_name": "Heart Partners",
    "setting": "private_clinic",
    "care_setting": "outpatient",
    "city": "Miami",
    "state": "FL",
    "has_residency_program": "on",
    "rotation_types": ["clerkship", "observership"],
    "modes": ["in_person"],
    "weekly_rate": "650.00",
    "minimum_weeks": "2",
    "writes_lors": "on",
    "lor_fee": "100.00",
    "contact_email": "maria.private@example.test",
    "bio": "",
}


def test_attending_creates_their_profile_on_first_save(demo, client_for):
    client = client_for(demo["attending"])
    page = client.get("/attending/profile/")
    assert page.status_code == 200
    assert "Private: never shown to students" in text(page)
    for label in ("Rotation types you offer", "How students can join you", "Specialty", "State"):
        assert label in text(page)

    response = client.post("/attending/profile/", PROFILE_FORM)

    assert response.status_code == 302 and response["Location"] == "/attending/availability/"
    with scopes_disabled():
        profile = AttendingProfile.objects.get(membership=demo["attending"])
    assert profile.organization == demo["org"]
    assert profile.rotation_types == ["clerkship", "observership"]
    assert profile.modes == ["in_person"]
    assert profile.weekly_rate == Decimal("650.00") and profile.lor_fee == Decimal("100.00")
    assert profile.has_residency_program and profile.writes_lors
    assert profile.contact_email == "maria.private@example.test"


def test_invalid_npi_is_shown_next_to_its_field_and_nothing_is_saved(demo, client_for):
    client = client_for(demo["attending"])

    response = client.post("/attending/profile/", {**PROFILE_FORM, "npi": "1234567890"})

    assert response.status_code == 400
    assert field_error(response, "npi") == "This NPI's check digit does not match."
    with scopes_disabled():
        assert not AttendingProfile.objects.filter(membership=demo["attending"]).exists()


def test_profile_needs_a_rotation_type_and_a_mode(demo, client_for):
    response = client_for(demo["attending"]).post(
        "/attending/profile/", {**PROFILE_FORM, "rotation_types": [], "modes": []}
    )
    assert response.status_code == 400
    assert field_error(response, "rotation_types") == "Choose at least one rotation type."
    assert field_error(response, "modes") == "Choose in person, tele-rotation or both."


def test_changing_the_npi_removes_the_verified_mark(demo, attending, client_for):
    with scopes_disabled():
        AttendingProfile.objects.filter(pk=attending.pk).update(
            npi=VALID_NPI, npi_verified_at=timezone.now()
        )
    client = client_for(demo["attending"])
    assert "NPI verified manually by an admin on" in text(client.get("/attending/profile/"))

    client.post("/attending/profile/", {**PROFILE_FORM, "npi": VALID_NPI})
    assert reload(attending).npi_verified  # same number: still verified

    client.post("/attending/profile/", {**PROFILE_FORM, "npi": OTHER_VALID_NPI})
    profile = reload(attending)
    assert profile.npi == OTHER_VALID_NPI and not profile.npi_verified


def test_students_cannot_open_the_attending_pages(demo, client_for):
    client = client_for(demo["student"])
    for path in ("/attending/profile/", "/attending/availability/"):
        response = client.get(path)
        assert response.status_code == 403
        assert "This page is for attendings." in text(response)


# --- Availability (§4) --------------------------------------------------------------------


def weeks_of(attending) -> dict:
    with scopes_disabled():
        return {
            week.week_start: (week.capacity, week.booked)
            for week in AvailabilityWeek.objects.filter(attending=attending)
        }


def test_availability_asks_for_a_profile_first(demo, client_for):
    response = client_for(demo["attending"]).get("/attending/availability/")
    assert response.status_code == 200
    assert "Complete your attending profile before publishing availability." in text(response)
    assert 'href="/attending/profile/"' in response.content.decode()


def test_attending_publishes_a_range_of_weeks(demo, attending, client_for):
    client = client_for(demo["attending"])

    response = client.post(
        "/attending/availability/",
        {"first_week": monday(2), "last_week": monday(5), "capacity": "2"},
        follow=True,
    )

    assert weeks_of(attending) == {monday(n): (2, 0) for n in range(2, 6)}
    assert "Published 4 weeks from" in text(response)
    assert "2 students at once" in text(response)
    # The list shows each week with its capacity, booked and free places.
    assert len(re.findall(r'<tr id="week-\d+">', response.content.decode())) == 4


def test_publishing_from_a_day_that_is_not_a_monday_is_refused(demo, attending, client_for):
    tuesday = monday(2) + timedelta(days=1)

    response = client_for(demo["attending"]).post(
        "/attending/availability/",
        {"first_week": tuesday, "last_week": monday(5), "capacity": "2"},
    )

    assert response.status_code == 400
    assert field_error(response, "first_week").endswith("is not a Monday.")
    assert weeks_of(attending) == {}


def test_capacity_cannot_drop_below_the_places_booked(demo, attending, client_for):
    with scopes_disabled():
        factories.AvailabilityWeekFactory(
            attending=attending, week_start=monday(4), capacity=2, booked=2
        )

    response = client_for(demo["attending"]).post(
        "/attending/availability/",
        {"first_week": monday(2), "last_week": monday(5), "capacity": "1"},
    )

    assert response.status_code == 409
    assert "already has 2 students booked; its capacity cannot go below 2." in field_error(
        response, "capacity"
    )
    # The weeks before the booked one were rolled back with it.
    assert weeks_of(attending) == {monday(4): (2, 2)}


def test_attending_removes_an_unbooked_week(demo, attending, client_for):
    with scopes_disabled():
        week = factories.AvailabilityWeekFactory(attending=attending, week_start=monday(3))

    response = client_for(demo["attending"]).post(
        f"/attending/availability/{week.pk}/remove/", follow=True
    )

    assert response.redirect_chain == [("/attending/availability/", 302)]
    assert "Removed the week of" in text(response)
    assert weeks_of(attending) == {}


def test_htmx_remove_answers_with_the_weeks_new_row(demo, attending, client_for):
    with scopes_disabled():
        week = factories.AvailabilityWeekFactory(attending=attending, week_start=monday(3))

    response = client_for(demo["attending"]).post(
        f"/attending/availability/{week.pk}/remove/", HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith(f'<tr id="week-{week.pk}">')
    assert "Removed the week of" in html and "<html" not in html
    assert weeks_of(attending) == {}


@pytest.mark.parametrize("htmx", [False, True])
def test_a_booked_week_cannot_be_removed(demo, attending, client_for, htmx):
    with scopes_disabled():
        week = factories.AvailabilityWeekFactory(
            attending=attending, week_start=monday(3), capacity=2, booked=1
        )
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

    response = client_for(demo["attending"]).post(
        f"/attending/availability/{week.pk}/remove/", **headers
    )

    assert response.status_code == (200 if htmx else 409)
    assert "1 student is booked the week of" in text(response)
    assert weeks_of(attending) == {monday(3): (2, 1)}


def test_attending_cannot_remove_another_attendings_week(
    demo, attending, northside_attending, client_for
):
    with scopes_disabled():
        other = factories.AttendingProfileFactory(organization=demo["org"])
        theirs = factories.AvailabilityWeekFactory(attending=other, week_start=monday(3))
        northside_week = AvailabilityWeek.objects.filter(attending=northside_attending).first()
    client = client_for(demo["attending"])
    for week in (theirs, northside_week):
        assert client.post(f"/attending/availability/{week.pk}/remove/").status_code == 404
    assert weeks_of(other) == {monday(3): (2, 0)}


# --- Requesting a rotation (§5) -----------------------------------------------------------


@pytest.fixture
def open_weeks(attending):
    """Eight published weeks from the Monday after next, two places each."""
    with scopes_disabled():
        return factories.publish(attending, monday(2), 8)


def request_data(**overrides):
    return {
        "rotation_type": "clerkship",
        "mode": "in_person",
        "start": monday(2).isoformat(),
        "weeks": "2",
        "payer": "self",
        "plan": "full",
        "payment_method": "zelle",
        "message": "I am preparing for internal medicine residency.",
        # The price summary's "I agree to pay $1,000.00 as scheduled": $500 × 2, Zelle.
        "confirmed_total": "1000.00",
        **overrides,
    }


def test_verified_student_sees_the_request_form(demo, attending, open_weeks, client_for):
    response = client_for(demo["student"]).get(f"/attendings/{attending.pk}/request/")
    assert response.status_code == 200
    html = response.content.decode()
    for name, label in (
        ("rotation_type", "Rotation type"),
        ("mode", "Mode"),
        ("start", "Start date (a Monday)"),
        ("weeks", "Number of weeks"),
        ("payer", "Who pays"),
        ("plan", "Payment plan"),
        ("payment_method", "Payment method"),
        ("message", "Message to the attending"),
    ):
        assert f'<label for="id_{name}">{label}' in html
    assert 'type="date"' in html and 'step="7"' in html
    # An IMG cannot take an elective: it is not offered to them.
    assert 'value="elective"' not in html and 'value="externship"' in html
    assert "Send request" in html


def test_student_requests_a_rotation_through_the_form(demo, attending, open_weeks, client_for):
    response = client_for(demo["student"]).post(
        f"/attendings/{attending.pk}/request/", request_data(), follow=True
    )

    with scopes_disabled():
        rotation = Rotation.objects.get(student=demo["student"])
    assert response.redirect_chain == [(f"/rotations/{rotation.pk}/#next-step", 302)]
    assert (rotation.attending, rotation.status, rotation.start, rotation.weeks) == (
        attending,
        "requested",
        monday(2),
        2,
    )
    assert rotation.payment_method == "zelle"
    assert f"Your request is on its way to {attending.display_name}" in text(response)
    assert booked(attending)[monday(2)] == 0  # capacity is taken at approval, not now


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"start": (monday(2) + timedelta(days=2)).isoformat()}, "start", "is not a Monday"),
        ({"start": (monday(0) - timedelta(weeks=1)).isoformat()}, "start", "in the future"),
        ({"weeks": "13"}, "weeks", "less than or equal to 12"),
        ({"rotation_type": "elective"}, "rotation_type", "Choose one of the rotation types"),
        ({"plan": "weekly"}, "plan", "at least 21 days from now"),
    ],
    ids=["not-monday", "past", "too-long", "type-not-allowed-for-img", "weekly-too-soon"],
)
def test_refused_request_shows_the_reason_next_to_the_field(
    demo, attending, open_weeks, client_for, everything, change, field, message
):
    before = everything()
    response = client_for(demo["student"]).post(
        f"/attendings/{attending.pk}/request/", request_data(**change)
    )
    assert response.status_code == 400
    assert message in field_error(response, field)
    assert everything() == before


def test_below_the_attendings_minimum_weeks_is_refused_next_to_weeks(
    demo, attending, open_weeks, client_for, everything
):
    with scopes_disabled():
        AttendingProfile.objects.filter(pk=attending.pk).update(minimum_weeks=4)
    before = everything()

    response = client_for(demo["student"]).post(
        f"/attendings/{attending.pk}/request/", request_data(weeks="2")
    )

    assert response.status_code == 400
    assert field_error(response, "weeks") == (
        f"{attending.display_name} takes students for at least 4 weeks."
    )
    assert everything() == before


def test_mode_not_offered_is_refused_next_to_mode(demo, client_for, everything):
    with scopes_disabled():
        tele_only = factories.AttendingProfileFactory(organization=demo["org"], modes=["tele"])
        factories.publish(tele_only, monday(2), 4)
    before = everything()

    response = client_for(demo["student"]).post(
        f"/attendings/{tele_only.pk}/request/", request_data(mode="in_person")
    )

    assert response.status_code == 400
    assert "Choose one of the modes listed." in field_error(response, "mode")
    assert everything() == before


@pytest.mark.parametrize("case", ["unpublished", "full", "overlap"])
def test_refused_request_for_the_weeks_shows_the_reason_at_the_top(
    demo, attending, open_weeks, client_for, everything, case
):
    start = monday(2)
    if case == "unpublished":
        start = monday(12)
        expected = f"{attending.display_name} does not host students the week of"
    elif case == "full":
        with scopes_disabled():
            AvailabilityWeek.objects.filter(attending=attending, week_start=start).update(booked=2)
        expected = "is full (2 of 2 places taken)."
    else:
        with scopes_disabled():
            other = factories.AttendingProfileFactory(organization=demo["org"])
            factories.RotationFactory(
                attending=other, student=demo["student"], start=monday(3), weeks=2
            )
        expected = "You already have a requested rotation with"
    before = everything()

    response = client_for(demo["student"]).post(
        f"/attendings/{attending.pk}/request/", request_data(start=start.isoformat())
    )

    assert response.status_code == 409
    assert expected in top_error(response)
    assert everything() == before


def test_unverified_student_sees_why_instead_of_the_form(
    demo, attending, open_weeks, client_for, everything
):
    client = client_for(demo["pending"])
    page = client.get(f"/attendings/{attending.pk}/request/")
    assert "Send request" not in page.content.decode()
    assert "Your profile is pending verification; allow up to 24 hours." in text(page)
    before = everything()

    response = client.post(f"/attendings/{attending.pk}/request/", request_data())

    assert response.status_code == 403
    assert "Your profile is pending verification; allow up to 24 hours." in text(response)
    assert everything() == before


def test_incomplete_student_is_sent_to_their_profile(demo, attending, open_weeks, client_for):
    with scopes_disabled():
        student = factories.StudentFactory(
            organization=demo["org"], verification_status="incomplete"
        )
    page = client_for(student).get(f"/attendings/{attending.pk}/request/")
    assert "Your profile is incomplete; finish and submit it for verification first." in text(page)
    assert "Go to your profile" in text(page)


def test_attendings_cannot_request_rotations(demo, attending, open_weeks, client_for, everything):
    before = everything()
    response = client_for(demo["admin"]).post(
        f"/attendings/{attending.pk}/request/", request_data()
    )
    assert response.status_code == 403
    assert "Only students can request rotations." in text(response)
    assert everything() == before


def test_another_organizations_attending_cannot_be_requested(demo, northside_attending, client_for):
    client = client_for(demo["student"])
    path = f"/attendings/{northside_attending.pk}/request/"
    assert client.get(path).status_code == 404
    assert client.post(path, request_data()).status_code == 404


# --- The rotation page and its actions (§5) -----------------------------------------------


@pytest.fixture
def requested(demo, attending, open_weeks):
    """A two-week clerkship the demo student asked the demo attending for."""
    with scopes_disabled():
        return factories.RotationFactory(attending=attending, student=demo["student"])


@pytest.fixture
def approved(demo, attending, open_weeks):
    """An approved two-week clerkship holding its places."""
    with scopes_disabled():
        rotation = factories.RotationFactory(
            attending=attending, student=demo["student"], status="approved"
        )
        AvailabilityWeek.objects.filter(
            attending=attending, week_start__in=rotation.week_starts
        ).update(booked=1)
    return rotation


def test_detail_page_shows_the_rotation(demo, requested, client_for):
    response = client_for(demo["student"]).get(f"/rotations/{requested.pk}/")
    page = text(response)
    assert response.status_code == 200
    assert f"Clerkship with {requested.attending.display_name}" in page
    assert "Requested" in page and "In person" in page
    assert "$500.00 a week × 2 weeks = $1,000.00" in page
    end = requested.start + timedelta(days=13)
    assert f"{end:%A, %B} {end.day}, {end.year} (2 weeks)" in page
    assert "Withdraw my request" in page and "Approve request" not in page
    assert "No messages yet. Write the first one below." in page  # open with the request


def test_attending_approves_a_request(demo, requested, attending, client_for):
    response = client_for(demo["attending"]).post(
        f"/rotations/{requested.pk}/approve/", follow=True
    )

    assert response.redirect_chain == [(f"/rotations/{requested.pk}/", 302)]
    assert "Approved. We emailed the student" in text(response)
    assert reload(requested).status == "approved"
    assert booked(attending)[monday(2)] == 1 and booked(attending)[monday(3)] == 1
    assert "Send message" in text(response)


def test_student_cannot_approve_their_own_request(demo, requested, client_for, everything):
    before = everything()
    response = client_for(demo["student"]).post(f"/rotations/{requested.pk}/approve/")
    assert response.status_code == 403
    assert "Only the rotation's attending can do this." in text(response)
    assert everything() == before


def test_approving_a_full_week_shows_the_conflict(demo, requested, attending, client_for):
    with scopes_disabled():
        AvailabilityWeek.objects.filter(attending=attending, week_start=monday(3)).update(booked=2)

    response = client_for(demo["attending"]).post(f"/rotations/{requested.pk}/approve/")

    assert response.status_code == 409
    assert "is full (2 of 2 places taken)." in top_error(response)
    assert reload(requested).status == "requested"
    assert booked(attending)[monday(2)] == 0


def test_attending_declines_with_a_reason(demo, requested, client_for):
    response = client_for(demo["attending"]).post(
        f"/rotations/{requested.pk}/decline/",
        {"decline-reason": "I am away those weeks."},
        follow=True,
    )
    rotation = reload(requested)
    assert (rotation.status, rotation.decision_note) == ("declined", "I am away those weeks.")
    assert "Reason for declining: I am away those weeks." in text(response)


def test_student_withdraws_a_request(demo, requested, client_for):
    response = client_for(demo["student"]).post(f"/rotations/{requested.pk}/withdraw/", follow=True)
    assert reload(requested).status == "withdrawn"
    assert "Your request is withdrawn." in text(response)


def test_withdrawing_twice_is_refused(demo, requested, client_for):
    client = client_for(demo["student"])
    client.post(f"/rotations/{requested.pk}/withdraw/")
    response = client.post(f"/rotations/{requested.pk}/withdraw/")
    assert response.status_code == 409
    assert "This rotation is already withdrawn." in top_error(response)


def test_cancelling_needs_a_confirmation(demo, approved, attending, client_for, everything):
    client = client_for(demo["student"])
    before = everything()

    response = client.post(f"/rotations/{approved.pk}/cancel/", {"cancel-reason": "Visa"})

    assert response.status_code == 400
    assert field_error(response, "cancel-confirm") == "Tick the box to confirm the cancellation."
    assert everything() == before

    client.post(f"/rotations/{approved.pk}/cancel/", {"cancel-confirm": "on"})
    assert reload(approved).status == "cancelled"
    assert booked(attending)[monday(2)] == 0


def test_student_proposes_a_date_change_and_attending_accepts(
    demo, approved, attending, client_for
):
    student = client_for(demo["student"])
    response = student.post(
        f"/rotations/{approved.pk}/date-change/",
        {"propose-new_start": (monday(5) + timedelta(days=1)).isoformat()},
    )
    assert response.status_code == 400
    assert "is not a Monday" in field_error(response, "propose-new_start")

    student.post(
        f"/rotations/{approved.pk}/date-change/",
        {"propose-new_start": monday(5).isoformat(), "propose-reason": "Exam date moved"},
    )
    with scopes_disabled():
        change = DateChange.objects.get(rotation=approved)
    attending_page = text(client_for(demo["attending"]).get(f"/rotations/{approved.pk}/"))
    assert "proposed moving the start to" in attending_page
    assert "Accept new start date" in attending_page

    client_for(demo["attending"]).post(f"/rotations/{approved.pk}/date-change/{change.pk}/accept/")
    assert reload(approved).start == monday(5)
    assert reload(change).status == "accepted"
    assert booked(attending)[monday(2)] == 0 and booked(attending)[monday(5)] == 1


def test_attending_declines_a_date_change(demo, approved, client_for):
    with scopes_disabled():
        change = DateChange.objects.create(
            organization=demo["org"],
            rotation=approved,
            proposed_start=monday(5),
            proposed_by=demo["student"],
        )
    client_for(demo["attending"]).post(
        f"/rotations/{approved.pk}/date-change/{change.pk}/decline/",
        {"decline-change-reason": "Full that month"},
    )
    assert reload(change).status == "declined"
    assert reload(approved).start == monday(2)


def test_student_cannot_answer_their_own_date_change(demo, approved, client_for, everything):
    with scopes_disabled():
        change = DateChange.objects.create(
            organization=demo["org"],
            rotation=approved,
            proposed_start=monday(5),
            proposed_by=demo["student"],
        )
    before = everything()
    response = client_for(demo["student"]).post(
        f"/rotations/{approved.pk}/date-change/{change.pk}/accept/"
    )
    assert response.status_code == 403
    assert everything() == before


def test_admin_postpones_with_a_reason(demo, approved, attending, client_for):
    admin = client_for(demo["admin"])
    response = admin.post(
        f"/rotations/{approved.pk}/postpone/", {"postpone-new_start": monday(6).isoformat()}
    )
    assert response.status_code == 400
    assert field_error(response, "postpone-reason") == "Say why the rotation is postponed."
    assert reload(approved).start == monday(2)

    admin.post(
        f"/rotations/{approved.pk}/postpone/",
        {"postpone-new_start": monday(6).isoformat(), "postpone-reason": "Student is ill"},
    )
    assert reload(approved).start == monday(6)
    assert booked(attending)[monday(6)] == 1


def test_attending_cannot_postpone(demo, approved, client_for):
    response = client_for(demo["attending"]).post(
        f"/rotations/{approved.pk}/postpone/",
        {"postpone-new_start": monday(6).isoformat(), "postpone-reason": "Busy"},
    )
    assert response.status_code == 403
    assert reload(approved).start == monday(2)


EVALUATION = {
    "complete-medical_knowledge": "4",
    "complete-clinical_skills": "5",
    "complete-professionalism": "5",
    "complete-communication": "4",
    "complete-comments": "A pleasure to teach.",
    "complete-activities": "Took histories, presented on rounds, wrote notes.",
}


def test_attending_completes_an_ended_rotation_with_an_evaluation(demo, attending, client_for):
    with scopes_disabled():
        rotation = factories.RotationFactory(
            attending=attending,
            student=demo["student"],
            status="in_progress",
            start=monday(-4),
            weeks=2,
        )
    client = client_for(demo["attending"])
    incomplete = client.post(
        f"/rotations/{rotation.pk}/complete/", {**EVALUATION, "complete-activities": ""}
    )
    assert incomplete.status_code == 400
    assert field_error(incomplete, "complete-activities") == (
        "Describe what the student did during the rotation."
    )

    response = client.post(f"/rotations/{rotation.pk}/complete/", EVALUATION, follow=True)

    assert reload(rotation).status == "completed"
    with scopes_disabled():
        evaluation = Evaluation.objects.get(rotation=rotation)
    assert (evaluation.clinical_skills, evaluation.comments) == (5, "A pleasure to teach.")
    assert "Marked completed." in text(response)
    # Double-blind (§15): the student reads the evaluation with their review.
    student = client_for(demo["student"])
    page = text(student.get(f"/rotations/{rotation.pk}/"))
    assert "Experience entry (ERAS style)" in page
    assert "Internal medicine clerkship" in page
    assert "Clinical skills 5 out of 5" not in page
    assert "Took histories, presented on rounds, wrote notes." not in page
    assert "you read it once your review of the rotation is in" in page
    student.post(
        f"/rotations/{rotation.pk}/review/",
        {
            "review-teaching": "5",
            "review-would_recommend": "yes",
            "review-patient_contact": "full",
            "review-care_setting": "both",
            "review-wrote_notes": "yes",
            "review-hours_per_week": "45",
            "review-letter": "not_asked",
        },
    )
    page = text(student.get(f"/rotations/{rotation.pk}/"))
    assert "Clinical skills 5 out of 5" in page
    assert "Took histories, presented on rounds, wrote notes." in page


def test_a_rotation_cannot_be_completed_before_it_ends(demo, attending, client_for, everything):
    with scopes_disabled():
        rotation = factories.RotationFactory(
            attending=attending, student=demo["student"], status="in_progress", start=monday(0)
        )
    client = client_for(demo["attending"])
    assert "After that you can mark it completed" in text(client.get(f"/rotations/{rotation.pk}/"))
    before = everything()

    response = client.post(f"/rotations/{rotation.pk}/complete/", EVALUATION)

    assert response.status_code == 409
    assert "mark it completed after that." in top_error(response)
    assert everything() == before


# --- Visibility -----------------------------------------------------------------------------


def test_another_organizations_rotation_is_not_found(demo, northside_attending, client_for):
    with scopes_disabled():
        theirs = Rotation.objects.get(attending=northside_attending)
    for member in ("student", "attending", "admin"):
        client = client_for(demo[member])
        assert client.get(f"/rotations/{theirs.pk}/").status_code == 404
        assert client.post(f"/rotations/{theirs.pk}/approve/").status_code == 404
    assert reload(theirs).status == "requested"


def test_members_who_are_not_parties_do_not_find_the_rotation(demo, requested, client_for):
    with scopes_disabled():
        other_attending = factories.AttendingProfileFactory(organization=demo["org"]).membership
        other_student = factories.StudentFactory(organization=demo["org"])
    for member in (other_attending, other_student):
        client = client_for(member)
        assert client.get(f"/rotations/{requested.pk}/").status_code == 404
        assert client.post(f"/rotations/{requested.pk}/decline/").status_code == 404
    assert reload(requested).status == "requested"


def test_attending_sees_the_student_profile_link_while_requested_and_once_approved(
    demo, requested, client_for
):
    # §3: the requested attending sees the profile and CV to decide knowing who asks.
    client = client_for(demo["attending"])
    profile_link = f"/students/{demo['student'].profile.pk}/"
    assert profile_link in client.get(f"/rotations/{requested.pk}/").content.decode()
    client.post(f"/rotations/{requested.pk}/approve/")
    assert profile_link in client.get(f"/rotations/{requested.pk}/").content.decode()


# --- Messages -------------------------------------------------------------------------------


def thread_of(rotation) -> list[tuple[str, str]]:
    with scopes_disabled():
        return list(
            Message.objects.filter(rotation=rotation).values_list("author__user__email", "body")
        )


def test_participants_write_in_the_thread(demo, approved, client_for):
    response = client_for(demo["student"]).post(
        f"/rotations/{approved.pk}/messages/", {"message-body": "Where do I meet you?"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/rotations/{approved.pk}/#messages"

    page = text(client_for(demo["attending"]).get(f"/rotations/{approved.pk}/"))
    assert "Where do I meet you?" in page
    assert thread_of(approved) == [(demo["student"].user.email, "Where do I meet you?")]


def test_htmx_message_answers_with_the_new_message_and_a_fresh_form(demo, approved, client_for):
    response = client_for(demo["attending"]).post(
        f"/rotations/{approved.pk}/messages/",
        {"message-body": "Front desk, 8 am."},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<li class="post post-staff"')
    assert "Front desk, 8 am." in html
    assert 'id="message-form"' in html and 'hx-swap-oob="true"' in html
    assert "<html" not in html
    assert thread_of(approved) == [(demo["attending"].user.email, "Front desk, 8 am.")]


def test_empty_htmx_message_returns_the_form_with_its_error(demo, approved, client_for):
    response = client_for(demo["student"]).post(
        f"/rotations/{approved.pk}/messages/", {"message-body": "  "}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#message-form"
    assert field_error(response, "message-body") == "Write a message."
    assert thread_of(approved) == []


def test_messages_open_with_the_request(demo, requested, client_for):
    response = client_for(demo["student"]).post(
        f"/rotations/{requested.pk}/messages/", {"message-body": "Hello?"}
    )
    assert response.status_code == 302
    assert [body for _author, body in thread_of(requested)] == ["Hello?"]


def test_messages_close_when_the_request_ends(demo, requested, client_for):
    with scopes_disabled():
        Rotation.objects.filter(pk=requested.pk).update(status="declined")
    response = client_for(demo["student"]).post(
        f"/rotations/{requested.pk}/messages/", {"message-body": "Hello?"}
    )
    assert response.status_code == 409
    assert "This request is declined: its thread is closed." in top_error(response)
    assert thread_of(requested) == []


def test_admins_read_the_thread_but_do_not_write(demo, approved, client_for):
    with scopes_disabled():
        Message.objects.create(
            organization=demo["org"], rotation=approved, author=demo["student"], body="Hi!"
        )
    client = client_for(demo["admin"])
    page = text(client.get(f"/rotations/{approved.pk}/"))
    assert "Hi!" in page and "Admins can read this thread" in page
    assert "Send message" not in page

    response = client.post(f"/rotations/{approved.pk}/messages/", {"message-body": "Admin"})
    assert response.status_code == 403
    assert len(thread_of(approved)) == 1


# --- Lists and dashboards -----------------------------------------------------------------


def rotation_links(response) -> list[str]:
    return re.findall(r'<a href="/rotations/(\d+)/">', response.content.decode())


@pytest.fixture
def many_rotations(demo, attending, northside_attending):
    """50 requests to the demo attending from 50 students, 50 rotations of the demo
    student with 50 attendings, and northside's rotation alongside."""
    with scopes_disabled():
        to_attending = [
            factories.RotationFactory(
                attending=attending, start=monday(2 + n % 10), status="approved"
            )
            for n in range(50)
        ]
        of_student = [
            factories.RotationFactory(
                organization=demo["org"], student=demo["student"], start=monday(2 + n % 10)
            )
            for n in range(50)
        ]
    return {"to_attending": to_attending, "of_student": of_student}


@pytest.mark.parametrize("member", ["student", "attending", "admin"])
def test_rotation_list_runs_a_fixed_number_of_queries(
    demo, many_rotations, client_for, django_assert_max_num_queries, member
):
    client = client_for(demo[member])
    with django_assert_max_num_queries(8):
        response = client.get("/rotations/")
    assert response.status_code == 200
    assert len(rotation_links(response)) == 50
    if member == "admin":
        assert "100 rotations, page 1 of 2" in text(response)


def test_each_member_lists_only_their_rotations(demo, many_rotations, client_for):
    student_ids = {str(r.pk) for r in many_rotations["of_student"]}
    attending_ids = {str(r.pk) for r in many_rotations["to_attending"]}
    assert set(rotation_links(client_for(demo["student"]).get("/rotations/"))) == student_ids
    assert set(rotation_links(client_for(demo["attending"]).get("/rotations/"))) == attending_ids
    admin = client_for(demo["admin"])
    seen = set(rotation_links(admin.get("/rotations/"))) | set(
        rotation_links(admin.get("/rotations/?page=2"))
    )
    assert seen == student_ids | attending_ids  # northside's rotation is not among them


def test_attending_list_puts_waiting_requests_first(demo, attending, open_weeks, client_for):
    with scopes_disabled():
        approved = factories.RotationFactory(
            attending=attending, status="approved", start=monday(9)
        )
        later = factories.RotationFactory(
            attending=attending,
            requested_at=timezone.now() - timedelta(days=1),
            start=monday(2),
        )
        urgent = factories.RotationFactory(
            attending=attending,
            requested_at=timezone.now() - timedelta(days=5),
            start=monday(3),
        )
    response = client_for(demo["attending"]).get("/rotations/")
    assert rotation_links(response) == [str(urgent.pk), str(later.pk), str(approved.pk)]
    assert text(response).count("Waiting for you") == 2


def test_admin_filters_rotations_by_status(demo, many_rotations, client_for):
    response = client_for(demo["admin"]).get("/rotations/?status=approved")
    assert set(rotation_links(response)) == {str(r.pk) for r in many_rotations["to_attending"]}
    assert "50 rotations with status “Approved”" in text(response)


def test_empty_lists_say_what_to_do_next(demo, attending, client_for):
    student_page = text(client_for(demo["student"]).get("/rotations/"))
    assert "No rotations yet." in student_page and "Find an attending" in student_page
    attending_page = text(client_for(demo["attending"]).get("/rotations/"))
    assert "Publish your availability" in attending_page


def test_student_dashboard_lists_upcoming_rotations(demo, requested, client_for):
    page = text(client_for(demo["student"]).get("/dashboard/"))
    assert f"Clerkship with {requested.attending.display_name}" in page
    assert "Requested" in page


def test_student_dashboard_without_rotations_points_to_search(demo, client_for):
    response = client_for(demo["student"]).get("/dashboard/")
    assert "No upcoming rotations." in text(response)
    assert 'href="/attendings/">Find an attending' in response.content.decode()


def test_attending_dashboard_shows_requests_with_their_answer_date(demo, requested, client_for):
    page = text(client_for(demo["attending"]).get("/dashboard/"))
    respond_by = timezone.localtime(requested.respond_by)
    assert "1 request to answer." in page
    assert requested.student.display_name in page
    # The time with its zone and UTC offset, for students and attendings abroad.
    assert f"{respond_by:%b} {respond_by.day}, {respond_by.year}, " in page
    assert f"{respond_by:%Z} (UTC−0" in page


def test_attending_dashboard_says_what_to_do_next(demo, client_for):
    client = client_for(demo["attending"])
    assert "Complete your attending profile" in text(client.get("/dashboard/"))
    with scopes_disabled():
        factories.AttendingProfileFactory(organization=demo["org"], membership=demo["attending"])
    page = text(client.get("/dashboard/"))
    assert "Nothing waiting: no requests or date changes to answer." in page
    assert "Publish your availability" in page
