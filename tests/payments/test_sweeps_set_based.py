"""The payments sweeps are set-based (DESIGN §6, §9; STYLE §6): the due-installment sweep
and the school-confirmation deadline sweep take their rows in batches, a few queries and
one task per batch whatever its size, until none is left. The gateway is called only in
the tasks, after commit. Tasks land in a queue of this test's own in the real Redis;
a test runs them itself, as a worker would."""

import itertools
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from kombu import Connection

from notifications.models import OutboundEmail
from payments import school, school_tasks, sending, tasks
from payments.models import Installment, Payment, SchoolPayment
from rotations.models import Rotation
from tests import factories
from tests.payments.gateway_helpers import card_installment
from tests.payments.school_helpers import school_payment, school_rotation
from usdoctors.celery import app as celery_app

pytestmark = pytest.mark.django_db

SEND_INSTALLMENTS = "payments.tasks.send_installments"
CHARGE_SCHOOL_PAYMENTS = "payments.school_tasks.charge_school_payments_task"


@pytest.fixture
def queued():
    """``.delay()`` publishes to a queue of this test's own on the real broker;
    ``queued()`` takes what was published since: ``[(task name, args), ...]``."""
    queue = f"usdoctors-test-{uuid.uuid4().hex}"
    saved = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    broker = Connection(
        settings.CELERY_BROKER_URL, transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS
    )

    def take() -> list[tuple[str, list]]:
        taken = []
        with broker.SimpleQueue(queue) as messages:
            while True:
                try:
                    message = messages.get(block=False)
                except messages.Empty:
                    return taken
                taken.append((message.headers["task"], message.payload[0]))
                message.ack()

    try:
        yield take
    finally:
        celery_app.conf.task_default_queue = saved
        with broker.SimpleQueue(queue) as leftover:
            leftover.clear()
            leftover.queue.delete()
        celery_app.amqp.queues.pop(queue, None)
        broker.release()


def ids_of(messages, task_name: str) -> list[list[int]]:
    return [args[1] for name, args in messages if name == task_name]


# --- Due installments ---------------------------------------------------------------------


def due_installments(organization, count: int) -> list[Installment]:
    """``count`` pending card installments due today, on one self-paid rotation's invoice:
    one built by the factories, the others copied in one INSERT."""
    first = card_installment(organization)
    with scopes_disabled():
        copies = Installment.objects.bulk_create(
            Installment(
                organization=organization,
                invoice=first.invoice,
                sequence=sequence,
                due_on=first.due_on,
                amount=Decimal("10.00"),
            )
            for sequence in range(2, count + 1)
        )
    return [first, *copies]


def hand_over_due(organization, **options) -> int:
    with scope(organization=organization):
        return sending.enqueue_due_installments(organization, **options)


def statuses(installments) -> list[str]:
    with scopes_disabled():
        return list(
            Installment.objects.filter(pk__in=[i.pk for i in installments])
            .order_by("pk")
            .values_list("status", flat=True)
        )


def test_handing_over_500_due_installments_costs_the_queries_of_10(demo, northside, queued):
    due_installments(northside["org"], 5)
    ten = due_installments(demo["org"], 10)
    with CaptureQueriesContext(connection) as over_10:
        assert hand_over_due(demo["org"]) == 10
    assert ids_of(queued(), SEND_INSTALLMENTS) == [[i.pk for i in ten]]

    more = due_installments(demo["org"], 490)
    with CaptureQueriesContext(connection) as over_500:
        assert hand_over_due(demo["org"]) == 500

    assert len(over_10) == len(over_500) == 1  # one SELECT of ids, one task
    assert ids_of(queued(), SEND_INSTALLMENTS) == [sorted(i.pk for i in ten + more)]


def test_batches_smaller_than_the_backlog_send_every_installment_once(demo, northside, queued):
    due = due_installments(demo["org"], 20)
    elsewhere = due_installments(northside["org"], 3)

    with CaptureQueriesContext(connection) as queries:
        assert hand_over_due(demo["org"], batch_size=7) == 20

    batches = ids_of(queued(), SEND_INSTALLMENTS)
    assert [len(batch) for batch in batches] == [7, 7, 6]
    assert sorted(itertools.chain(*batches)) == sorted(i.pk for i in due)
    assert len(queries) == 3  # one query per batch
    for batch in batches:  # what the worker does with each task
        assert tasks.send_installments(demo["org"].pk, batch) == {
            "sent": len(batch),
            "skipped": 0,
            "failed": 0,
        }
    assert statuses(due) == ["sent"] * 20
    assert statuses(elsewhere) == ["pending"] * 3  # the other organization waits for its turn

    with scopes_disabled():
        emails = OutboundEmail.objects.count()
    assert hand_over_due(demo["org"], batch_size=7) == 0
    assert queued() == []
    # A task delivered twice sends nothing more.
    assert tasks.send_installments(demo["org"].pk, batches[0])["skipped"] == 7
    with scopes_disabled():
        assert OutboundEmail.objects.count() == emails


def test_the_beat_task_hands_over_each_organizations_due_installments(demo, northside, queued):
    here = due_installments(demo["org"], 2)
    there = due_installments(northside["org"], 3)

    assert tasks.send_due_installments() == 5

    messages = queued()
    assert sorted((args[0], args[1]) for _, args in messages) == sorted(
        [(demo["org"].pk, [i.pk for i in here]), (northside["org"].pk, [i.pk for i in there])]
    )


def test_a_spent_time_budget_hands_over_nothing(demo, queued):
    due_installments(demo["org"], 3)

    assert hand_over_due(demo["org"], time_budget=0) == 0
    assert queued() == []


