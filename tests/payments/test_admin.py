"""Platform staff fix money in /admin/ (DESIGN §2: the cross-tenant console). Credit is a
ledger there too: entries are added through ``add_credit`` and never edited."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.test import Client
from django_scopes import scopes_disabled

from payments.credits import credit_balance
from payments.models import CreditEntry, Installment, SchoolPayment
from tests import factories
from tests.test_audit_trail import submitted_form
from usdoctors.models import UsedLink

pytestmark = pytest.mark.django_db

MODELS = [
    "invoice",
    "installment",
    "payment",
    "creditaccount",
    "creditentry",
    "cardonfile",
    "webhookevent",
    "schoolpayment",
]


@pytest.fixture
def staff_client(world):
    staff = factories.UserFactory(is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)
    return client


@pytest.fixture
def money(demo, northside):
    """An invoice with an installment, a payment, credit, a card, a webhook event and a
    school payment in each organization."""
    with scopes_disabled():
        made = {}
        for key, world in (("demo", demo), ("northside", northside)):
            rotation = factories.RotationFactory(
                organization=world["org"], student=world["student"]
            )
            invoice = factories.InvoiceFactory(rotation=rotation)
            factories.InvoiceLineFactory(invoice=invoice)
            factories.PaymentFactory(installment=factories.InstallmentFactory(invoice=invoice))
            factories.CreditEntryFactory(student=world["student"])
            factories.CardOnFileFactory(student=world["student"])
            factories.WebhookEventFactory(organization=world["org"])
            SchoolPayment.objects.create(
                organization=world["org"],
                rotation=rotation,
                school_email="bursar@school.example",
                deadline=rotation.start,
            )
            made[key] = invoice
        return made


@pytest.mark.parametrize("model", MODELS)
def test_staff_see_every_organizations_money(staff_client, money, model):
    listing = staff_client.get(f"/admin/payments/{model}/")
    assert listing.status_code == 200
    with scopes_disabled():
        rows = apps.get_model("payments", model).objects.all()
        for row in rows:
            page = staff_client.get(f"/admin/payments/{model}/{row.pk}/change/")
            assert page.status_code == 200, (model, row)
    assert rows.count() == 2


def test_staff_add_a_credit_entry_and_the_balance_moves_with_it(staff_client, money, demo):
    student = demo["student"]
    response = staff_client.post(
        "/admin/payments/creditentry/add/",
        {"student": student.pk, "amount": "-40.00", "reason": "refunded", "note": "Paid back"},
    )
    assert response.status_code == 302
    with scopes_disabled():
        assert credit_balance(student) == Decimal("60.00")
        entry = CreditEntry.objects.filter(student=student).latest("pk")
        assert (entry.organization, entry.amount, entry.note) == (
            demo["org"],
            Decimal("-40.00"),
            "Paid back",
        )


def test_staff_cannot_take_the_balance_below_zero(staff_client, money, demo):
    response = staff_client.post(
        "/admin/payments/creditentry/add/",
        {"student": demo["student"].pk, "amount": "-100.01", "reason": "refunded"},
    )
    assert response.status_code == 200
    assert "the balance cannot go below zero" in response.content.decode()
    with scopes_disabled():
        assert credit_balance(demo["student"]) == Decimal("100.00")
        assert CreditEntry.objects.filter(student=demo["student"]).count() == 1


def test_credit_entries_are_read_only_and_balances_are_not_edited(staff_client, money, demo):
    with scopes_disabled():
        entry = CreditEntry.objects.filter(student=demo["student"]).get()
        account_pk = demo["student"].credit_accounts.get().pk
    page = staff_client.get(f"/admin/payments/creditentry/{entry.pk}/change/")
    assert page.status_code == 200 and 'name="amount"' not in page.content.decode()
    edit = staff_client.post(
        f"/admin/payments/creditentry/{entry.pk}/change/",
        {"student": entry.student_id, "amount": "900.00", "reason": "adjustment"},
    )
    assert edit.status_code == 403
    assert staff_client.post(f"/admin/payments/creditentry/{entry.pk}/delete/").status_code == 403
    account = staff_client.get(f"/admin/payments/creditaccount/{account_pk}/change/")
    assert 'name="balance"' not in account.content.decode()
    with scopes_disabled():
        entry.refresh_from_db()
        assert entry.amount == Decimal("100.00")
        assert credit_balance(demo["student"]) == Decimal("100.00")


def test_an_installment_added_inline_belongs_to_the_invoice_organization(staff_client, money):
    invoice = money["northside"]
    path = f"/admin/payments/invoice/{invoice.pk}/change/"
    with scopes_disabled():
        sequence = invoice.installments.get().sequence + 1
    data = submitted_form(staff_client.get(path).content.decode())
    data.pop("csrfmiddlewaretoken", None)
    data.update(
        {
            "installments-TOTAL_FORMS": "2",
            "installments-1-sequence": str(sequence),
            "installments-1-due_on": "2025-04-04",
            "installments-1-amount": "250.00",
            "installments-1-card_fee": "7.48",
            "installments-1-status": "pending",
        }
    )
    response = staff_client.post(path, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    with scopes_disabled():
        added = Installment.objects.get(invoice=invoice, sequence=sequence)
        assert added.organization_id == invoice.organization_id
        assert added.charged == Decimal("257.48")


def test_used_links_are_listed_for_staff_and_never_edited(staff_client, demo, northside):
    with scopes_disabled():
        used = [
            UsedLink.objects.create(
                organization=world["org"], nonce=f"nonce-{key}", purpose="school", rotation_id=7
            )
            for key, world in (("demo", demo), ("northside", northside))
        ]
    listing = staff_client.get("/admin/usdoctors/usedlink/")
    assert listing.status_code == 200
    for link in used:
        page = staff_client.get(f"/admin/usdoctors/usedlink/{link.pk}/change/")
        assert page.status_code == 200 and 'name="nonce"' not in page.content.decode()
        edit = staff_client.post(
            f"/admin/usdoctors/usedlink/{link.pk}/change/", {"nonce": "x", "purpose": "y"}
        )
        assert edit.status_code == 403
        delete = staff_client.post(f"/admin/usdoctors/usedlink/{link.pk}/delete/")
        assert delete.status_code == 403
    assert staff_client.get("/admin/usdoctors/usedlink/add/").status_code == 403
    with scopes_disabled():
        assert sorted(UsedLink.objects.values_list("nonce", flat=True)) == [
            "nonce-demo",
            "nonce-northside",
        ]
