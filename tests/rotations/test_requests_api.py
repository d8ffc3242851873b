"""Requesting a rotation through the API and its lifecycle (DESIGN §5, §12).

Every refusal checks the status, the message, the code and that nothing changed: no
rotation row, no history line, no outbox row, no week's booking.
"""

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.utils import timezone
from django_scopes import scopes_disabled

from rotations.models import Evaluation, Rotation, RotationEvent
from rotations.services import long_date
from tests import factories
from tests.rotations.conftest import booked, emails

pytestmark = pytest.mark.django_db

ROTATIONS = "/api/v1/rotations"


@pytest.fixture
def weeks(attending, northside_attending):
    """Eight published weeks (2 places each) from the Monday after next."""
    with scopes_disabled():
        return factories.publish(attending, factories.next_monday(2), 8)


def request_body(attending, **changes) -> dict:
    body = {
        "attending": attending.pk,
        "rotation_type": "clerkship",
        "mode": "in_person",
        "start": factories.next_monday(2).isoformat(),
        "weeks": 2,
        "payer": "self",
        "plan": "full",
        "payment_method": "zelle",
        "message": "I would love to join your clinic.",
    }
    body.update(changes)
    return body


def assert_refused(response, status: int, code: str, message: str, before: dict, after: dict):
    body = response.json()
    assert response.status_code == status, body
    assert body["code"] == code
    assert message in body["detail"]
    assert after == before  # no rotation, no event, no email, no booking


def at_local_noon(day):
    return timezone.make_aware(datetime.combine(day, time(12)))


# --- Who may ask ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("pending", "Your profile is pending verification; allow up to 24 hours."),
        ("incomplete", "Your profile is incomplete; finish and submit it for verification first."),
        ("needs_info", "An admin asked for more information; update your profile"),
        ("rejected", "Your profile was not verified; open a support ticket"),
    ],
)
def test_only_verified_students_may_request(
    demo, attending, weeks, api, everything, status, message
):
    with scopes_disabled():
        student = factories.StudentFactory(organization=demo["org"], verification_status=status)
    before = everything()

    response = api(student).post(ROTATIONS, request_body(attending))

    assert_refused(response, 403, f"profile_{status}", message, before, everything())


def test_the_pending_message_names_the_organizations_verification_target(
    demo, attending, weeks, api, everything
):
    demo["org"].verification_target_hours = 48
    demo["org"].save(update_fields=["verification_target_hours"])
    before = everything()

    response = api(demo["pending"]).post(ROTATIONS, request_body(attending))

    assert_refused(response, 403, "profile_pending", "allow up to 48 hours", before, everything())


def test_an_attending_cannot_request_a_rotation(demo, attending, weeks, api, everything):
    before = everything()

    response = api(demo["attending"]).post(ROTATIONS, request_body(attending))

    assert_refused(response, 403, "permission_denied", "Only students", before, everything())


# --- Type and mode ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "rotation_type", "message"),
    [
        ("img", "elective", "Elective rotations are not open to graduates (IMG)."),
        ("ims", "externship", "Externship rotations are not open to current students (IMS)."),
    ],
)
def test_a_type_not_allowed_for_the_students_kind_is_forbidden(
    demo, attending, weeks, api, everything, kind, rotation_type, message
):
    with scopes_disabled():
        student = factories.StudentFactory(organization=demo["org"], profile__kind=kind)
    before = everything()

    response = api(student).post(ROTATIONS, request_body(attending, rotation_type=rotation_type))

    assert_refused(response, 403, "type_not_allowed_for_kind", message, before, everything())


@pytest.mark.parametrize(("kind", "rotation_type"), [("ims", "elective"), ("img", "externship")])
def test_the_type_of_ones_own_kind_is_allowed(demo, attending, weeks, api, kind, rotation_type):
    with scopes_disabled():
        student = factories.StudentFactory(organization=demo["org"], profile__kind=kind)

    response = api(student).post(ROTATIONS, request_body(attending, rotation_type=rotation_type))

    assert response.status_code == 201, response.json()
    assert response.json()["rotation_type"] == rotation_type


def test_a_type_the_attending_does_not_offer_is_bad_input(demo, attending, weeks, api, everything):
    attending.rotation_types = ["clerkship"]
    attending.save(update_fields=["rotation_types"])
    before = everything()

    response = api(demo["student"]).post(
        ROTATIONS, request_body(attending, rotation_type="observership")
    )

    assert_refused(
        response,
        400,
        "type_not_offered",
        f"{attending.display_name} does not offer observership rotations.",
        before,
        everything(),
    )


