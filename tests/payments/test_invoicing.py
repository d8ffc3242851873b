"""Approval invoices the rotation (DESIGN §5, §6): price, credit first, installments,
card fee lines, the payment request; cancelling turns what was paid into credit; the
start waits for payment (readiness)."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from documents.requirements import set_organization_types
from notifications.models import OutboundEmail
from payments import tasks
from payments.credits import credit_balance
from payments.models import CreditEntry, Installment, Invoice
from payments.readiness import payment_readiness
from payments.receipts import record_receipt
from rotations.models import Rotation
from rotations.services import cancel_rotation
from rotations.tasks import start_due_rotations
from tests import factories
from tests.payments.booking import book, start_noon

D = Decimal


def lines_of(invoice):
    with scopes_disabled():
        return [(line.kind, line.amount) for line in invoice.lines.order_by("pk")]


def installments_of(invoice):
    with scopes_disabled():
        return list(Installment.objects.filter(invoice=invoice).order_by("sequence"))


def emails(template):
    with scopes_disabled():
        return list(OutboundEmail.objects.filter(template=template).order_by("pk"))


@pytest.fixture
def sent(monkeypatch):
    """The installments handed to the gateway task after commit (organization, id)."""
    calls = []
    monkeypatch.setattr(tasks.send_installment, "delay", lambda *args: calls.append(args))
    return calls


@pytest.mark.django_db
def test_worked_example_two_payments_by_card(
    demo, northside, sent, django_capture_on_commit_callbacks
):
    """$300/week × 4 weeks, two-payment plan, card → two installments of $600.00, each
    paid as $617.94 (2.99% card fee as its own line)."""
    with django_capture_on_commit_callbacks(execute=True):
        rotation, invoice = book(demo["student"])
    assert invoice.kind == "rotation" and invoice.plan == "two_payment"
    assert invoice.payment_method == "paypal" and invoice.status == "issued"
    assert lines_of(invoice) == [
        ("price", D("1200.00")),
        ("card_fee", D("17.94")),
        ("card_fee", D("17.94")),
    ]
    first, second = installments_of(invoice)
    today = timezone.localdate()
    assert (first.due_on, first.amount, first.card_fee, first.charged) == (
        today,
        D("600.00"),
        D("17.94"),
        D("617.94"),
    )
    assert second.due_on == rotation.start - timedelta(days=3)  # the Friday before
    assert second.charged == D("617.94")
    # No gateway call in the approval: the installment due now goes to the task after
    # commit; the later one waits for its due date. No Zelle/wire email.
    assert sent == [(demo["org"].pk, first.pk)]
    assert {i.status for i in (first, second)} == {"pending"}
    assert emails("payment_instructions") == []


@pytest.mark.django_db
def test_zelle_adds_no_fee_and_emails_the_reference_code(demo, northside, sent):
    with scopes_disabled():
        demo["org"].zelle_instructions = "Send to pay@demo.test (Demo Rotations LLC)"
        demo["org"].save()
    rotation, invoice = book(demo["student"], method="zelle")
    assert lines_of(invoice) == [("price", D("1200.00"))]
    assert [(i.amount, i.card_fee, i.status) for i in installments_of(invoice)] == [
        (D("600.00"), D("0.00"), "sent"),
        (D("600.00"), D("0.00"), "sent"),
    ]
    assert sent == []
    (email,) = emails("payment_instructions")
    assert email.recipient == demo["student"].user.email
    assert email.context["reference_code"] == invoice.reference_code
    assert email.context["instructions"] == "Send to pay@demo.test (Demo Rotations LLC)"
    assert email.context["schedule"][0].startswith("Payment 1 of 2: $600.00, due ")


@pytest.mark.django_db
def test_paid_then_cancelled_becomes_credit_and_the_next_invoice_is_that_much_lower(
    demo, northside, sent
):
    """Acceptance: pay $600, cancel, book again → the new invoice is $600 lower."""
    student = demo["student"]
    rotation, invoice = book(student, method="zelle")
    first, second = installments_of(invoice)
    with scope(organization=demo["org"]):
        record_receipt(
            first,
            amount=D("600.00"),
            received_on=timezone.localdate(),
            reference="ZL-1",
            by=demo["admin"],
        )
        cancel_rotation(Rotation.objects.get(pk=rotation.pk), by=student, reason="Visa delayed")
        assert credit_balance(student) == D("600.00")
    with scopes_disabled():
        invoice.refresh_from_db()
        assert invoice.status == "cancelled"
        assert [i.status for i in installments_of(invoice)] == ["paid", "cancelled"]
        entry = CreditEntry.objects.get(student=student, reason="cancelled_rotation")
        assert (entry.amount, entry.rotation_id) == (D("600.00"), rotation.pk)

    _, again = book(student, method="zelle", start=factories.next_monday(8))
    assert lines_of(again) == [("price", D("1200.00")), ("credit", D("-600.00"))]
    assert sum(i.amount for i in installments_of(again)) == D("600.00")
    assert [i.amount for i in installments_of(again)] == [D("300.00"), D("300.00")]
    with scope(organization=demo["org"]):
        assert credit_balance(student) == D("0.00")


@pytest.mark.django_db
def test_unpaid_cancelled_rotation_gives_no_credit_and_cancels_its_installments(
    demo, northside, sent
):
    student = demo["student"]
    rotation, invoice = book(student)
    with scope(organization=demo["org"]):
        cancel_rotation(Rotation.objects.get(pk=rotation.pk), by=demo["admin"])
        assert credit_balance(student) == D("0.00")
    assert [i.status for i in installments_of(invoice)] == ["cancelled", "cancelled"]


@pytest.mark.django_db
def test_credit_covering_the_price_leaves_no_installments_and_a_paid_invoice(demo, northside, sent):
    student = demo["student"]
    with scopes_disabled():
        factories.CreditEntryFactory(student=student, amount=D("1500.00"))
    _, invoice = book(student)
    assert lines_of(invoice) == [("price", D("1200.00")), ("credit", D("-1200.00"))]
    assert installments_of(invoice) == []
    assert invoice.status == "paid"
    assert sent == []
    with scope(organization=demo["org"]):
        assert credit_balance(student) == D("300.00")


@pytest.mark.django_db
def test_the_start_waits_until_what_was_due_is_paid(demo, northside, sent):
    rotation, invoice = book(demo["student"], method="wire", plan="full")
    (installment,) = installments_of(invoice)
    with scope(organization=demo["org"]):
        # About money: the organization requires no documents, so only payment holds it.
        set_organization_types(demo["org"], [])
        (item,) = payment_readiness(rotation)
    assert item.code == "payment_due"
    assert item.message == "Pay installment 1 ($1,200.00)."
    assert item.deadline == installment.due_on

    with time_machine.travel(start_noon(rotation)):
        start_due_rotations()
    with scopes_disabled():
        held = Rotation.objects.get(pk=rotation.pk)
    assert held.status == "on_hold" and "Pay installment 1 ($1,200.00)" in held.hold_reason

    with scope(organization=demo["org"]):
        record_receipt(
            installment,
            amount=D("1200.00"),
            received_on=timezone.localdate(),
            reference="W-9",
            by=demo["admin"],
        )
        assert payment_readiness(rotation) == []
    with time_machine.travel(start_noon(rotation) + timedelta(days=1)):
        start_due_rotations()
    with scopes_disabled():
        assert Rotation.objects.get(pk=rotation.pk).status == "in_progress"
        assert Invoice.objects.get(pk=invoice.pk).status == "paid"


@pytest.mark.django_db
def test_a_refused_invoice_rolls_the_approval_back(demo, northside, monkeypatch):
    """The invoice is written inside the approval: if it fails, nothing is booked."""
    from payments import invoicing

    def broken(*args, **kwargs):
        raise RuntimeError("schedule broke")

    monkeypatch.setattr(invoicing, "installment_schedule", broken)
    with pytest.raises(RuntimeError):
        book(demo["student"])
    with scopes_disabled():
        assert not Invoice.objects.exists()
        assert not Rotation.objects.filter(status="approved").exists()
