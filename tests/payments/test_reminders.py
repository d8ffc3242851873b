"""Installment reminders (DESIGN §6, §9): 3 days before, on and after each due date,
each sent once, by a set-based sweep whose query count does not grow with the rows."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from notifications.models import OutboundEmail
from payments.models import Installment
from payments.reminders import send_payment_reminders
from payments.tasks import send_payment_reminders as reminder_task
from tests import factories

QUERY_BOUND = 20  # the same for 20 rows and for 2,000


def invoice_for(organization, **kwargs):
    """A Zelle invoice issued ten days ago for an approved rotation of a new student (a
    student holds one active rotation at a time)."""
    rotation = factories.RotationFactory(
        organization=organization,
        status="approved",
        payment_method="zelle",
        **kwargs,
    )
    return factories.InvoiceFactory(
        rotation=rotation, status="issued", created_at=timezone.now() - timedelta(days=10)
    )


def installments(organization, count, due_on, *, invoices=1, **rotation):
    with scopes_disabled():
        made = [invoice_for(organization, **rotation) for _ in range(invoices)]
        return Installment.objects.bulk_create(
            [
                Installment(
                    organization=organization,
                    invoice=made[number % invoices],
                    sequence=number // invoices + 1,
                    due_on=due_on,
                    amount=Decimal("600.00"),
                    status="sent",
                )
                for number in range(count)
            ]
        )


def student_email(installment):
    with scopes_disabled():
        return Installment.objects.get(pk=installment.pk).invoice.student.user.email


def reminders(kind=None):
    with scopes_disabled():
        emails = OutboundEmail.objects.filter(template="payment_reminder").order_by("pk")
        return [e for e in emails if kind is None or e.context["when"] == kind]


@pytest.mark.django_db
def test_reminding_2000_installments_costs_the_same_queries_as_20(
    demo, northside, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    due = timezone.localdate() + timedelta(days=3)
    installments(demo["org"], 20, due, invoices=4)
    with scope(organization=demo["org"]), django_assert_max_num_queries(QUERY_BOUND):
        assert send_payment_reminders(demo["org"])["before"] == 20

    installments(northside["org"], 2000, due, invoices=20)
    with scope(organization=northside["org"]), django_assert_max_num_queries(QUERY_BOUND):
        with django_capture_on_commit_callbacks() as callbacks:
            assert send_payment_reminders(northside["org"])["before"] == 2000
    assert len(callbacks) == 1  # one delivery task for the whole batch
    assert len(reminders("before")) == 2020
    with scopes_disabled():
        assert not Installment.objects.filter(reminded_before_at__isnull=True).exists()

    # Again: nothing new, still the same bounded cost.
    with scope(organization=northside["org"]), django_assert_max_num_queries(QUERY_BOUND):
        assert send_payment_reminders(northside["org"])["before"] == 0
    assert len(reminders()) == 2020


@pytest.mark.django_db
def test_each_reminder_is_sent_once_before_on_and_after_the_due_date(demo, northside):
    due = timezone.localdate() + timedelta(days=5)
    (mine,) = installments(demo["org"], 1, due)
    (theirs,) = installments(northside["org"], 1, due)
    (paid,) = installments(demo["org"], 1, due)
    with scopes_disabled():
        Installment.objects.filter(pk=paid.pk).update(status="paid", paid_at=timezone.now())
    expected = []
    for days, kind in (
        (-4, None),
        (-3, "before"),
        (-1, None),
        (0, "due"),
        (1, "overdue"),
        (2, None),
    ):
        with time_machine.travel(
            timezone.make_aware(
                timezone.datetime.combine(due + timedelta(days=days), timezone.datetime.min.time())
            )
            + timedelta(hours=9)
        ):
            reminder_task()
            reminder_task()
        if kind:
            expected += [(kind, student_email(mine)), (kind, student_email(theirs))]
        assert sorted((e.context["when"], e.recipient) for e in reminders()) == sorted(expected), (
            days
        )

    email = reminders("overdue")[0]
    assert email.context["amount"] == "600.00" and email.context["sequence"] == 1
    with scopes_disabled():
        row = Installment.objects.get(pk=mine.pk)
        assert row.reminded_before_at and row.reminded_due_at and row.reminded_overdue_at
        assert Installment.objects.get(pk=paid.pk).reminded_overdue_at is None


@pytest.mark.django_db
def test_a_due_date_reminder_never_repeats_even_if_its_flag_was_lost(demo, northside):
    """The dedupe key is the second guard: the outbox takes each reminder once."""
    (installment,) = installments(demo["org"], 1, timezone.localdate())
    with scope(organization=demo["org"]):
        assert send_payment_reminders(demo["org"])["due"] == 1
        Installment.objects.filter(pk=installment.pk).update(reminded_due_at=None)
        send_payment_reminders(demo["org"])
    assert len(reminders("due")) == 1


@pytest.mark.django_db
def test_school_paid_and_just_issued_installments_get_no_early_reminder(demo, northside):
    today = timezone.localdate()
    installments(demo["org"], 1, today + timedelta(days=2), payer="school")
    with scopes_disabled():
        fresh = invoice_for(demo["org"])
        fresh.created_at = timezone.now()
        fresh.save()
        factories.InstallmentFactory(invoice=fresh, due_on=today, sequence=1, status="sent")
    with scope(organization=demo["org"]):
        assert send_payment_reminders(demo["org"]) == {"before": 0, "due": 0, "overdue": 0}
    assert reminders() == []