def test_a_mode_the_attending_does_not_offer_is_bad_input(demo, attending, weeks, api, everything):
    attending.modes = ["in_person"]
    attending.save(update_fields=["modes"])
    before = everything()

    response = api(demo["student"]).post(ROTATIONS, request_body(attending, mode="tele"))

    assert_refused(
        response,
        400,
        "mode_not_offered",
        f"{attending.display_name} does not offer this mode (tele).",
        before,
        everything(),
    )


# --- Weeks --------------------------------------------------------------------------------


def test_a_full_week_is_a_conflict_naming_the_week(demo, attending, weeks, api, everything):
    full = weeks[1]
    with scopes_disabled():
        full.booked = full.capacity
        full.save(update_fields=["booked"])
    before = everything()

    response = api(demo["student"]).post(ROTATIONS, request_body(attending))

    assert_refused(
        response,
        409,
        "week_full",
        f"The week of {long_date(full.week_start)} is full (2 of 2 places taken).",
        before,
        everything(),
    )


def test_an_unpublished_week_is_a_conflict(demo, attending, weeks, api, everything):
    last = weeks[-1].week_start
    before = everything()

    response = api(demo["student"]).post(
        ROTATIONS, request_body(attending, start=last.isoformat(), weeks=2)
    )

    assert_refused(
        response,
        409,
        "week_unavailable",
        f"does not host students the week of {long_date(last + timedelta(weeks=1))}.",
        before,
        everything(),
    )


def test_an_overlapping_active_rotation_is_a_conflict(demo, attending, weeks, api, everything):
    with scopes_disabled():
        other = factories.AttendingProfileFactory(organization=demo["org"])
        factories.RotationFactory(
            attending=other,
            student=demo["student"],
            start=factories.next_monday(3),
            weeks=2,
            status="approved",
        )
    before = everything()

    response = api(demo["student"]).post(ROTATIONS, request_body(attending))

    assert_refused(
        response,
        409,
        "overlapping_rotation",
        f"You already have an approved rotation with {other.display_name}",
        before,
        everything(),
    )


def test_a_finished_or_declined_rotation_does_not_block_the_weeks(demo, attending, weeks, api):
    with scopes_disabled():
        for status in ("declined", "withdrawn", "cancelled", "expired"):
            factories.RotationFactory(
                attending=attending, student=demo["student"], status=status, weeks=2
            )

    response = api(demo["student"]).post(ROTATIONS, request_body(attending))

    assert response.status_code == 201, response.json()


def test_fewer_weeks_than_the_attendings_minimum_is_bad_input(
    demo, attending, weeks, api, everything
):
    attending.minimum_weeks = 4
    attending.save(update_fields=["minimum_weeks"])
    before = everything()

    response = api(demo["student"]).post(ROTATIONS, request_body(attending, weeks=3))

    assert_refused(
        response,
        400,
        "below_minimum_weeks",
        f"{attending.display_name} takes students for at least 4 weeks.",
        before,
        everything(),
    )


@pytest.mark.parametrize("count", [0, 13])
def test_a_rotation_lasts_1_to_12_weeks(demo, attending, weeks, api, everything, count):
    with scopes_disabled():
        factories.publish(attending, factories.next_monday(10), 6)  # 14 weeks published
    before = everything()

    response = api(demo["student"]).post(ROTATIONS, request_body(attending, weeks=count))

    assert_refused(
        response, 400, "weeks_out_of_range", "A rotation lasts 1 to 12 weeks.", before, everything()
    )


def test_twelve_weeks_is_allowed(demo, attending, weeks, api):
    with scopes_disabled():
        factories.publish(attending, factories.next_monday(10), 4)

    response = api(demo["student"]).post(ROTATIONS, request_body(attending, weeks=12))

    assert response.status_code == 201, response.json()


def test_the_start_must_be_a_monday(demo, attending, weeks, api, everything):
    tuesday = factories.next_monday(2) + timedelta(days=1)
    before = everything()

    response = api(demo["student"]).post(
        ROTATIONS, request_body(attending, start=tuesday.isoformat())
    )

    assert_refused(
        response,
        400,
        "start_not_monday",
        f"{long_date(tuesday)} is not a Monday; rotations start on Mondays.",
        before,
        everything(),
    )


@pytest.mark.parametrize("weeks_ago", [0, 1], ids=["this-weeks-monday", "last-weeks-monday"])
def test_the_start_must_be_in_the_future(demo, attending, api, everything, weeks_ago):
    start = factories.next_monday(-weeks_ago)
    with scopes_disabled():
        factories.publish(attending, start, 4)
    before = everything()

    response = api(demo["student"]).post(
        ROTATIONS, request_body(attending, start=start.isoformat())
    )

    assert_refused(
        response, 400, "start_in_past", "Choose a start date in the future.", before, everything()
    )