# --- The school-confirmation deadline -----------------------------------------------------


def unanswered_schools(organization, count: int) -> list[SchoolPayment]:
    """``count`` approved school-paid rotations whose school has not answered by a
    deadline already past: one built by the factories, the others copied in bulk."""
    with scopes_disabled():
        first = factories.RotationFactory(
            organization=organization, status="approved", payer="school"
        )
        fields = {
            field.attname: getattr(first, field.attname)
            for field in Rotation._meta.concrete_fields
            if not field.primary_key
        }
        rotations = Rotation.objects.bulk_create(Rotation(**fields) for _ in range(count))
        return SchoolPayment.objects.bulk_create(
            SchoolPayment(
                organization=organization,
                rotation=rotation,
                school_email="registrar@school.test",
                deadline=timezone.localdate() - timedelta(days=1),
            )
            for rotation in rotations
        )


def sweep_schools(organization, callbacks, **options) -> dict:
    with scope(organization=organization), callbacks(execute=True):
        return school.charge_unanswered_schools(organization, **options)


def test_the_deadline_sweep_over_500_schools_costs_the_queries_of_10(
    demo, northside, queued, django_capture_on_commit_callbacks
):
    elsewhere = unanswered_schools(northside["org"], 4)
    ten = unanswered_schools(demo["org"], 10)
    with CaptureQueriesContext(connection) as over_10:
        assert sweep_schools(demo["org"], django_capture_on_commit_callbacks) == {
            "lapsed": 10,
            "handed_over": 10,
        }
    assert ids_of(queued(), CHARGE_SCHOOL_PAYMENTS) == [[s.pk for s in ten]]

    five_hundred = unanswered_schools(demo["org"], 500)
    with CaptureQueriesContext(connection) as over_500:
        assert sweep_schools(demo["org"], django_capture_on_commit_callbacks)["lapsed"] == 500

    # The lock and the UPDATE of a batch (in the test's transaction, within a savepoint),
    # then one SELECT of charges to hand over again; one task per batch.
    assert len(over_10) == len(over_500) == 5
    assert ids_of(queued(), CHARGE_SCHOOL_PAYMENTS) == [[s.pk for s in five_hundred]]
    with scopes_disabled():
        assert set(
            SchoolPayment.objects.filter(pk__in=[s.pk for s in elsewhere]).values_list(
                "decision", "charge_status"
            )
        ) == {("awaiting", "none")}


def test_batches_smaller_than_the_backlog_charge_every_unanswered_school_once(
    demo, northside, queued, django_capture_on_commit_callbacks
):
    rotations = [school_rotation(demo["org"]) for _ in range(20)]
    other = school_rotation(northside["org"])
    friday = school.link_expiry(rotations[0]) + timedelta(hours=9)

    with time_machine.travel(friday):
        assert sweep_schools(demo["org"], django_capture_on_commit_callbacks, batch_size=7) == {
            "lapsed": 20,
            "handed_over": 20,
        }
        batches = ids_of(queued(), CHARGE_SCHOOL_PAYMENTS)
        assert [len(batch) for batch in batches] == [7, 7, 6]
        assert sorted(itertools.chain(*batches)) == sorted(
            school_payment(rotation).pk for rotation in rotations
        )
        for batch in batches:  # what the worker does with each task
            outcomes = school_tasks.charge_school_payments_task(demo["org"].pk, batch)
            assert outcomes["charged"] == len(batch)

        assert sweep_schools(demo["org"], django_capture_on_commit_callbacks, batch_size=7) == {
            "lapsed": 0,
            "handed_over": 0,
        }
        assert queued() == []
        # A task delivered twice charges nothing more.
        again = school_tasks.charge_school_payments_task(demo["org"].pk, batches[0])
        assert again["skipped"] == 7

    for rotation in rotations:
        record = school_payment(rotation)
        assert (record.decision, record.charge_status) == ("lapsed", "charged")
    with scopes_disabled():
        assert Payment.objects.filter(organization=demo["org"]).count() == 20
        told = OutboundEmail.objects.filter(template="school_refused_card_charged")
        assert told.count() == 20
    assert school_payment(other).decision == "awaiting"  # its own organization's sweep


def test_a_pending_charge_without_a_task_is_handed_over_again_after_a_while(
    demo, queued, django_capture_on_commit_callbacks
):
    stale, fresh = unanswered_schools(demo["org"], 2)
    now = timezone.now()
    with scopes_disabled():
        for record, asked in ((stale, now - timedelta(minutes=11)), (fresh, now)):
            SchoolPayment.objects.filter(pk=record.pk).update(
                decision="refused",
                charge_status="pending",
                charge_requested_at=asked,
                decided_at=asked,
            )

    assert sweep_schools(demo["org"], django_capture_on_commit_callbacks) == {
        "lapsed": 0,
        "handed_over": 1,
    }
    assert ids_of(queued(), CHARGE_SCHOOL_PAYMENTS) == [[stale.pk]]


def test_the_beat_task_sweeps_each_organization(
    demo, northside, queued, django_capture_on_commit_callbacks
):
    unanswered_schools(demo["org"], 2)
    unanswered_schools(northside["org"], 1)

    with django_capture_on_commit_callbacks(execute=True):
        results = school_tasks.charge_unanswered_schools()

    assert sorted(result["lapsed"] for result in results) == [1, 2]
    assert sorted(args[0] for _, args in queued()) == sorted([demo["org"].pk, northside["org"].pk])
