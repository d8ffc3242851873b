"""Date changes and postponements through the API (DESIGN §5): the student proposes,
the attending accepts (capacity moves atomically) or declines; an admin may postpone."""

from datetime import timedelta

import pytest
from django_scopes import scopes_disabled

from rotations.date_changes import CANCEL_HINT
from rotations.models import AvailabilityWeek, DateChange, Rotation
from rotations.services import long_date
from tests import factories
from tests.rotations.conftest import booked, emails

pytestmark = pytest.mark.django_db

START = factories.next_monday  # START(2): the Monday after next


@pytest.fixture
def rotation(demo, attending, northside_attending):
    """An approved two-week rotation from the Monday after next; eight weeks published
    from then (2 places each) and its two places booked."""
    with scopes_disabled():
        weeks = factories.publish(attending, START(2), 8)
        for week in weeks[:2]:
            week.booked = 1
            week.save(update_fields=["booked"])
        return factories.RotationFactory(
            attending=attending, student=demo["student"], start=START(2), status="approved"
        )


def propose(api, membership, rotation, new_start, reason="My visa interview moved."):
    body = {"new_start": new_start.isoformat() if new_start else None, "reason": reason}
    return api(membership).post(f"/api/v1/rotations/{rotation.pk}/date-changes", body)


def open_change(rotation, by) -> DateChange:
    with scopes_disabled():
        return DateChange.objects.create(
            organization=rotation.organization,
            rotation=rotation,
            proposed_start=rotation.start + timedelta(weeks=1),
            proposed_by=by,
        )


def fresh(obj):
    with scopes_disabled():
        return type(obj).objects.get(pk=obj.pk)


def assert_refused(response, status, code, message, before, after):
    body = response.json()
    assert response.status_code == status, body
    assert body["code"] == code
    assert message in body["detail"]
    assert after == before


# --- Proposing ------------------------------------------------------------------------------


def test_the_student_proposes_a_new_start_and_the_attending_is_told(demo, rotation, api):
    new_start = START(4)

    response = propose(api, demo["student"], rotation, new_start)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "proposed"
    assert body["proposed_start"] == new_start.isoformat()
    assert body["rotation_id"] == rotation.pk
    assert [e.recipient for e in emails("date_change_proposed")] == [demo["attending"].user.email]
    assert fresh(rotation).start == START(2)  # nothing moves until the attending accepts
    detail = api(demo["student"]).get(f"/api/v1/rotations/{rotation.pk}").json()
    assert detail["open_date_change"]["id"] == body["id"]


def test_a_new_start_that_is_not_a_monday_is_bad_input(demo, rotation, api, everything):
    before = everything()

    response = propose(api, demo["student"], rotation, START(4) + timedelta(days=2))

    assert_refused(response, 400, "start_not_monday", "is not a Monday", before, everything())


def test_a_new_start_in_the_past_is_bad_input(demo, rotation, api, everything):
    before = everything()

    response = propose(api, demo["student"], rotation, START(-1))

    assert_refused(
        response, 400, "start_in_past", "Choose a start date in the future.", before, everything()
    )


def test_the_same_start_is_bad_input(demo, rotation, api, everything):
    before = everything()

    response = propose(api, demo["student"], rotation, rotation.start)

    assert_refused(
        response, 400, "same_start", "That is the current start date.", before, everything()
    )


def test_unpublished_weeks_are_a_conflict_with_the_cancel_hint(demo, rotation, api, everything):
    before = everything()
    beyond = START(10)  # weeks 10 and 11: never published

    response = propose(api, demo["student"], rotation, beyond)

    assert_refused(
        response,
        409,
        "week_unavailable",
        f"does not host students the week of {long_date(beyond)}.{CANCEL_HINT}",
        before,
        everything(),
    )
    assert "you may cancel; what you paid becomes credit" in response.json()["detail"]


def test_a_full_week_is_a_conflict_with_the_cancel_hint(demo, attending, rotation, api, everything):
    with scopes_disabled():
        AvailabilityWeek.objects.filter(attending=attending, week_start=START(5)).update(booked=2)
    before = everything()

    response = propose(api, demo["student"], rotation, START(4))

    assert_refused(
        response,
        409,
        "week_full",
        f"The week of {long_date(START(5))} is full (2 of 2 places taken).{CANCEL_HINT}",
        before,
        everything(),
    )