@pytest.mark.parametrize(("days_ahead", "allowed"), [(20, False), (21, True)])
def test_weekly_plan_needs_21_days_lead(
    demo, attending, api, everything, client_for, days_ahead, allowed
):
    start = factories.next_monday(5)
    with scopes_disabled():
        factories.publish(attending, start, 2)
    with time_machine.travel(at_local_noon(start - timedelta(days=days_ahead)), tick=False):
        before = everything()
        response = api(demo["student"]).post(
            ROTATIONS, request_body(attending, start=start.isoformat(), plan="weekly")
        )
        if allowed:
            assert response.status_code == 201, response.json()
            assert response.json()["plan"] == "weekly"
        else:
            assert_refused(
                response,
                400,
                "plan_not_allowed",
                "Weekly installments need the rotation to start at least 21 days from now",
                before,
                everything(),
            )


# --- The request itself ---------------------------------------------------------------------


def test_a_request_is_created_requested_with_seven_days_to_answer_and_emails_both(
    demo, attending, weeks, api
):
    student = demo["student"]
    before = booked(attending)

    response = api(student).post(ROTATIONS, request_body(attending))

    assert response.status_code == 201, response.json()
    body = response.json()
    with scopes_disabled():
        rotation = Rotation.objects.get(pk=body["id"])
        assert rotation.organization == demo["org"]
        assert [e.status for e in RotationEvent.objects.filter(rotation=rotation)] == ["requested"]
    assert rotation.status == body["status"] == "requested"
    assert rotation.student == student
    assert (rotation.start, rotation.weeks) == (factories.next_monday(2), 2)
    assert (rotation.payer, rotation.plan, rotation.payment_method) == ("self", "full", "zelle")
    assert rotation.message == "I would love to join your clinic."
    assert rotation.respond_by - rotation.requested_at == timedelta(days=7)
    assert abs(rotation.requested_at - timezone.now()) < timedelta(minutes=1)
    assert body["attending"]["id"] == attending.pk
    assert body["total"] == "1000.00"
    assert [event["status"] for event in body["events"]] == ["requested"]
    # Emails: the attending is asked, the student gets a receipt.
    to_attending = emails("rotation_requested")
    assert [e.recipient for e in to_attending] == [demo["attending"].user.email]
    assert to_attending[0].context["rotation_id"] == rotation.pk
    assert [e.recipient for e in emails("rotation_request_sent")] == [student.user.email]
    # Capacity is taken at approval, not now.
    assert booked(attending) == before


def test_the_response_window_is_the_organizations_setting(demo, attending, weeks, api):
    demo["org"].attending_response_days = 3
    demo["org"].save(update_fields=["attending_response_days"])

    response = api(demo["student"]).post(ROTATIONS, request_body(attending))

    assert response.status_code == 201
    with scopes_disabled():
        rotation = Rotation.objects.get(pk=response.json()["id"])
    assert rotation.respond_by - rotation.requested_at == timedelta(days=3)


def test_another_organizations_attending_cannot_be_requested(
    demo, northside_attending, api, everything
):
    before = everything()

    response = api(demo["student"]).post(ROTATIONS, request_body(northside_attending))

    assert_refused(response, 400, "invalid", "attending: No such attending.", before, everything())


# --- Decisions ----------------------------------------------------------------------------


@pytest.fixture
def request_(demo, attending, weeks):
    """A requested two-week rotation of the demo student, from the Monday after next."""
    with scopes_disabled():
        return factories.RotationFactory(
            attending=attending, student=demo["student"], start=factories.next_monday(2)
        )


def action(rotation, name: str) -> str:
    return f"{ROTATIONS}/{rotation.pk}/{name}"


def status_of(rotation) -> str:
    with scopes_disabled():
        return Rotation.objects.get(pk=rotation.pk).status


def test_the_attending_approves_a_request_and_takes_its_places(demo, attending, request_, api):
    first, second = request_.week_starts

    response = api(demo["attending"]).post(action(request_, "approve"))

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "approved"
    assert [event["status"] for event in response.json()["events"]] == ["approved"]
    assert status_of(request_) == "approved"
    assert booked(attending)[first] == 1 and booked(attending)[second] == 1
    assert sum(booked(attending).values()) == 2
    assert [e.recipient for e in emails("rotation_approved")] == [demo["student"].user.email]


