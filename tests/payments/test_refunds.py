"""Refund protection (DESIGN §15): the attending's cancellation and an admin-recorded
no-show refund everything paid, card fees included, to where it came from — PayPal
through its refund API (the fake PayPal server), Zelle or wire as one payout task an
admin completes with a reference — after commit, once. The student's own cancellation
follows the organization's schedule."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from notifications.models import OutboundEmail
from payments import receipts, refunds, tasks
from payments.models import CreditEntry, Installment, Payment, Refund
from payments.paypal import PayPalUnreachable
from payments.refund_models import CancellationTier
from rotations import cancellations
from rotations import services as rotation_services
from tests.payments.booking import book, start_noon
from tests.payments.gateway_helpers import post_webhook, reload, send, use_paypal
from usdoctors.errors import Conflict, Invalid, NotAllowed

pytestmark = pytest.mark.django_db
PAID = "INVOICING.INVOICE.PAID"


def pay_at_paypal(fake, organization, installment) -> None:
    """The payer pays the installment's PayPal invoice; PayPal's webhook tells us."""
    invoice_id = reload(installment).gateway_invoice_id
    if fake.invoices[invoice_id]["status"] == "SCHEDULED":
        fake.deliver_scheduled(invoice_id)
    fake.mark_paid(invoice_id)
    response = post_webhook(
        organization, fake.webhook_event(PAID, fake.invoice_resource(invoice_id))
    )
    assert response.json()["outcome"] == "processed", response.json()


def card_paid_in_two(demo, fake, capture):
    """A rotation paid in two card installments through the fake PayPal."""
    use_paypal(demo["org"], fake)
    with capture(execute=True):
        rotation, invoice = book(demo["student"], plan="two_payment", method="paypal")
    with scopes_disabled():
        first, second = Installment.objects.filter(invoice=invoice).order_by("sequence")
    send(first)  # done already when the approval's task ran (eager Celery); else now
    pay_at_paypal(fake, demo["org"], first)
    assert send(second) == "sent"
    pay_at_paypal(fake, demo["org"], second)
    with scopes_disabled():
        assert Payment.objects.filter(installment__invoice=invoice).count() == 2
    return rotation, invoice


def zelle_paid_in_two(demo, capture):
    with capture(execute=True):
        rotation, invoice = book(demo["student"], plan="two_payment", method="zelle")
    with scope(organization=demo["org"]):
        for installment in Installment.objects.filter(invoice=invoice).order_by("sequence"):
            receipts.record_receipt(
                installment,
                amount=installment.charged,
                received_on=timezone.localdate(),
                reference=f"ZELLE-{installment.sequence}",
                by=demo["admin"],
            )
    return rotation, invoice


def balance(invoice) -> Decimal:
    """Payments received minus refunds sent: zero after a full refund."""
    with scopes_disabled():
        received = sum(p.amount for p in Payment.objects.filter(installment__invoice=invoice))
        returned = sum(r.amount for r in Refund.objects.filter(invoice=invoice, status="completed"))
    return received - returned


@pytest.fixture
def eager_celery():
    conf = tasks.send_refund.app.conf
    before = conf.task_always_eager, conf.task_eager_propagates
    conf.task_always_eager, conf.task_eager_propagates = True, False
    yield
    conf.task_always_eager, conf.task_eager_propagates = before


def test_attending_cancellation_refunds_both_card_installments_and_their_fees(
    demo, paypal_setup, eager_celery, django_capture_on_commit_callbacks
):
    fake = paypal_setup
    rotation, invoice = card_paid_in_two(demo, fake, django_capture_on_commit_callbacks)
    with scopes_disabled():
        payments = list(Payment.objects.filter(installment__invoice=invoice).order_by("pk"))
        fees = [p.installment.card_fee for p in payments]
    assert all(fee > 0 for fee in fees)

    with scope(organization=demo["org"]):
        with django_capture_on_commit_callbacks(execute=True):
            cancellations.cancel_by_attending(
                rotation, by=rotation.attending.membership, reason="Family emergency"
            )

    with scopes_disabled():
        rows = list(Refund.objects.filter(invoice=invoice).order_by("payment_id"))
    assert [r.payment_id for r in rows] == [p.pk for p in payments]
    assert [r.amount for r in rows] == [p.amount for p in payments]
    assert [r.card_fee for r in rows] == fees
    assert all(r.status == "completed" and r.gateway_refund_id for r in rows)
    for payment, row in zip(payments, rows, strict=True):
        [call] = fake.requests_to(f"/v2/payments/captures/{payment.gateway_payment_id}/refund")
        assert call.headers["PayPal-Request-Id"] == f"refund-{row.pk}"
        assert call.json["amount"]["value"] == f"{payment.amount:.2f}"
        assert fake.captures[payment.gateway_payment_id]["status"] == "REFUNDED"
        assert fake.refunded_total(payment.gateway_payment_id) == payment.amount
    assert balance(invoice) == 0
    with scopes_disabled():
        assert not CreditEntry.objects.filter(student=demo["student"]).exists()
        email = OutboundEmail.objects.get(template="rotation_refund")
    assert email.recipient == demo["student"].user.email
    assert any("card or PayPal" in line for line in email.context["lines"])

    # A second attempt refunds nothing more: the rotation is cancelled already (409) ...
    refund_calls = len([r for r in fake.requests_received if r.path.endswith("/refund")])
    with scope(organization=demo["org"]):
        with pytest.raises(Conflict):
            cancellations.cancel_by_attending(rotation, by=rotation.attending.membership)
        # ... and a redelivered refund task asks PayPal for nothing.
        assert tasks.send_refund(demo["org"].pk, rows[0].pk) == "skipped"
    assert len([r for r in fake.requests_received if r.path.endswith("/refund")]) == refund_calls
    with scopes_disabled():
        assert Refund.objects.filter(invoice=invoice).count() == 2
    assert balance(invoice) == 0


def test_a_refund_retried_after_a_lost_answer_is_refunded_once(
    demo, paypal_setup, django_capture_on_commit_callbacks
):
    fake = paypal_setup
    rotation, invoice = card_paid_in_two(demo, fake, django_capture_on_commit_callbacks)
    with scope(organization=demo["org"]):
        with django_capture_on_commit_callbacks(execute=False):  # no task yet
            cancellations.cancel_by_attending(rotation, by=rotation.attending.membership)
        refund = Refund.objects.filter(invoice=invoice).first()
        capture = refund.payment.gateway_payment_id
        # PayPal refunds, but the answer is lost: the task fails and is retried.
        fake.fail_next(f"/v2/payments/captures/{capture}/refund", "timeout", times=4)
        with pytest.raises(PayPalUnreachable):
            refunds.refund_at_gateway(refund.pk)
        assert Refund.objects.get(pk=refund.pk).status == "pending"
        assert refunds.refund_at_gateway(refund.pk) == "completed"
    assert fake.refunded_total(capture) == refund.amount  # once, not twice


def test_zelle_paid_rotation_gets_exactly_one_payout_task(demo, django_capture_on_commit_callbacks):
    rotation, invoice = zelle_paid_in_two(demo, django_capture_on_commit_callbacks)
    with scope(organization=demo["org"]):
        with django_capture_on_commit_callbacks(execute=True):
            cancellations.cancel_by_attending(rotation, by=rotation.attending.membership)
        with pytest.raises(Conflict):
            cancellations.cancel_by_attending(rotation, by=rotation.attending.membership)
        [payout] = Refund.objects.filter(rotation=rotation)
    assert payout.is_payout and payout.method == "zelle" and payout.status == "pending"
    assert payout.amount == Decimal("1200.00") and payout.card_fee == 0
    assert balance(invoice) == Decimal("1200.00")  # until an admin sends it


def test_admin_completes_a_payout_with_a_reference_once(demo, django_capture_on_commit_callbacks):
    rotation, invoice = zelle_paid_in_two(demo, django_capture_on_commit_callbacks)
    with scope(organization=demo["org"]):
        cancellations.cancel_by_attending(rotation, by=rotation.attending.membership)
        payout = Refund.objects.get(rotation=rotation)
        with pytest.raises(Invalid) as missing:
            refunds.complete_payout(payout, by=demo["admin"], reference="  ")
        assert missing.value.code == "reference_required"
        with pytest.raises(NotAllowed):
            refunds.complete_payout(payout, by=demo["student"], reference="ZL-1")
        assert Refund.objects.get(pk=payout.pk).status == "pending"

        done, changed = refunds.complete_payout(payout, by=demo["admin"], reference="ZL-1")
        assert changed and done.status == "completed" and done.reference == "ZL-1"
        again, changed = refunds.complete_payout(payout, by=demo["admin"], reference="ZL-1")
        assert not changed and again.completed_at == done.completed_at
        with pytest.raises(Conflict):
            refunds.complete_payout(payout, by=demo["admin"], reference="OTHER")
        assert Refund.objects.get(pk=payout.pk).reference == "ZL-1"
        assert OutboundEmail.objects.filter(template="refund_sent").count() == 1
    assert balance(invoice) == 0


def test_no_show_recorded_by_an_admin_in_the_first_week_refunds(
    demo, django_capture_on_commit_callbacks
):
    rotation, invoice = zelle_paid_in_two(demo, django_capture_on_commit_callbacks)
    with time_machine.travel(start_noon(rotation) + timedelta(days=2), tick=False):
        with scope(organization=demo["org"]):
            with pytest.raises(NotAllowed):
                cancellations.record_no_show(rotation, by=demo["student"])
            cancellations.record_no_show(rotation, by=demo["admin"], note="Nobody at the clinic")
    with scopes_disabled():
        rotation.refresh_from_db()
        [payout] = Refund.objects.filter(rotation=rotation)
    assert rotation.status == "cancelled" and rotation.cancellation_cause == "no_show"
    assert payout.cause == "no_show" and payout.amount == Decimal("1200.00")


@pytest.mark.parametrize("days_after_start", [-1, 7, 20])
def test_no_show_outside_the_first_week_is_refused_and_changes_nothing(
    demo, django_capture_on_commit_callbacks, days_after_start
):
    rotation, invoice = zelle_paid_in_two(demo, django_capture_on_commit_callbacks)
    with time_machine.travel(start_noon(rotation) + timedelta(days=days_after_start), tick=False):
        with scope(organization=demo["org"]):
            with pytest.raises(Conflict) as refused:
                cancellations.record_no_show(rotation, by=demo["admin"])
    assert refused.value.code in {"no_show_too_late", "no_show_not_started"}
    with scopes_disabled():
        rotation.refresh_from_db()
        assert rotation.status == "approved" and rotation.cancellation_cause == ""
        assert not Refund.objects.filter(rotation=rotation).exists()


def test_student_cancellation_by_default_turns_what_was_paid_into_credit(
    demo, django_capture_on_commit_callbacks
):
    rotation, invoice = zelle_paid_in_two(demo, django_capture_on_commit_callbacks)
    with scope(organization=demo["org"]):
        rotation_services.cancel_rotation(rotation, by=demo["student"])
        assert not Refund.objects.filter(rotation=rotation).exists()
        [entry] = CreditEntry.objects.filter(student=demo["student"])
    assert entry.amount == Decimal("1200.00") and entry.reason == "cancelled_rotation"


def test_student_cancellation_follows_the_published_schedule(
    demo, paypal_setup, eager_celery, django_capture_on_commit_callbacks
):
    fake = paypal_setup
    with scopes_disabled():
        CancellationTier.objects.create(
            organization=demo["org"], days_before_start=14, refund_percent=50, credit_percent=50
        )
        CancellationTier.objects.create(
            organization=demo["org"], days_before_start=3, refund_percent=0, credit_percent=25
        )
    rotation, invoice = card_paid_in_two(demo, fake, django_capture_on_commit_callbacks)
    assert (rotation.start - timezone.localdate()).days >= 14
    with scopes_disabled():
        payments = list(Payment.objects.filter(installment__invoice=invoice).order_by("pk"))
        shares = [p.amount - p.installment.card_fee for p in payments]
    with scope(organization=demo["org"]):
        with django_capture_on_commit_callbacks(execute=True):
            rotation_services.cancel_rotation(rotation, by=demo["student"])
        rows = list(Refund.objects.filter(invoice=invoice).order_by("payment_id"))
        [credit] = CreditEntry.objects.filter(student=demo["student"])
    # Half of each payment's share back to the card (card fees stay), half as credit.
    assert [r.amount for r in rows] == [share / 2 for share in shares]
    assert all(r.card_fee == 0 and r.status == "completed" for r in rows)
    assert credit.amount == sum(shares) / 2
    for payment, row in zip(payments, rows, strict=True):
        assert fake.refunded_total(payment.gateway_payment_id) == row.amount


def test_student_cancellation_late_in_the_schedule_gets_its_later_line(
    demo, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        CancellationTier.objects.create(
            organization=demo["org"], days_before_start=30, refund_percent=100, credit_percent=0
        )
        CancellationTier.objects.create(
            organization=demo["org"], days_before_start=7, refund_percent=0, credit_percent=50
        )
    rotation, invoice = zelle_paid_in_two(demo, django_capture_on_commit_callbacks)
    with time_machine.travel(start_noon(rotation) - timedelta(days=10), tick=False):
        with scope(organization=demo["org"]):
            rotation_services.cancel_rotation(rotation, by=demo["student"])
            assert not Refund.objects.filter(rotation=rotation).exists()
            [credit] = CreditEntry.objects.filter(student=demo["student"])
            email = OutboundEmail.objects.get(template="rotation_refund")
    assert credit.amount == Decimal("600.00")
    assert email.context["kept"] == "600.00"
