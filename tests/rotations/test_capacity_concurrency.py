"""Capacity under concurrent approvals and date changes, for real (DESIGN §5, STYLE §4).

Twenty threads, released together by a barrier, each call the API through their own
test client and their own PostgreSQL connection, in committed transactions. A week is
never booked beyond its capacity; the losers get 409 naming the full week.

The lock matters: with ``select_for_update()`` removed from ``rotations.locks.lock_weeks``
(tried locally, then restored byte for byte), both tests failed. All 20 approvals
answered 200 and the week ended with ``booked == 1`` (lost updates: each transaction
wrote its own stale ``booked + 1``, so even the database's ``booked <= capacity`` check
never fired); all 20 date changes were accepted into a week with one free place.
"""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import Client
from django_scopes import scope, scopes_disabled

from rotations import date_changes, services
from rotations.choices import BOOKED_STATUSES
from rotations.date_changes import accept_date_change, postpone_rotation
from rotations.locks import lock_weeks
from rotations.models import AvailabilityWeek, DateChange, Rotation
from rotations.services import cancel_rotation, long_date
from tests import factories
from tests.conftest import host_of
from usdoctors.errors import Conflict

THREADS = 20

pytestmark = pytest.mark.django_db(transaction=True)


def race(user, organization, paths: list[str]) -> list:
    """POST each path from its own thread, all released at the same moment; return
    ``(status, body)`` per path, or the exception a thread met."""
    barrier = threading.Barrier(len(paths))
    results: list = [None] * len(paths)

    def run(index: int, path: str) -> None:
        try:
            client = Client(HTTP_HOST=host_of(organization))
            client.force_login(user)
            barrier.wait(timeout=30)
            response = client.post(path, {}, content_type="application/json")
            results[index] = (response.status_code, response.json())
        except BaseException as error:  # the test fails with it below
            results[index] = error
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, path)) for i, path in enumerate(paths)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    errors = [result for result in results if isinstance(result, BaseException)]
    assert not errors, errors
    return results


def test_concurrent_approvals_never_book_a_week_beyond_its_capacity(demo):
    week_start = factories.next_monday(3)
    with scopes_disabled():
        attending = factories.AttendingProfileFactory(
            organization=demo["org"], membership=demo["attending"]
        )
        week = factories.AvailabilityWeekFactory(
            attending=attending, week_start=week_start, capacity=2
        )
        # Requests take no capacity, so twenty students may all ask for the same week.
        requests = [
            factories.RotationFactory(attending=attending, start=week_start, weeks=1)
            for _ in range(THREADS)
        ]

    results = race(
        demo["attending"].user,
        demo["org"],
        [f"/api/v1/rotations/{rotation.pk}/approve" for rotation in requests],
    )

    statuses = sorted(status for status, _body in results)
    assert statuses == [200] * 2 + [409] * (THREADS - 2), results
    for status, body in results:
        if status == 409:
            assert body["code"] == "week_full"
            assert body["detail"] == (
                f"The week of {long_date(week_start)} is full (2 of 2 places taken)."
            )
    with scopes_disabled():
        assert AvailabilityWeek.objects.get(pk=week.pk).booked == 2
        approved = Rotation.objects.filter(attending=attending, status="approved")
        assert approved.count() == 2
        assert Rotation.objects.filter(attending=attending, status="requested").count() == 18
        winners = {body["id"] for status, body in results if status == 200}
        assert winners == set(approved.values_list("pk", flat=True))