@pytest.mark.parametrize("who", ["student", "admin"])
def test_only_the_rotations_attending_approves(demo, request_, api, everything, who):
    before = everything()

    response = api(demo[who]).post(action(request_, "approve"))

    assert_refused(
        response,
        403,
        "not_the_attending",
        "Only the rotation's attending can do this.",
        before,
        everything(),
    )


def test_another_attending_does_not_even_see_the_request(demo, request_, api, everything):
    with scopes_disabled():
        colleague = factories.AttendingProfileFactory(organization=demo["org"]).membership
    before = everything()

    response = api(colleague).post(action(request_, "approve"))

    assert_refused(response, 404, "not_found", "Not found.", before, everything())


@pytest.mark.parametrize("status", ["approved", "declined", "withdrawn", "expired"])
def test_approving_a_request_that_is_no_longer_requested_is_a_conflict(
    demo, request_, api, everything, status
):
    with scopes_disabled():
        Rotation.objects.filter(pk=request_.pk).update(status=status)
    before = everything()

    response = api(demo["attending"]).post(action(request_, "approve"))

    assert_refused(
        response,
        409,
        "wrong_status",
        "This rotation is already approved."
        if status == "approved"
        else f"This rotation is {status}; it cannot be approved.",
        before,
        everything(),
    )


def test_approving_after_the_response_window_is_a_conflict(demo, request_, api, everything):
    before = everything()
    with time_machine.travel(request_.respond_by + timedelta(minutes=1), tick=False):
        response = api(demo["attending"]).post(action(request_, "approve"))

    assert_refused(
        response,
        409,
        "request_expired",
        "The response window for this request has passed.",
        before,
        everything(),
    )


def test_the_attending_declines_with_a_reason(demo, attending, request_, api):
    before = booked(attending)

    response = api(demo["attending"]).post(
        action(request_, "decline"), {"reason": "I am away that month."}
    )

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "declined"
    assert response.json()["decision_note"] == "I am away that month."
    assert status_of(request_) == "declined"
    declined = emails("rotation_declined")
    assert [e.recipient for e in declined] == [demo["student"].user.email]
    assert declined[0].context["note"] == "I am away that month."
    assert booked(attending) == before


def test_declining_an_approved_rotation_is_a_conflict(demo, request_, api, everything):
    api(demo["attending"]).post(action(request_, "approve"))
    before = everything()

    response = api(demo["attending"]).post(action(request_, "decline"))

    assert_refused(
        response,
        409,
        "wrong_status",
        "This rotation is approved; it cannot be declined.",
        before,
        everything(),
    )


def test_the_student_withdraws_an_unanswered_request(demo, request_, api):
    response = api(demo["student"]).post(action(request_, "withdraw"))

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "withdrawn"
    assert status_of(request_) == "withdrawn"
    assert [e.recipient for e in emails("rotation_withdrawn")] == [demo["attending"].user.email]


def test_only_the_student_withdraws(demo, request_, api, everything):
    before = everything()

    response = api(demo["attending"]).post(action(request_, "withdraw"))

    assert_refused(
        response,
        403,
        "not_the_student",
        "Only the student who asked can withdraw.",
        before,
        everything(),
    )


def test_withdrawing_an_approved_rotation_is_a_conflict(demo, request_, api, everything):
    api(demo["attending"]).post(action(request_, "approve"))
    before = everything()

    response = api(demo["student"]).post(action(request_, "withdraw"))

    assert_refused(
        response,
        409,
        "wrong_status",
        "This rotation is approved; it cannot be withdrawn.",
        before,
        everything(),
    )


@pytest.mark.parametrize("who", ["student", "admin"])
def test_cancelling_an_approved_rotation_gives_its_places_back(demo, attending, request_, api, who):
    before = booked(attending)
    api(demo["attending"]).post(action(request_, "approve"))
    assert booked(attending) != before  # the places were taken

    response = api(demo[who]).post(action(request_, "cancel"), {"reason": "Visa refused."})

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "cancelled"
    assert response.json()["decision_note"] == "Visa refused."
    assert status_of(request_) == "cancelled"
    assert booked(attending) == before
    assert sorted(e.recipient for e in emails("rotation_cancelled")) == sorted(
        [demo["attending"].user.email, demo["student"].user.email]
    )


def test_cancelling_a_request_is_a_conflict(demo, request_, api, everything):
    before = everything()

    response = api(demo["student"]).post(action(request_, "cancel"))

    assert_refused(
        response,
        409,
        "wrong_status",
        "This rotation is requested; it cannot be cancelled.",
        before,
        everything(),
    )


