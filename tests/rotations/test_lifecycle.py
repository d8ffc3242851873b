"""The lifecycle seam (DESIGN §5, STYLE §7): every transition announces itself exactly
once, with its event and context, inside its own transaction; a subscriber that raises
rolls the transition back and nothing is written. Rotations imports no subscriber: the
plan rule is payments' ``requested`` handler."""

from contextlib import ExitStack
from datetime import timedelta

import pytest
from django.db import transaction
from django_scopes import scope, scopes_disabled

from rotations import date_changes, lifecycle, readiness, services, sweeps
from rotations.models import AvailabilityWeek, DateChange, Rotation
from tests import factories

MISSING = readiness.ReadinessItem("document_missing", "Upload your TB test")


class Boom(Exception):
    pass


@pytest.fixture
def heard():
    """Every event announced during the test: ``(event, rotation id, context, in a
    transaction, the rotation's status as the handler saw it)``."""
    calls = []

    def listener_for(event):
        def listener(rotation, **context):
            in_transaction = transaction.get_connection().in_atomic_block
            calls.append((event, rotation.pk, context, in_transaction, rotation.status))

        return listener

    with ExitStack() as stack:
        for event in lifecycle.EVENTS:
            stack.enter_context(lifecycle.subscribed(event, listener_for(event)))
        yield calls


# --- One case per transition: build the rotation, then return the call that moves it ----


def weeks_for(attending, first_week, count=2, booked=0):
    with scopes_disabled():
        for week in factories.publish(attending, first_week, count):
            week.booked = booked
            week.save(update_fields=["booked"])


def rotation_in(demo, attending, status, **fields):
    with scopes_disabled():
        return factories.RotationFactory(
            attending=attending, student=demo["student"], status=status, **fields
        )


def request(demo, attending):
    start = factories.next_monday(2)
    weeks_for(attending, start)
    return None, lambda: services.request_rotation(
        demo["student"],
        attending=attending,
        rotation_type="clerkship",
        mode="in_person",
        start=start,
        weeks=2,
    )


def approve(demo, attending):
    weeks_for(attending, factories.next_monday(2))
    rotation = rotation_in(demo, attending, "requested")
    return rotation, lambda: services.approve_rotation(rotation, by=demo["attending"])


def decline(demo, attending):
    rotation = rotation_in(demo, attending, "requested")
    return rotation, lambda: services.decline_rotation(
        rotation, by=demo["attending"], reason="No places left in June."
    )


def withdraw(demo, attending):
    rotation = rotation_in(demo, attending, "requested")
    return rotation, lambda: services.withdraw_rotation(rotation, by=demo["student"])


def cancel(demo, attending):
    weeks_for(attending, factories.next_monday(2), booked=1)
    rotation = rotation_in(demo, attending, "approved")
    return rotation, lambda: services.cancel_rotation(
        rotation, by=demo["student"], reason="My visa was refused."
    )


def expire(demo, attending):
    asked = services.timezone.now() - timedelta(days=8)
    rotation = rotation_in(
        demo, attending, "requested", requested_at=asked, respond_by=asked + timedelta(days=7)
    )
    return rotation, lambda: sweeps.remind_and_expire_requests(demo["org"])


def accept_date_change(demo, attending):
    weeks_for(attending, factories.next_monday(2), booked=1)
    weeks_for(attending, factories.next_monday(5))
    rotation = rotation_in(demo, attending, "approved")
    with scopes_disabled():
        change = DateChange.objects.create(
            organization=demo["org"],
            rotation=rotation,
            proposed_start=factories.next_monday(5),
            reason="My visa interview moved.",
            proposed_by=demo["student"],
        )
    return rotation, lambda: date_changes.accept_date_change(change, by=demo["attending"])


def postpone(demo, attending):
    weeks_for(attending, factories.next_monday(2), booked=1)
    weeks_for(attending, factories.next_monday(5))
    rotation = rotation_in(demo, attending, "approved")
    return rotation, lambda: date_changes.postpone_rotation(
        rotation, by=demo["admin"], new_start=factories.next_monday(5), reason="Illness."
    )


def start(demo, attending):
    rotation = rotation_in(demo, attending, "approved", start=services.today())
    return rotation, lambda: sweeps.start_due_rotations(demo["org"])