def test_concurrent_date_changes_into_a_nearly_full_week_accept_exactly_one(demo):
    target = factories.next_monday(30)
    with scopes_disabled():
        attending = factories.AttendingProfileFactory(
            organization=demo["org"], membership=demo["attending"]
        )
        target_week = factories.AvailabilityWeekFactory(
            attending=attending, week_start=target, capacity=2, booked=1
        )
        factories.RotationFactory(attending=attending, start=target, weeks=1, status="approved")
        # Twenty approved one-week rotations, each holding the one place of its own week,
        # each with a proposal to move into the target week.
        sources, changes = {}, []
        for number in range(THREADS):
            source = factories.AvailabilityWeekFactory(
                attending=attending,
                week_start=factories.next_monday(2) + timedelta(weeks=number),
                capacity=1,
                booked=1,
            )
            rotation = factories.RotationFactory(
                attending=attending, start=source.week_start, weeks=1, status="approved"
            )
            sources[rotation.pk] = source
            changes.append(
                DateChange.objects.create(
                    organization=demo["org"],
                    rotation=rotation,
                    proposed_start=target,
                    proposed_by=rotation.student,
                )
            )

    results = race(
        demo["attending"].user,
        demo["org"],
        [f"/api/v1/date-changes/{change.pk}/accept" for change in changes],
    )

    statuses = sorted(status for status, _body in results)
    assert statuses == [200] + [409] * (THREADS - 1), results
    for status, body in results:
        if status == 409:
            assert body["code"] == "week_full"
            assert body["detail"] == (
                f"The week of {long_date(target)} is full (2 of 2 places taken)."
            )
    [winner] = [body["rotation_id"] for status, body in results if status == 200]
    with scopes_disabled():
        assert AvailabilityWeek.objects.get(pk=target_week.pk).booked == 2
        assert list(
            DateChange.objects.filter(status="accepted").values_list("rotation_id", flat=True)
        ) == [winner]
        assert DateChange.objects.filter(status="proposed").count() == THREADS - 1
        for rotation_pk, source in sources.items():
            rotation = Rotation.objects.get(pk=rotation_pk)
            source.refresh_from_db()
            if rotation_pk == winner:
                assert (rotation.start, source.booked) == (target, 0)  # released
            else:
                assert (rotation.start, source.booked) == (source.week_start, 1)  # kept


# --- Competing writes injected at a chosen point (STYLE §4) ------------------------------


def assert_capacity_consistent(attending) -> None:
    """Each week's ``booked`` is the number of rotations holding a place in it."""
    with scopes_disabled():
        holding = Rotation.objects.filter(attending=attending, status__in=BOOKED_STATUSES)
        expected = Counter(start for rotation in holding for start in rotation.week_starts)
        actual = {
            week.week_start: week.booked
            for week in AvailabilityWeek.objects.filter(attending=attending)
        }
    assert actual == {start: expected.get(start, 0) for start in actual}


@pytest.fixture
def approved(demo):
    """An approved two-week rotation from the Monday after next, its places booked, with
    ten weeks published (2 places each)."""
    start = factories.next_monday(2)
    with scopes_disabled():
        attending = factories.AttendingProfileFactory(
            organization=demo["org"], membership=demo["attending"]
        )
        for week in factories.publish(attending, start, 10)[:2]:
            week.booked = 1
            week.save(update_fields=["booked"])
        rotation = factories.RotationFactory(
            attending=attending, student=demo["student"], start=start, status="approved"
        )
    assert_capacity_consistent(attending)
    return rotation


@pytest.mark.django_db
@pytest.mark.parametrize("second", ["cancel", "postpone"])
def test_a_rotation_moved_after_it_was_read_is_not_cancelled_or_moved_from_old_weeks(
    demo, approved, second
):
    """An admin postpones a rotation another request had already read (e.g. the student's
    cancel, another admin's postponement). Acting on the stale copy would release weeks
    the rotation no longer holds and leave its new weeks booked forever: it is refused
    instead, and nothing changes."""
    with scope(organization=demo["org"]):
        stale = Rotation.objects.get(pk=approved.pk)
        postpone_rotation(
            Rotation.objects.get(pk=approved.pk),
            by=demo["admin"],
            new_start=approved.start + timedelta(weeks=4),
            reason="Illness.",
        )
        with pytest.raises(Conflict) as refused:
            if second == "cancel":
                cancel_rotation(stale, by=demo["student"])
            else:
                postpone_rotation(
                    stale,
                    by=demo["admin"],
                    new_start=approved.start + timedelta(weeks=7),
                    reason="Visa delay.",
                )

    assert refused.value.code == "rotation_changed"
    with scopes_disabled():
        moved = Rotation.objects.get(pk=approved.pk)
    assert (moved.status, moved.start) == ("approved", approved.start + timedelta(weeks=4))
    assert_capacity_consistent(approved.attending)


