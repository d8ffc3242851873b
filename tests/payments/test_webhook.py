"""The PayPal webhook (issue 7 item 8, DESIGN §6): on the organization's own host,
verified with that organization's webhook id, acted on once per event id, and only after
re-fetching the invoice from PayPal. Everything goes through the fake PayPal server."""

import json
from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from payments.models import Payment, WebhookEvent
from tests.payments.gateway_helpers import (
    INVOICES,
    card_installment,
    post_webhook,
    reload,
    send,
    use_paypal,
)

pytestmark = pytest.mark.django_db

PAID = "INVOICING.INVOICE.PAID"


def counts():
    with scopes_disabled():
        return Payment.objects.count(), WebhookEvent.objects.count()


@pytest.fixture
def sent(demo, paypal_setup):
    """Demo is paid into the fake's default account; one $617.94 installment was sent."""
    use_paypal(demo["org"], paypal_setup)
    installment = card_installment(demo["org"])
    assert send(installment) == "sent"
    return reload(installment)


def test_a_signed_webhook_marks_the_installment_paid(demo, sent, fake_paypal):
    fake_paypal.mark_paid(sent.gateway_invoice_id)
    delivery = fake_paypal.webhook_event(
        PAID, fake_paypal.invoice_resource(sent.gateway_invoice_id)
    )

    response = post_webhook(demo["org"], delivery)

    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "processed"
    installment = reload(sent)
    assert installment.status == "paid" and installment.paid_at
    with scopes_disabled():
        payment = Payment.objects.get(installment=installment)
        event = WebhookEvent.objects.get(event_id=delivery.event["id"])
    assert payment.amount == Decimal("617.94")
    assert payment.method == "paypal"
    paypal_payment = fake_paypal.invoices[sent.gateway_invoice_id]["payments"]["transactions"][0]
    assert payment.gateway_payment_id == paypal_payment["payment_id"]
    assert event.outcome == "processed" and event.organization_id == demo["org"].pk
    # The webhook was a trigger: the invoice was fetched from PayPal before acting.
    assert fake_paypal.requests_to(f"{INVOICES}/{sent.gateway_invoice_id}", "GET")
    # Verified with the organization's own webhook id.
    [verification] = fake_paypal.requests_to("/v1/notifications/verify-webhook-signature")
    assert verification.json["webhook_id"] == demo["org"].paypal_webhook_id


def test_the_same_webhook_again_changes_nothing(demo, sent, fake_paypal):
    fake_paypal.mark_paid(sent.gateway_invoice_id)
    delivery = fake_paypal.webhook_event(
        PAID, fake_paypal.invoice_resource(sent.gateway_invoice_id)
    )
    assert post_webhook(demo["org"], delivery).json()["outcome"] == "processed"
    before = counts()
    paid_at = reload(sent).paid_at

    again = post_webhook(demo["org"], delivery)

    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    assert counts() == before
    assert reload(sent).paid_at == paid_at


def test_a_second_event_for_a_paid_invoice_pays_nothing_twice(demo, sent, fake_paypal):
    fake_paypal.mark_paid(sent.gateway_invoice_id)
    resource = fake_paypal.invoice_resource(sent.gateway_invoice_id)
    post_webhook(demo["org"], fake_paypal.webhook_event(PAID, resource))

    other = post_webhook(demo["org"], fake_paypal.webhook_event(PAID, resource))

    assert other.status_code == 200 and other.json()["outcome"] == "ignored"
    with scopes_disabled():
        assert Payment.objects.filter(installment=sent).count() == 1