def test_its_own_place_does_not_count_against_a_move_by_one_week(demo, attending, rotation, api):
    """Moving by a week keeps one week in common: the rotation's own place there is not a
    competitor, even when that week has no other free place."""
    with scopes_disabled():
        AvailabilityWeek.objects.filter(attending=attending, week_start=START(3)).update(capacity=1)

    response = propose(api, demo["student"], rotation, START(3))

    assert response.status_code == 201, response.json()


def test_a_second_open_proposal_is_a_conflict(demo, rotation, api, everything):
    assert propose(api, demo["student"], rotation, START(4)).status_code == 201
    before = everything()

    response = propose(api, demo["student"], rotation, START(5))

    assert_refused(
        response,
        409,
        "date_change_open",
        "A date change is already waiting for the attending.",
        before,
        everything(),
    )


def test_only_the_student_proposes(demo, rotation, api, everything):
    before = everything()

    response = propose(api, demo["attending"], rotation, START(4))

    assert_refused(
        response,
        403,
        "not_the_student",
        "Only the rotation's student can propose a new date.",
        before,
        everything(),
    )


def test_a_requested_rotation_has_no_dates_to_change(demo, rotation, api, everything):
    with scopes_disabled():
        Rotation.objects.filter(pk=rotation.pk).update(status="requested")
    before = everything()

    response = propose(api, demo["student"], rotation, START(4))

    assert_refused(
        response,
        409,
        "wrong_status",
        "This rotation is requested; its dates cannot change.",
        before,
        everything(),
    )


# --- Answering ------------------------------------------------------------------------------


def accept(api, membership, change):
    return api(membership).post(f"/api/v1/date-changes/{change.pk}/accept")


def decline(api, membership, change, reason=""):
    return api(membership).post(f"/api/v1/date-changes/{change.pk}/decline", {"reason": reason})


def test_accepting_moves_the_places_atomically(demo, attending, rotation, api):
    change = open_change(rotation, demo["student"])  # START(2) → START(3), one week shared
    before = booked(attending)

    response = accept(api, demo["attending"], change)

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "accepted"
    after = booked(attending)
    assert after[START(2)] == before[START(2)] - 1  # the old week no longer held
    assert after[START(3)] == before[START(3)]  # in both: unchanged
    assert after[START(4)] == before[START(4)] + 1  # the new week taken
    assert {day: n for day, n in after.items() if day not in (START(2), START(4))} == {
        day: n for day, n in before.items() if day not in (START(2), START(4))
    }
    moved = fresh(rotation)
    assert (moved.start, moved.status) == (START(3), "approved")
    assert fresh(change).decided_by == demo["attending"]
    assert [e.recipient for e in emails("date_change_accepted")] == [demo["student"].user.email]
    detail = api(demo["student"]).get(f"/api/v1/rotations/{rotation.pk}").json()
    assert detail["start"] == START(3).isoformat()
    assert detail["open_date_change"] is None
    assert detail["events"][-1]["note"] == f"Moved to start {long_date(START(3))}."


def test_accepting_into_a_week_that_filled_up_meanwhile_changes_nothing(
    demo, attending, rotation, api, everything
):
    change = open_change(rotation, demo["student"])
    with scopes_disabled():
        AvailabilityWeek.objects.filter(attending=attending, week_start=START(4)).update(booked=2)
    before = everything()

    response = accept(api, demo["attending"], change)

    assert_refused(
        response,
        409,
        "week_full",
        f"The week of {long_date(START(4))} is full (2 of 2 places taken).",
        before,
        everything(),
    )
    assert fresh(change).status == "proposed"


def test_a_change_is_answered_once(demo, rotation, api, everything):
    change = open_change(rotation, demo["student"])
    assert accept(api, demo["attending"], change).status_code == 200
    before = everything()

    again = accept(api, demo["attending"], change)
    declined = decline(api, demo["attending"], change)

    for response in (again, declined):
        assert_refused(
            response,
            409,
            "date_change_answered",
            "This date change was already answered.",
            before,
            everything(),
        )


@pytest.mark.parametrize("who", ["student", "admin"])
def test_only_the_attending_answers(demo, rotation, api, everything, who):
    change = open_change(rotation, demo["student"])
    before = everything()

    for response in (accept(api, demo[who], change), decline(api, demo[who], change)):
        assert_refused(
            response,
            403,
            "not_the_attending",
            "Only the rotation's attending can answer.",
            before,
            everything(),
        )