def hold(demo, attending):
    rotation = rotation_in(demo, attending, "approved", start=services.today())

    def sweep_with_something_missing():
        readiness.register(missing_tb_test)
        try:
            return sweeps.start_due_rotations(demo["org"])
        finally:
            readiness.unregister(missing_tb_test)

    return rotation, sweep_with_something_missing


def missing_tb_test(rotation):
    return [MISSING]


def start_from_hold(demo, attending):
    rotation = rotation_in(
        demo, attending, "on_hold", start=services.today() - timedelta(weeks=1), weeks=4
    )
    return rotation, lambda: sweeps.start_due_rotations(demo["org"])


def complete(demo, attending):
    rotation = rotation_in(
        demo, attending, "in_progress", start=services.this_monday() - timedelta(weeks=3)
    )
    return rotation, lambda: services.complete_rotation(
        rotation,
        by=demo["attending"],
        ratings={
            "medical_knowledge": 5,
            "clinical_skills": 4,
            "professionalism": 5,
            "communication": 4,
        },  # fmt: skip
        comments="Thorough and kind.",
        activities="Rounds, clinic, case presentations.",
    )


FORMER_START = object()  # stands for the rotation's start before the transition

TRANSITIONS = {
    # name: (case, event, status after, context it carries besides ``by``)
    "request": (request, "requested", "requested", {}),
    "approve": (approve, "approved", "approved", {}),
    "decline": (decline, "declined", "declined", {"reason": "No places left in June."}),
    "withdraw": (withdraw, "withdrawn", "withdrawn", {"reason": ""}),
    "cancel": (cancel, "cancelled", "cancelled", {"reason": "My visa was refused."}),
    "expire (sweep)": (expire, "expired", "expired", {"reason": ""}),
    "accept a date change": (
        accept_date_change,
        "moved",
        "approved",
        {"previous_start": FORMER_START, "reason": "My visa interview moved."},
    ),
    "postpone": (
        postpone,
        "moved",
        "approved",
        {"previous_start": FORMER_START, "reason": "Illness."},
    ),
    "start (sweep)": (start, "started", "in_progress", {}),
    "hold (sweep)": (hold, "on_hold", "on_hold", {"missing": (MISSING,)}),
    "start from hold (sweep)": (start_from_hold, "started", "in_progress", {}),
    "complete": (complete, "completed", "completed", {}),
}
SYSTEM = {"expire (sweep)", "start (sweep)", "hold (sweep)", "start from hold (sweep)"}
WHO = {
    "request": "student",
    "approve": "attending",
    "decline": "attending",
    "withdraw": "student",
    "cancel": "student",
    "accept a date change": "attending",
    "postpone": "admin",
    "complete": "attending",
}


def status_of(pk) -> str:
    with scopes_disabled():
        return Rotation.objects.get(pk=pk).status


@pytest.mark.parametrize("name", TRANSITIONS)
def test_each_transition_announces_its_event_once_inside_its_transaction(
    name, demo, attending, heard
):
    case, event, status_after, context = TRANSITIONS[name]
    with scope(organization=demo["org"]):
        rotation, transition = case(demo, attending)
        result = transition()
    pk = rotation.pk if rotation else result.pk
    context = {
        key: rotation.start if value is FORMER_START else value for key, value in context.items()
    }

    assert [(call[0], call[1]) for call in heard] == [(event, pk)]
    _event, _pk, heard_context, in_transaction, status_seen = heard[0]
    expected_by = None if name in SYSTEM else demo[WHO[name]]
    assert heard_context == {"by": expected_by, **context}
    assert in_transaction
    assert status_seen == status_after  # announced after the change, before the commit
    assert status_of(pk) == status_after


@pytest.mark.parametrize("name", TRANSITIONS)
def test_a_subscriber_that_raises_rolls_the_transition_back(name, demo, attending, everything):
    case, event, _status_after, _context = TRANSITIONS[name]

    def refuse(rotation, **context):
        raise Boom(f"{event} refused")

    with scope(organization=demo["org"]):
        rotation, transition = case(demo, attending)
    before = everything()
    with scope(organization=demo["org"]), lifecycle.subscribed(event, refuse):
        with pytest.raises(Boom):
            transition()
    assert everything() == before  # no status, history, booking, email or evaluation
    if rotation is not None:
        with scopes_disabled():
            assert Rotation.objects.get(pk=rotation.pk).hold_reason == ""