def test_a_tampered_webhook_is_refused_and_changes_nothing(demo, sent, fake_paypal):
    fake_paypal.mark_paid(sent.gateway_invoice_id)
    delivery = fake_paypal.webhook_event(
        PAID, fake_paypal.invoice_resource(sent.gateway_invoice_id)
    )
    tampered = json.loads(delivery.body)
    tampered["summary"] = "Paid, honestly"
    before = counts()

    response = post_webhook(
        demo["org"], delivery, body=json.dumps(tampered, separators=(",", ":")).encode()
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and response.json()["detail"]
    assert counts() == before
    assert reload(sent).status == "sent"
    # A refused delivery does not claim the event id: the genuine one still counts.
    assert post_webhook(demo["org"], delivery).json()["outcome"] == "processed"


def test_a_webhook_without_signature_headers_is_refused(demo, sent, fake_paypal):
    delivery = fake_paypal.webhook_event(
        PAID, fake_paypal.invoice_resource(sent.gateway_invoice_id)
    )
    response = post_webhook(demo["org"], delivery, headers={})
    assert response.status_code == 400
    assert counts() == (0, 0)


def test_one_organizations_webhook_cannot_pay_anothers_invoice(demo, northside, sent, fake_paypal):
    """Northside has its own PayPal account and webhook. An event signed for northside's
    webhook and naming demo's invoice changes nothing, on either host."""
    use_paypal(northside["org"], fake_paypal.add_account())
    fake_paypal.mark_paid(sent.gateway_invoice_id)
    northside_webhook = northside["org"].paypal_webhook_id
    delivery = fake_paypal.webhook_event(
        PAID, fake_paypal.invoice_resource(sent.gateway_invoice_id), webhook_id=northside_webhook
    )

    on_northside = post_webhook(northside["org"], delivery)
    on_demo = post_webhook(demo["org"], delivery)

    assert on_northside.status_code == 200
    assert on_northside.json()["outcome"] == "ignored"
    assert on_demo.status_code == 400  # verified with demo's webhook id: not demo's event
    assert reload(sent).status == "sent"
    with scopes_disabled():
        assert not Payment.objects.exists()
        assert not WebhookEvent.objects.filter(organization=demo["org"]).exists()


def test_a_demo_signed_event_on_another_host_is_refused(demo, northside, sent, fake_paypal):
    use_paypal(northside["org"], fake_paypal.add_account())
    fake_paypal.mark_paid(sent.gateway_invoice_id)
    delivery = fake_paypal.webhook_event(
        PAID, fake_paypal.invoice_resource(sent.gateway_invoice_id)
    )

    assert post_webhook(northside["org"], delivery).status_code == 400
    assert reload(sent).status == "sent"
    assert counts() == (0, 0)


def test_an_unknown_event_is_ignored(demo, sent, fake_paypal):
    delivery = fake_paypal.webhook_event(
        "INVOICING.INVOICE.UPDATED", fake_paypal.invoice_resource(sent.gateway_invoice_id)
    )
    response = post_webhook(demo["org"], delivery)
    assert response.status_code == 200 and response.json()["outcome"] == "ignored"
    assert reload(sent).status == "sent"
    with scopes_disabled():
        assert not Payment.objects.exists()


def test_the_event_is_a_trigger_paypal_is_the_truth(demo, sent, fake_paypal):
    """A genuine PAID event for an invoice PayPal still shows unpaid pays nothing."""
    delivery = fake_paypal.webhook_event(
        PAID, fake_paypal.invoice_resource(sent.gateway_invoice_id)
    )
    response = post_webhook(demo["org"], delivery)
    assert response.json()["outcome"] == "ignored"
    assert reload(sent).status == "sent"


def test_a_flat_invoice_resource_is_accepted(demo, sent, fake_paypal):
    fake_paypal.mark_paid(sent.gateway_invoice_id)
    resource = fake_paypal.invoice_resource(sent.gateway_invoice_id, flat=True)
    response = post_webhook(demo["org"], fake_paypal.webhook_event(PAID, resource))
    assert response.json()["outcome"] == "processed"
    assert reload(sent).status == "paid"


def test_when_paypal_cannot_be_asked_the_event_is_processed_on_redelivery(demo, sent, fake_paypal):
    fake_paypal.mark_paid(sent.gateway_invoice_id)
    delivery = fake_paypal.webhook_event(
        PAID, fake_paypal.invoice_resource(sent.gateway_invoice_id)
    )
    fake_paypal.fail_next(f"{INVOICES}/{sent.gateway_invoice_id}", 500, times=10, method="GET")

    failed = post_webhook(demo["org"], delivery)

    assert failed.status_code == 503
    assert reload(sent).status == "sent"
    fake_paypal._failures.clear()
    again = post_webhook(demo["org"], delivery)
    assert again.json()["outcome"] == "processed"
    assert reload(sent).status == "paid"