def test_the_attending_cannot_cancel(demo, request_, api, everything):
    api(demo["attending"]).post(action(request_, "approve"))
    before = everything()

    response = api(demo["attending"]).post(action(request_, "cancel"))

    assert_refused(
        response,
        403,
        "not_allowed",
        "Only the student or an admin can cancel.",
        before,
        everything(),
    )


# --- Completion -----------------------------------------------------------------------------

EVALUATION = {
    "medical_knowledge": 4,
    "clinical_skills": 5,
    "professionalism": 5,
    "communication": 3,
    "comments": "Thorough histories, kind to patients.",
    "activities": "Admitted and followed 6 patients a day; presented at morning report.",
}


@pytest.fixture
def in_progress(demo, attending):
    """A one-week rotation running this week, its place booked."""
    this_monday = factories.next_monday(0)
    with scopes_disabled():
        week = factories.AvailabilityWeekFactory(attending=attending, week_start=this_monday)
        week.booked = 1
        week.save(update_fields=["booked"])
        return factories.RotationFactory(
            attending=attending,
            student=demo["student"],
            start=this_monday,
            weeks=1,
            status="in_progress",
        )


def test_completing_before_the_end_date_is_a_conflict(demo, in_progress, api, everything):
    before = everything()

    response = api(demo["attending"]).post(action(in_progress, "complete"), EVALUATION)

    end = in_progress.end
    assert_refused(
        response,
        409,
        "not_ended",
        f"The rotation ends on {end:%B} {end.day}; mark it completed after that.",
        before,
        everything(),
    )


def test_after_the_end_date_the_attending_completes_with_an_evaluation(
    demo, attending, in_progress, api
):
    with time_machine.travel(at_local_noon(in_progress.end + timedelta(days=1)), tick=False):
        response = api(demo["attending"]).post(action(in_progress, "complete"), EVALUATION)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "completed"
    assert status_of(in_progress) == "completed"
    assert body["evaluation"] == {
        **EVALUATION,
        "created_at": body["evaluation"]["created_at"],
    }
    with scopes_disabled():
        evaluation = Evaluation.objects.get(rotation=in_progress)
    assert (evaluation.medical_knowledge, evaluation.communication) == (4, 3)
    assert body["experience_entry"] == {
        "title": "Internal medicine clerkship",
        "organization": "Riverside Internal Medicine",
        "site": "Houston, TX",
        "supervisor": f"{attending.display_name}, MD",
        "start": in_progress.start.isoformat(),
        "end": in_progress.end.isoformat(),
        "duration_weeks": 1,
        "hours_per_week": 40,
        "setting": "Inpatient and outpatient",
        "activities": EVALUATION["activities"],
    }
    assert [e.recipient for e in emails("rotation_completed")] == [demo["student"].user.email]
    # The student reads the same entry on their rotation; the activities, like the
    # evaluation, once it is revealed with their review or after 14 days (§15).
    seen = api(demo["student"]).get(f"{ROTATIONS}/{in_progress.pk}").json()
    assert seen["experience_entry"] == {**body["experience_entry"], "activities": ""}
    assert seen["evaluation"] is None


def test_an_unfinished_rotation_has_no_experience_entry(demo, in_progress, api):
    body = api(demo["student"]).get(f"{ROTATIONS}/{in_progress.pk}").json()

    assert body["experience_entry"] is None
    assert body["evaluation"] is None


@pytest.mark.parametrize(
    ("field", "value"),
    [("medical_knowledge", 0), ("clinical_skills", 6), ("professionalism", -1)],
)
def test_ratings_outside_1_to_5_are_refused(demo, in_progress, api, everything, field, value):
    before = everything()
    with time_machine.travel(at_local_noon(in_progress.end + timedelta(days=1)), tick=False):
        response = api(demo["attending"]).post(
            action(in_progress, "complete"), {**EVALUATION, field: value}
        )

    body = response.json()
    assert response.status_code == 400, body
    assert body["code"] == "invalid"
    assert body["detail"].startswith(f"{field}: Ensure this value is")
    assert field in body["errors"]
    assert everything() == before
    assert status_of(in_progress) == "in_progress"


def test_completing_a_rotation_that_is_not_in_progress_is_a_conflict(
    demo, request_, api, everything
):
    api(demo["attending"]).post(action(request_, "approve"))
    before = everything()
    with time_machine.travel(at_local_noon(request_.end + timedelta(days=1)), tick=False):
        response = api(demo["attending"]).post(action(request_, "complete"), EVALUATION)

    assert_refused(
        response,
        409,
        "wrong_status",
        "This rotation is approved; it cannot be completed.",
        before,
        everything(),
    )
