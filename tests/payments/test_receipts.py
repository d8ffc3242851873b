"""Zelle and wire receipts (DESIGN §6): an admin records amount, date and reference,
which pays the installment — in the browser and through the API. Every refusal answers
its status and message and changes nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from notifications.models import OutboundEmail
from payments.models import Installment, Invoice, Payment
from tests.payments.booking import book

D = Decimal


@pytest.fixture
def zelle(demo, northside):
    """A demo student's two-payment Zelle invoice ($600.00 each) and, in the other
    organization, a wire invoice of its own."""
    _, invoice = book(demo["student"], method="zelle")
    _, other = book(northside["student"], method="wire")
    with scopes_disabled():
        first, second = Installment.objects.filter(invoice=invoice).order_by("sequence")
        other_installment = Installment.objects.filter(invoice=other).first()
    return {"invoice": invoice, "first": first, "second": second, "other": other_installment}


def api_url(installment):
    return f"/api/v1/installments/{installment.pk}/record-payment"


def page_url(installment):
    return f"/payments/installments/{installment.pk}/record/"


def body(amount="600.00", reference="ZELLE-123", received_on=None):
    return {
        "amount": amount,
        "reference": reference,
        "received_on": (received_on or timezone.localdate()).isoformat(),
    }


def post_api(client, installment, data):
    return client.post(api_url(installment), data, content_type="application/json")


def state(installment):
    """What a refusal must leave untouched."""
    with scopes_disabled():
        row = Installment.objects.get(pk=installment.pk)
        return (
            row.status,
            row.paid_at,
            Invoice.objects.get(pk=row.invoice_id).status,
            Payment.objects.count(),
            OutboundEmail.objects.filter(template="payment_received").count(),
        )


@pytest.mark.django_db
def test_an_admin_records_a_zelle_receipt_through_the_api(demo, zelle, client_for):
    client = client_for(demo["admin"])
    response = post_api(client, zelle["first"], body())
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["amount"] == "600.00" and data["reference"] == "ZELLE-123"
    assert data["method"] == "zelle" and data["installment_status"] == "paid"
    assert data["invoice_status"] == "issued"  # the second is still owed
    with scopes_disabled():
        payment = Payment.objects.get()
        assert payment.recorded_by_id == demo["admin"].pk
        (email,) = OutboundEmail.objects.filter(template="payment_received")
    assert email.recipient == demo["student"].user.email
    assert email.context["amount"] == "600.00"

    # The same reference again is the same receipt: 200, nothing new.
    again = post_api(client, zelle["first"], body())
    assert again.status_code == 200 and again.json()["id"] == data["id"]
    with scopes_disabled():
        assert Payment.objects.count() == 1

    # Paying the last installment pays the invoice.
    last = post_api(client, zelle["second"], body(reference="ZELLE-124"))
    assert last.status_code == 201
    assert last.json()["invoice_status"] == "paid"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data, status, code, message",
    [
        (body(amount="617.94"), 400, "amount_mismatch", "Installment 1 is $600.00"),
        (body(amount="300.00"), 400, "amount_mismatch", "not $300.00"),
        (body(reference=""), 400, "invalid", "reference"),
        (
            body(received_on=timezone.localdate() + timedelta(days=2)),
            400,
            "received_on_in_future",
            "cannot be in the future",
        ),
    ],
)
def test_bad_receipts_are_refused_and_change_nothing(
    demo, zelle, client_for, data, status, code, message
):
    before = state(zelle["first"])
    response = post_api(client_for(demo["admin"]), zelle["first"], data)
    assert response.status_code == status
    assert response.json()["code"] == code and message in response.json()["detail"]
    assert state(zelle["first"]) == before


@pytest.mark.django_db
def test_a_paid_or_cancelled_installment_takes_no_other_receipt(demo, zelle, client_for):
    client = client_for(demo["admin"])
    assert post_api(client, zelle["first"], body()).status_code == 201
    before = state(zelle["first"])
    response = post_api(client, zelle["first"], body(reference="ZELLE-999"))
    assert response.status_code == 409
    assert response.json() == {
        "detail": "This installment is already paid.",
        "code": "installment_already_paid",
    }
    # A reference already used for another installment is refused too.
    response = post_api(client, zelle["second"], body())
    assert response.status_code == 409 and response.json()["code"] == "reference_already_recorded"
    assert state(zelle["first"]) == before

    with scopes_disabled():
        Installment.objects.filter(pk=zelle["second"].pk).update(status="cancelled")
    response = post_api(client, zelle["second"], body(reference="ZELLE-2"))
    assert response.status_code == 409 and response.json()["code"] == "installment_cancelled"


@pytest.mark.django_db
def test_a_card_installment_is_paid_by_paypal_not_by_hand(demo, northside, client_for):
    _, invoice = book(demo["student"], method="paypal", plan="full")
    with scopes_disabled():
        installment = Installment.objects.get(invoice=invoice)
    before = state(installment)
    response = post_api(client_for(demo["admin"]), installment, body(amount="1235.88"))
    assert response.status_code == 409 and response.json()["code"] == "installment_paid_by_card"
    assert state(installment) == before


@pytest.mark.django_db
def test_only_this_organizations_admins_record_receipts(demo, northside, zelle, client_for):
    before = state(zelle["first"])
    assert (
        post_api(client_for(None, host="demo.localhost"), zelle["first"], body()).status_code == 401
    )
    for who in ("student", "attending"):
        response = post_api(client_for(demo[who]), zelle["first"], body())
        assert response.status_code == 403, who
    # Another organization's installment does not exist here; another organization's
    # admin is no member here.
    assert post_api(client_for(demo["admin"]), zelle["other"], body()).status_code == 404
    response = post_api(
        client_for(northside["admin"], host="demo.localhost"), zelle["first"], body()
    )
    assert response.status_code == 404
    assert state(zelle["first"]) == before


# --- The browser page -------------------------------------------------------------------


@pytest.mark.django_db
def test_an_admin_records_a_receipt_in_the_browser(demo, zelle, client_for):
    client = client_for(demo["admin"])
    page = client.get(page_url(zelle["first"]))
    assert page.status_code == 200
    html = page.content.decode()
    assert zelle["invoice"].reference_code in html and "$600.00" in html

    response = client.post(page_url(zelle["first"]), body())
    assert response.status_code == 302
    with scopes_disabled():
        assert Installment.objects.get(pk=zelle["first"].pk).status == "paid"
        assert Payment.objects.get().reference == "ZELLE-123"


@pytest.mark.django_db
def test_the_browser_form_shows_a_refusal_and_changes_nothing(demo, zelle, client_for):
    before = state(zelle["first"])
    response = client_for(demo["admin"]).post(page_url(zelle["first"]), body(amount="500.00"))
    assert response.status_code == 400
    assert "Installment 1 is $600.00; record a receipt of exactly that amount" in (
        response.content.decode()
    )
    assert state(zelle["first"]) == before


@pytest.mark.django_db
def test_the_receipt_page_is_for_this_organizations_admins(demo, northside, zelle, client_for):
    assert client_for(demo["student"]).get(page_url(zelle["first"])).status_code == 403
    assert client_for(demo["student"]).post(page_url(zelle["first"]), body()).status_code == 403
    assert client_for(demo["admin"]).get(page_url(zelle["other"])).status_code == 404
    assert (
        client_for(northside["admin"], host="demo.localhost")
        .get(page_url(zelle["first"]))
        .status_code
        == 404
    )
    with scopes_disabled():
        assert Payment.objects.count() == 0