def test_declining_leaves_the_rotation_and_its_places_alone(
    demo, attending, rotation, api, everything
):
    change = open_change(rotation, demo["student"])
    before = everything()

    response = decline(api, demo["attending"], change, reason="I am away then.")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "declined"
    after = everything()
    assert after["weeks"] == before["weeks"]
    assert after["rotations"] == before["rotations"]
    declined = emails("date_change_declined")
    assert [e.recipient for e in declined] == [demo["student"].user.email]
    assert declined[0].context["note"] == "I am away then." + CANCEL_HINT
    assert fresh(rotation).start == START(2)


def test_another_organizations_date_change_is_not_found(demo, northside, rotation, api, everything):
    with scopes_disabled():
        theirs = factories.RotationFactory(
            attending=factories.AttendingProfileFactory(organization=northside["org"]),
            student=northside["student"],
            status="approved",
        )
    change = open_change(theirs, northside["student"])
    before = everything()

    for who in ("attending", "admin", "student"):
        for response in (accept(api, demo[who], change), decline(api, demo[who], change)):
            assert_refused(response, 404, "not_found", "Not found.", before, everything())


# --- Postponing -----------------------------------------------------------------------------


def postpone(api, membership, rotation, new_start, reason):
    return api(membership).post(
        f"/api/v1/rotations/{rotation.pk}/postpone",
        {"new_start": new_start.isoformat(), "reason": reason},
    )


def test_an_admin_postpones_with_the_effect_of_an_accepted_change(demo, attending, rotation, api):
    pending = open_change(rotation, demo["student"])
    before = booked(attending)

    response = postpone(api, demo["admin"], rotation, START(5), "Student is ill.")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["start"]) == ("approved", START(5).isoformat())
    assert body["events"][-1]["note"] == f"Postponed to {long_date(START(5))}: Student is ill."
    after = booked(attending)
    for day in (START(2), START(3)):
        assert after[day] == before[day] - 1
    for day in (START(5), START(6)):
        assert after[day] == before[day] + 1
    assert fresh(pending).status == "declined"  # the student's proposal is moot now
    assert sorted(e.recipient for e in emails("rotation_postponed")) == sorted(
        [demo["student"].user.email, demo["attending"].user.email]
    )


@pytest.mark.parametrize("reason", ["", "   "])
def test_postponing_needs_a_reason(demo, rotation, api, everything, reason):
    before = everything()

    response = postpone(api, demo["admin"], rotation, START(5), reason)

    assert_refused(
        response,
        400,
        "reason_required",
        "Say why the rotation is postponed.",
        before,
        everything(),
    )


@pytest.mark.parametrize("who", ["student", "attending"])
def test_only_admins_postpone(demo, rotation, api, everything, who):
    before = everything()

    response = postpone(api, demo[who], rotation, START(5), "Because.")

    assert_refused(
        response,
        403,
        "not_admin",
        "Only admins can postpone rotations.",
        before,
        everything(),
    )


def test_postponing_into_a_full_week_changes_nothing(demo, attending, rotation, api, everything):
    with scopes_disabled():
        AvailabilityWeek.objects.filter(attending=attending, week_start=START(6)).update(booked=2)
    before = everything()

    response = postpone(api, demo["admin"], rotation, START(5), "Student is ill.")

    assert_refused(
        response,
        409,
        "week_full",
        f"The week of {long_date(START(6))} is full (2 of 2 places taken).",
        before,
        everything(),
    )


def test_a_non_monday_new_start_is_reported_on_the_new_start_field(demo, rotation, api):
    response = propose(api, demo["student"], rotation, START(4) + timedelta(days=2))

    assert response.json()["errors"] == {"new_start": [response.json()["detail"]]}


def test_accepting_is_refused_if_the_student_booked_those_weeks_elsewhere_meanwhile(
    demo, attending, rotation, api, everything
):
    """One active rotation per week (§5) holds at acceptance too, not only at proposal."""
    change = open_change(rotation, demo["student"])  # to START(3)
    with scopes_disabled():
        factories.RotationFactory(
            organization=demo["org"],
            student=demo["student"],
            start=START(4),
            weeks=1,
            status="requested",
        )
    before = everything()

    response = accept(api, demo["attending"], change)

    assert_refused(
        response, 409, "overlapping_rotation", "overlapping these weeks", before, everything()
    )
    assert fresh(change).status == "proposed"
    assert fresh(rotation).start == START(2)