@pytest.mark.django_db(transaction=True)
def test_accepting_a_date_change_while_an_admin_postpones_never_deadlocks(
    demo, approved, monkeypatch
):
    """The attending accepts a proposal at the moment an admin postpones the same
    rotation. Both lock weeks, the rotation and the proposal; if they took them in
    different orders each would wait for the other (PostgreSQL then kills one with
    "deadlock detected": a 500). The accept, having read the rotation and the proposal,
    is held just before it locks the weeks until the postponement holds them; one of them
    must win cleanly, the other get a 409.

    The order is forced by two events at ``date_changes.lock_weeks`` (our own function,
    wrapped; the database is real), never by sleeping: with the proposal locked before the
    weeks (the order this test exists for), the accept holds the proposal while the
    postponement holds the weeks and goes on to decline that proposal — a deadlock every
    run, however slow or busy the machine."""
    with scopes_disabled():
        change = DateChange.objects.create(
            organization=demo["org"],
            rotation=approved,
            proposed_start=approved.start + timedelta(weeks=4),
            proposed_by=demo["student"],
        )
    accept_reached_the_weeks = threading.Event()
    postponement_holds_the_weeks = threading.Event()
    steps = []  # what happened at the weeks, in order
    real_lock_weeks = date_changes.lock_weeks

    def lock_weeks(attending, starts):
        name = threading.current_thread().name
        if name == "accept":
            steps.append("accept reached the weeks")
            accept_reached_the_weeks.set()
            if not postponement_holds_the_weeks.wait(timeout=30):
                raise AssertionError("The postponement never locked the weeks.")
            steps.append("accept locks the weeks")
            return real_lock_weeks(attending, starts)
        weeks = real_lock_weeks(attending, starts)
        steps.append(f"{name} holds the weeks")
        if name == "postpone":
            postponement_holds_the_weeks.set()
        return weeks

    monkeypatch.setattr(date_changes, "lock_weeks", lock_weeks)
    outcomes = {}

    def run(name, act):
        try:
            with scope(organization=demo["org"]):
                act()
            outcomes[name] = "done"
        except Conflict as error:
            outcomes[name] = error.code
        except BaseException as error:  # the test fails with it below
            outcomes[name] = error
        finally:
            connection.close()
            # A thread that stopped early must not leave the other waiting.
            accept_reached_the_weeks.set()
            postponement_holds_the_weeks.set()

    def accept():
        accept_date_change(DateChange.objects.get(pk=change.pk), by=demo["attending"])

    def postpone():
        if not accept_reached_the_weeks.wait(timeout=30):
            raise AssertionError("The accept never reached the weeks.")
        postpone_rotation(
            Rotation.objects.get(pk=approved.pk),
            by=demo["admin"],
            new_start=approved.start + timedelta(weeks=7),
            reason="Illness.",
        )

    threads = [
        threading.Thread(target=run, args=("accept", accept), name="accept"),
        threading.Thread(target=run, args=("postpone", postpone), name="postpone"),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    assert all(isinstance(outcome, str) for outcome in outcomes.values()), outcomes
    # The accept waited for the postponement's locks, then read a rotation that had
    # moved under it: refused, nothing of it written.
    assert outcomes == {"postpone": "done", "accept": "rotation_changed"}, outcomes
    assert steps == [
        "accept reached the weeks",
        "postpone holds the weeks",
        "accept locks the weeks",
    ], steps
    with scopes_disabled():
        moved = Rotation.objects.get(pk=approved.pk)
        change.refresh_from_db()
    assert moved.start == approved.start + timedelta(weeks=7)
    assert change.status == "declined"
    assert_capacity_consistent(approved.attending)


def test_a_request_for_a_week_already_full_is_refused_without_waiting_for_its_lock(demo):
    """While another transaction holds the week's lock, approving a request for it that
    is already full answers 409 at once (no lock is awaited: a 1 s lock timeout would
    fail the approval with a lock error instead)."""
    week_start = factories.next_monday(3)
    with scopes_disabled():
        attending = factories.AttendingProfileFactory(
            organization=demo["org"], membership=demo["attending"]
        )
        factories.AvailabilityWeekFactory(
            attending=attending, week_start=week_start, capacity=1, booked=1
        )
        full = factories.RotationFactory(attending=attending, start=week_start, weeks=1)
    locked, release = threading.Event(), threading.Event()

    def hold_the_lock():
        try:
            with transaction.atomic(), scope(organization=demo["org"].pk):
                lock_weeks(attending, [week_start])
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        with transaction.atomic(), scope(organization=demo["org"].pk):
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '1s'")
            with pytest.raises(Conflict) as refused:
                services.approve_rotation(full, by=demo["attending"])
        assert refused.value.code == "week_full"
        assert f"The week of {long_date(week_start)} is full" in refused.value.message
    finally:
        release.set()
        holder.join(timeout=30)
    with scopes_disabled():
        full.refresh_from_db()
        assert full.status == "requested"
        assert AvailabilityWeek.objects.get(attending=attending, week_start=week_start).booked == 1
