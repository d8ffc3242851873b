"""What the database itself refuses for money rows (DESIGN §2, §6), whatever the code does."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django_scopes import scopes_disabled

from payments.models import REFERENCE_ALPHABET, Installment, Invoice, WebhookEvent
from rotations.models import Rotation
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_scope():
    """Rows are built and checked directly, across both organizations."""
    with scopes_disabled():
        yield


@pytest.fixture
def invoice(demo, northside):
    factories.InvoiceFactory(rotation=factories.RotationFactory(organization=northside["org"]))
    rotation = factories.RotationFactory(organization=demo["org"], student=demo["student"])
    return factories.InvoiceFactory(rotation=rotation)


def refused(write) -> str:
    """Run ``write`` in a savepoint with every constraint checked at once; return the
    name of the constraint PostgreSQL refused it with."""
    with pytest.raises(IntegrityError) as refusal, transaction.atomic():
        write()
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return refusal.value.__cause__.diag.constraint_name


def test_one_invoice_per_rotation_and_kind(invoice):
    assert (
        refused(lambda: factories.InvoiceFactory(rotation=invoice.rotation))
        == "one_invoice_per_rotation_kind"
    )
    factories.InvoiceFactory(rotation=invoice.rotation, kind="immigration_letter")
    assert Invoice.objects.filter(rotation=invoice.rotation).count() == 2


def test_reference_codes_are_unambiguous_and_unique_per_organization(invoice):
    code = invoice.reference_code
    assert code.startswith("USD-") and len(code) == 12
    assert set(code[4:]) <= set(REFERENCE_ALPHABET)
    other = factories.RotationFactory(organization=invoice.organization)
    assert (
        refused(lambda: factories.InvoiceFactory(rotation=other, reference_code=code))
        == "invoice_reference_code_unique_per_organization"
    )


@pytest.mark.parametrize(
    "fields, constraint",
    [
        ({"amount": Decimal("-0.01")}, "installment_amount_not_negative"),
        ({"card_fee": Decimal("-0.01")}, "installment_card_fee_not_negative"),
        ({"sequence": 0}, "installment_sequence_from_one"),
        ({"status": "paid", "paid_at": None}, "paid_installment_has_paid_at"),
    ],
)
def test_installment_amounts_and_states_are_checked(invoice, fields, constraint):
    assert refused(lambda: factories.InstallmentFactory(invoice=invoice, **fields)) == constraint
    assert not Installment.objects.filter(invoice=invoice).exists()


def test_one_installment_per_sequence_and_gateway_invoice(invoice):
    factories.InstallmentFactory(invoice=invoice, sequence=1, gateway_invoice_id="INV2-AAAA")
    assert (
        refused(lambda: factories.InstallmentFactory(invoice=invoice, sequence=1))
        == "one_installment_per_invoice_sequence"
    )
    assert (
        refused(
            lambda: factories.InstallmentFactory(
                invoice=invoice, sequence=2, gateway_invoice_id="INV2-AAAA"
            )
        )
        == "installment_gateway_invoice_once"
    )
    factories.InstallmentFactory(invoice=invoice, sequence=2)  # no gateway id yet: fine
    factories.InstallmentFactory(invoice=invoice, sequence=3)


@pytest.mark.parametrize(
    "kind, amount, accepted",
    [
        ("credit", Decimal("-50.00"), True),
        ("credit", Decimal("50.00"), False),
        ("card_fee", Decimal("17.94"), True),
        ("card_fee", Decimal("-17.94"), False),
        ("price", Decimal("-1.00"), False),
    ],
)
def test_credit_lines_are_negative_and_other_lines_are_not(invoice, kind, amount, accepted):
    def write():
        factories.InvoiceLineFactory(invoice=invoice, kind=kind, amount=amount)

    if accepted:
        write()
    else:
        assert refused(write) == "invoice_line_credit_negative_others_not"


def test_a_gateway_payment_is_recorded_once_per_organization(invoice, northside):
    installment = factories.InstallmentFactory(invoice=invoice)
    factories.PaymentFactory(installment=installment, gateway_payment_id="CAPTURE-1")
    assert (
        refused(
            lambda: factories.PaymentFactory(
                installment=installment, gateway_payment_id="CAPTURE-1"
            )
        )
        == "payment_gateway_id_once"
    )
    assert (
        refused(lambda: factories.PaymentFactory(installment=installment, amount=Decimal("0")))
        == "payment_amount_positive"
    )
    elsewhere = factories.InstallmentFactory(
        invoice=Invoice.objects.get(organization=northside["org"])
    )
    factories.PaymentFactory(installment=elsewhere, gateway_payment_id="CAPTURE-1")


def test_a_webhook_event_is_stored_once_per_organization(demo, northside):
    factories.WebhookEventFactory(organization=demo["org"], event_id="WH-1")
    assert (
        refused(lambda: factories.WebhookEventFactory(organization=demo["org"], event_id="WH-1"))
        == "webhook_event_once_per_organization"
    )
    factories.WebhookEventFactory(organization=northside["org"], event_id="WH-1")


def test_a_refused_delivery_does_not_claim_the_event_id(demo):
    """A forged event that failed verification must not block the real one."""
    factories.WebhookEventFactory(organization=demo["org"], event_id="WH-2", outcome="invalid")
    factories.WebhookEventFactory(organization=demo["org"], event_id="WH-2", outcome="invalid")
    factories.WebhookEventFactory(organization=demo["org"], event_id="WH-2")
    assert WebhookEvent.objects.filter(organization=demo["org"], event_id="WH-2").count() == 3


def test_one_active_card_per_student_with_a_vault_token(demo):
    card = factories.CardOnFileFactory(student=demo["student"])
    assert (
        refused(lambda: factories.CardOnFileFactory(student=demo["student"]))
        == "one_active_card_per_student"
    )
    assert (
        refused(
            lambda: factories.CardOnFileFactory(
                student=demo["student"], status="pending", payment_token_id=card.payment_token_id
            )
        )
        == "card_payment_token_once"
    )
    card.status = "removed"
    card.save()
    assert (
        refused(lambda: factories.CardOnFileFactory(student=demo["student"], payment_token_id=""))
        == "active_card_has_payment_token"
    )
    factories.CardOnFileFactory(student=demo["student"])


def test_an_invoice_for_another_organizations_rotation_is_refused(invoice, northside):
    rotation = Rotation.objects.filter(organization=northside["org"]).get()
    constraint = refused(
        lambda: Invoice.objects.create(
            organization=invoice.organization,
            rotation=rotation,
            student=invoice.student,
            kind="lor_fee",
            payment_method="zelle",
        )
    )
    assert constraint == "payments_invoice_rotation_id_tenant_fk"


def test_deleting_a_rotation_or_student_with_an_invoice_is_refused(invoice):
    """Deleting a rotation or a student with an invoice is refused: history stays."""
    factories.PaymentFactory(
        installment=factories.InstallmentFactory(
            invoice=invoice, status="paid", paid_at=timezone.now(), due_on=date(2025, 3, 3)
        )
    )
    with pytest.raises(ProtectedError):
        Rotation.objects.get(pk=invoice.rotation_id).delete()
    with pytest.raises(ProtectedError):
        invoice.student.delete()
    assert Invoice.objects.filter(pk=invoice.pk).exists()