def test_a_refused_move_keeps_the_places_where_they_were(demo, attending):
    _rotation, transition = postpone(demo, attending)

    def refuse(rotation, **context):
        raise Boom

    with scopes_disabled():
        before = dict(AvailabilityWeek.objects.values_list("week_start", "booked"))
    with scope(organization=demo["org"]), lifecycle.subscribed("moved", refuse):
        with pytest.raises(Boom):
            transition()
    with scopes_disabled():
        assert dict(AvailabilityWeek.objects.values_list("week_start", "booked")) == before


def test_a_sweep_announces_each_rotation_it_moves(demo, attending, heard):
    with scopes_disabled():
        due = [
            factories.RotationFactory(
                attending=attending, status="approved", start=services.today()
            )
            for _ in range(3)
        ]
    with scopes_disabled():
        counts = sweeps.start_due_rotations(demo["org"], batch_size=2)
    assert counts == {"started": 3, "on_hold": 0}
    assert sorted((call[0], call[1]) for call in heard) == sorted(
        ("started", rotation.pk) for rotation in due
    )


def test_an_on_hold_rotation_still_not_ready_announces_nothing(demo, attending, heard):
    rotation_in(demo, attending, "on_hold", start=services.today())
    readiness.register(missing_tb_test)
    try:
        with scopes_disabled():
            sweeps.start_due_rotations(demo["org"])
    finally:
        readiness.unregister(missing_tb_test)
    assert heard == []


# --- The registry itself ------------------------------------------------------------------


def test_unknown_events_are_refused():
    def handler(rotation, **context):
        pass

    with pytest.raises(ValueError, match="Unknown rotation lifecycle event 'paid'"):
        lifecycle.on("paid", handler)
    with pytest.raises(ValueError, match="Unknown rotation lifecycle event"):
        lifecycle.announce("approve", Rotation(), by=None)
    with pytest.raises(ValueError, match="Unknown rotation lifecycle event"):
        lifecycle.subscribed("aproved", handler).__enter__()


def test_an_event_carries_exactly_its_context(db):
    with pytest.raises(ValueError, match="'declined' event carries by, reason; got by"):
        lifecycle.announce("declined", Rotation(), by=None)
    with pytest.raises(ValueError, match="got by, note"):
        lifecycle.announce("approved", Rotation(), by=None, note="")


def test_announcing_outside_a_transaction_is_refused():
    """No database here, so no transaction: a transition must announce inside its own."""
    with pytest.raises(RuntimeError, match="inside the transition's transaction"):
        lifecycle.announce("approved", Rotation(), by=None)


def test_subscribed_unsubscribes_on_leaving_and_a_handler_is_called_once():
    def handler(rotation, **context):
        pass

    with lifecycle.subscribed("approved", handler):
        lifecycle.on("approved", handler)  # subscribing again changes nothing
        assert lifecycle.subscribers("approved").count(handler) == 1
    assert handler not in lifecycle.subscribers("approved")


def test_the_plan_rule_is_payments_requested_subscriber():
    """Rotations does not check plans itself; payments refuses a request through the
    lifecycle (tests/rotations/test_requests_api.py checks the 400 and that nothing is
    written)."""
    from payments import plans

    assert plans.refuse_a_plan_not_allowed in lifecycle.subscribers("requested")
    assert not hasattr(services, "check_plan_allowed")


@pytest.mark.django_db(transaction=True)
def test_a_refused_approval_commits_nothing(demo, attending):
    """With real commits (no test transaction around it): the subscriber ran before the
    approval's transaction committed, and its error undid the approval."""
    rotation, transition = approve(demo, attending)

    def refuse(rotation, **context):
        raise Boom

    with scope(organization=demo["org"]), lifecycle.subscribed("approved", refuse):
        with pytest.raises(Boom):
            transition()
    assert status_of(rotation.pk) == "requested"
    with scopes_disabled():
        assert set(AvailabilityWeek.objects.values_list("booked", flat=True)) == {0}
