"""Our PayPal client against the fake PayPal server (DESIGN §6, RECIPES "PayPal"): real
HTTP on 127.0.0.1, the JSON shapes of PayPal's specifications, nothing of ours mocked."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from payments.paypal import (
    MERCHANT_INITIATED_UNSCHEDULED,
    CardDeclined,
    InvoiceLine,
    PayPalClient,
    PayPalError,
    PayPalUnreachable,
    invoice_payload,
    money,
    token_cache_key,
)
from usdoctors.money import card_surcharge

INVOICES = "/v2/invoicing/invoices"
TODAY = date.today()


def rotation_invoice(number="USD-2025-0041", *, invoice_date=TODAY, fee=True):
    """A $600.00 installment paid by card: 2.99% adds $17.94, so PayPal asks $617.94."""
    return invoice_payload(
        invoice_number=number,
        currency="USD",
        recipient_email="student@example.com",
        items=[InvoiceLine("Cardiology rotation, installment 1 of 2", Decimal("600.00"))],
        card_fee=card_surcharge(Decimal("600.00"), Decimal("0.0299")) if fee else None,
        card_fee_label="Card payment fee (2.99%)",
        invoice_date=invoice_date,
        due_date=invoice_date + timedelta(days=7),
        note="Rotation 41 with Dr. Rivera.",
    )


def other_client(fake_paypal, **options):
    options.setdefault("timeout", (2, 5))
    options.setdefault("retry_base_delay", 0.01)
    return PayPalClient(
        fake_paypal.url, fake_paypal.client_id, fake_paypal.client_secret, **options
    )


# --- OAuth ---------------------------------------------------------------------------


def test_token_is_fetched_once_and_shared_through_the_cache(fake_paypal, paypal_client):
    token = paypal_client.access_token()

    assert token.startswith("A21AA")
    assert paypal_client.access_token() == token
    assert other_client(fake_paypal).access_token() == token  # another worker, same cache
    [token_call] = fake_paypal.requests_to("/v1/oauth2/token")
    assert token_call.form == {"grant_type": "client_credentials"}
    assert token_call.headers["Authorization"].startswith("Basic ")
    assert token_call.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_token_is_cached_until_shortly_before_paypal_expires_it(fake_paypal, paypal_client):
    first = paypal_client.access_token()
    key = token_cache_key(paypal_client.base_url, paypal_client.client_id)
    with redis.Redis.from_url(settings.CACHES["default"]["LOCATION"]) as store:
        seconds_left = store.ttl(cache.make_key(key))

    assert 32400 - 300 - 5 <= seconds_left <= 32400 - 300  # PayPal's expires_in, less 5 min
    cache.delete(key)  # what the expiry does
    assert paypal_client.access_token() != first
    assert len(fake_paypal.requests_to("/v1/oauth2/token")) == 2


def test_a_token_paypal_rejects_is_replaced_once(fake_paypal, paypal_client):
    invoice = paypal_client.create_invoice("installment-1", rotation_invoice())
    fake_paypal.expire_tokens()

    assert paypal_client.get_invoice(invoice["id"])["id"] == invoice["id"]
    gets = fake_paypal.requests_to(f"{INVOICES}/{invoice['id']}", "GET")
    assert [r.status for r in gets] == [401, 200]
    assert gets[0].headers["Authorization"] != gets[1].headers["Authorization"]
    assert len(fake_paypal.requests_to("/v1/oauth2/token")) == 2


def test_wrong_credentials_fail_without_retrying(fake_paypal):
    client = PayPalClient(fake_paypal.url, fake_paypal.client_id, "wrong", retry_base_delay=0.01)

    with pytest.raises(PayPalError) as refused:
        client.get_invoice("INV2-AAAA-BBBB-CCCC-DDDD")

    assert (refused.value.status, refused.value.name) == (401, "invalid_client")
    assert len(fake_paypal.requests_received) == 1


# --- Invoicing v2 --------------------------------------------------------------------


def test_create_invoice_sends_decimal_strings_and_the_card_fee_as_its_own_line(
    fake_paypal, paypal_client
):
    result = paypal_client.create_invoice("installment-41", rotation_invoice())

    [sent] = fake_paypal.requests_to(INVOICES, "POST")
    assert sent.headers["PayPal-Request-Id"] == "installment-41"
    assert sent.headers["Prefer"] == "return=representation"
    assert sent.headers["Authorization"] == f"Bearer {paypal_client.access_token()}"
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.json == {
        "detail": {
            "invoice_number": "USD-2025-0041",
            "currency_code": "USD",
            "invoice_date": TODAY.isoformat(),
            "payment_term": {
                "term_type": "DUE_ON_DATE_SPECIFIED",
                "due_date": (TODAY + timedelta(days=7)).isoformat(),
            },
            "note": "Rotation 41 with Dr. Rivera.",
        },
        "primary_recipients": [{"billing_info": {"email_address": "student@example.com"}}],
        "items": [
            {
                "name": "Cardiology rotation, installment 1 of 2",
                "quantity": "1",
                "unit_amount": {"currency_code": "USD", "value": "600.00"},
                "unit_of_measure": "QUANTITY",
            }
        ],
        "configuration": {"allow_tip": False, "partial_payment": {"allow_partial_payment": False}},
        "amount": {
            "breakdown": {
                "custom": {
                    "label": "Card payment fee (2.99%)",
                    "amount": {"currency_code": "USD", "value": "17.94"},
                }
            }
        },
    }
    assert result.status_code == 201
    assert result["id"].startswith("INV2-")
    assert result["status"] == "DRAFT"
    assert result["amount"]["value"] == "617.94"
    assert result["due_amount"] == {"currency_code": "USD", "value": "617.94"}
    assert result.debug_id is None or isinstance(result.debug_id, str)


def test_send_get_and_cancel_an_invoice(fake_paypal, paypal_client):
    invoice = paypal_client.create_invoice("installment-41", rotation_invoice())

    sent = paypal_client.send_invoice(invoice["id"], "installment-41-send")
    assert sent.status_code == 200
    assert sent["rel"] == "payer-view"
    assert paypal_client.get_invoice(invoice["id"])["status"] == "UNPAID"

    cancelled = paypal_client.cancel_invoice(invoice["id"], "installment-41-cancel")
    assert (cancelled.status_code, dict(cancelled)) == (204, {})
    assert paypal_client.get_invoice(invoice["id"])["status"] == "CANCELLED"

    [send] = fake_paypal.requests_to(f"{INVOICES}/{invoice['id']}/send")
    assert send.headers["PayPal-Request-Id"] == "installment-41-send"
    assert send.json == {"send_to_recipient": True, "send_to_invoicer": False}
    [cancel] = fake_paypal.requests_to(f"{INVOICES}/{invoice['id']}/cancel")
    assert cancel.headers["PayPal-Request-Id"] == "installment-41-cancel"
    assert cancel.json == {"send_to_recipient": True}


def test_an_invoice_dated_in_the_future_is_scheduled(fake_paypal, paypal_client):
    later = paypal_client.create_invoice(
        "installment-42", rotation_invoice("USD-2025-0042", invoice_date=TODAY + timedelta(days=9))
    )

    sent = paypal_client.send_invoice(later["id"], "installment-42-send")

    assert sent.status_code == 202
    assert paypal_client.get_invoice(later["id"])["status"] == "SCHEDULED"
    with pytest.raises(PayPalError) as refused:  # PayPal cancels only what it has sent
        paypal_client.cancel_invoice(later["id"], "installment-42-cancel")
    assert refused.value.issues == ["CANNOT_CANCEL_SCHEDULED_INVOICE"]
    assert paypal_client.delete_invoice(later["id"]).status_code == 204
    assert later["id"] not in fake_paypal.invoices


def test_a_retry_after_a_timeout_does_not_create_a_second_invoice(fake_paypal):
    client = other_client(fake_paypal, timeout=(2, 0.4))
    client.access_token()
    fake_paypal.timeout_delay = 1.0  # PayPal creates the invoice, its answer comes too late
    fake_paypal.fail_next(INVOICES, "timeout")

    result = client.create_invoice("installment-41", rotation_invoice())

    attempts = fake_paypal.requests_to(INVOICES, "POST")
    assert len(attempts) == 2
    assert attempts[0].dropped and not attempts[1].dropped
    assert {r.headers["PayPal-Request-Id"] for r in attempts} == {"installment-41"}
    assert list(fake_paypal.invoices) == [result["id"]]


@pytest.mark.parametrize("status", [500, 503, 429, "disconnect"])
def test_server_errors_are_retried_with_the_same_request_id(fake_paypal, paypal_client, status):
    fake_paypal.fail_next(INVOICES, status)

    result = paypal_client.create_invoice("installment-41", rotation_invoice())

    attempts = fake_paypal.requests_to(INVOICES, "POST")
    assert [r.headers["PayPal-Request-Id"] for r in attempts] == ["installment-41"] * 2
    assert list(fake_paypal.invoices) == [result["id"]]


def test_paypal_unavailable_gives_up_after_the_last_attempt(fake_paypal, paypal_client):
    paypal_client.access_token()
    fake_paypal.fail_next(INVOICES, 503, times=10)

    with pytest.raises(PayPalError) as failed:
        paypal_client.create_invoice("installment-41", rotation_invoice())

    assert (failed.value.status, failed.value.name) == (503, "SERVICE_UNAVAILABLE")
    assert failed.value.debug_id
    assert len(fake_paypal.requests_to(INVOICES)) == paypal_client.max_attempts == 4
    assert fake_paypal.invoices == {}


def test_nothing_listening_is_unreachable(fake_paypal):
    fake_paypal.stop()
    client = other_client(fake_paypal, max_attempts=2)

    with pytest.raises(PayPalUnreachable) as failed:
        client.access_token()

    assert failed.value.status is None


def test_the_same_request_id_gets_the_first_answer(fake_paypal, paypal_client):
    first = paypal_client.create_invoice("installment-41", rotation_invoice())
    again = paypal_client.create_invoice("installment-41", rotation_invoice())

    assert again["id"] == first["id"]
    assert list(fake_paypal.invoices) == [first["id"]]


def test_a_refusal_is_raised_with_paypal_s_answer_and_not_retried(fake_paypal, paypal_client):
    paypal_client.create_invoice("installment-41", rotation_invoice())

    with pytest.raises(PayPalError) as refused:  # same number, another row: PayPal refuses
        paypal_client.create_invoice("installment-99", rotation_invoice())

    error = refused.value
    assert (error.status, error.name) == (422, "UNPROCESSABLE_ENTITY")
    assert error.issues == ["DUPLICATE_INVOICE_NUMBER"]
    assert error.debug_id and error.body["debug_id"] == error.debug_id
    assert len(fake_paypal.requests_to(INVOICES, "POST")) == 2  # one each, no retry


def test_a_malformed_invoice_gets_invalid_request(fake_paypal, paypal_client):
    payload = rotation_invoice()
    payload["items"][0]["unit_amount"]["value"] = 600  # a number, not a decimal string

    with pytest.raises(PayPalError) as refused:
        paypal_client.create_invoice("installment-41", payload)

    assert (refused.value.status, refused.value.name) == (400, "INVALID_REQUEST")
    assert refused.value.issues == ["INVALID_PARAMETER_SYNTAX"]
    assert len(fake_paypal.requests_to(INVOICES, "POST")) == 1


def test_amounts_are_never_floats():
    assert money(Decimal("17.935"), "USD") == {"currency_code": "USD", "value": "17.94"}
    assert money(Decimal("600"), "USD")["value"] == "600.00"
    with pytest.raises(TypeError):
        money(17.94, "USD")


def test_one_organization_s_account_cannot_see_another_s_invoices(fake_paypal, paypal_client):
    account_b = fake_paypal.add_account()
    org_b = PayPalClient(fake_paypal.url, account_b.client_id, account_b.client_secret)
    invoice = paypal_client.create_invoice("installment-41", rotation_invoice())

    with pytest.raises(PayPalError) as hidden:
        org_b.get_invoice(invoice["id"])

    assert hidden.value.status == 404
    assert org_b.access_token() != paypal_client.access_token()


# --- Vault v3 + Orders v2 ------------------------------------------------------------


def save_card(fake_paypal, paypal_client):
    setup = paypal_client.create_setup_token(
        "card-7-setup", return_url="https://a.example/ok", cancel_url="https://a.example/no"
    )
    assert (setup.status_code, setup["status"]) == (201, "CREATED")
    fake_paypal.approve_setup_token(setup["id"])  # the student types the card in PayPal's fields
    return paypal_client.create_payment_token("card-7-vault", setup["id"])


def test_a_saved_card_is_charged_by_the_merchant(fake_paypal, paypal_client):
    vaulted = save_card(fake_paypal, paypal_client)
    assert vaulted["payment_source"]["card"]["last_digits"] == "1111"

    order = paypal_client.charge_vaulted_card(
        "charge-installment-41",
        vaulted["id"],
        Decimal("617.94"),
        "USD",
        "Cardiology rotation: school did not confirm",
        "installment-41",
    )

    assert order["status"] == "COMPLETED"
    [capture] = order["purchase_units"][0]["payments"]["captures"]
    assert capture["status"] == "COMPLETED"
    assert capture["amount"] == {"currency_code": "USD", "value": "617.94"}
    [sent] = fake_paypal.requests_to("/v2/checkout/orders", "POST")
    assert sent.headers["PayPal-Request-Id"] == "charge-installment-41"
    assert sent.headers["Prefer"] == "return=representation"
    assert sent.json == {
        "intent": "CAPTURE",
        "purchase_units": [
            {
                "amount": {"currency_code": "USD", "value": "617.94"},
                "description": "Cardiology rotation: school did not confirm",
                "custom_id": "installment-41",
            }
        ],
        "payment_source": {
            "card": {"vault_id": vaulted["id"], "stored_credential": MERCHANT_INITIATED_UNSCHEDULED}
        },
    }
    assert MERCHANT_INITIATED_UNSCHEDULED == {
        "payment_initiator": "MERCHANT",
        "payment_type": "UNSCHEDULED",
        "usage": "SUBSEQUENT",
    }
    [setup_call] = fake_paypal.requests_to("/v3/vault/setup-tokens")
    assert setup_call.json == {
        "payment_source": {
            "card": {
                "verification_method": "SCA_WHEN_REQUIRED",
                "experience_context": {
                    "return_url": "https://a.example/ok",
                    "cancel_url": "https://a.example/no",
                },
            }
        }
    }
    [token_call] = fake_paypal.requests_to("/v3/vault/payment-tokens")
    assert token_call.headers["PayPal-Request-Id"] == "card-7-vault"


def test_a_charge_retried_after_a_timeout_charges_once(fake_paypal):
    client = other_client(fake_paypal, timeout=(2, 0.4))
    vaulted = save_card(fake_paypal, client)
    fake_paypal.timeout_delay = 1.0
    fake_paypal.fail_next("/v2/checkout/orders", "timeout")

    order = client.charge_vaulted_card(
        "charge-installment-41", vaulted["id"], Decimal("617.94"), "USD", "Rotation", "41"
    )

    assert len(fake_paypal.requests_to("/v2/checkout/orders")) == 2
    assert list(fake_paypal.orders) == [order["id"]]


@pytest.mark.parametrize("decline", [True, "capture"])
def test_a_declined_card_raises_card_declined(fake_paypal, paypal_client, decline):
    vaulted = save_card(fake_paypal, paypal_client)
    fake_paypal.decline_cards = decline  # 422 INSTRUMENT_DECLINED, or a DECLINED capture

    with pytest.raises(CardDeclined) as declined:
        paypal_client.charge_vaulted_card(
            "charge-installment-41", vaulted["id"], Decimal("617.94"), "USD", "Rotation", "41"
        )

    assert declined.value.body  # what PayPal answered, for the caller to store
    if decline is True:
        assert declined.value.status == 422
        assert declined.value.issues == ["INSTRUMENT_DECLINED"]
    else:
        assert declined.value.body["purchase_units"][0]["payments"]["captures"][0]["status"] == (
            "DECLINED"
        )
    assert len(fake_paypal.requests_to("/v2/checkout/orders")) == 1  # a refusal is not retried


def test_a_setup_token_without_a_card_cannot_be_vaulted(fake_paypal, paypal_client):
    setup = paypal_client.create_setup_token("card-7-setup")

    with pytest.raises(PayPalError) as refused:
        paypal_client.create_payment_token("card-7-vault", setup["id"])

    assert refused.value.issues == ["SETUP_TOKEN_NOT_TOKENIZED"]


# --- Webhooks ------------------------------------------------------------------------


@pytest.fixture
def paid_delivery(fake_paypal, paypal_client):
    invoice = paypal_client.create_invoice("installment-41", rotation_invoice())
    paypal_client.send_invoice(invoice["id"], "installment-41-send")
    fake_paypal.mark_paid(invoice["id"])
    return fake_paypal.webhook_event(
        "INVOICING.INVOICE.PAID", fake_paypal.invoice_resource(invoice["id"])
    )


def test_a_paid_invoice_event_has_paypal_s_shape(fake_paypal, paid_delivery):
    event = json.loads(paid_delivery.body)
    invoice = event["resource"]["invoice"]

    assert event["id"].startswith("WH-")
    assert event["event_type"] == "INVOICING.INVOICE.PAID"
    assert invoice["status"] == "PAID"
    assert invoice["payments"]["paid_amount"] == {"currency_code": "USD", "value": "617.94"}
    assert invoice["payments"]["transactions"][0]["method"] == "PAYPAL"
    assert fake_paypal.invoice_resource(invoice["id"], flat=True)["id"] == invoice["id"]


@pytest.mark.parametrize("as_sent", ["raw body", "parsed"])
def test_a_delivery_verifies_for_its_own_webhook_id(
    fake_paypal, paypal_client, paid_delivery, as_sent
):
    event = paid_delivery.body if as_sent == "raw body" else json.loads(paid_delivery.body)

    assert paypal_client.verify_webhook_signature(
        paid_delivery.headers, fake_paypal.webhook_id, event
    )

    [check] = fake_paypal.requests_to("/v1/notifications/verify-webhook-signature")
    assert check.json == {
        "auth_algo": "SHA256withRSA",
        "cert_url": paid_delivery.headers["PAYPAL-CERT-URL"],
        "transmission_id": paid_delivery.headers["PAYPAL-TRANSMISSION-ID"],
        "transmission_sig": paid_delivery.headers["PAYPAL-TRANSMISSION-SIG"],
        "transmission_time": paid_delivery.headers["PAYPAL-TRANSMISSION-TIME"],
        "webhook_id": fake_paypal.webhook_id,
        "webhook_event": json.loads(paid_delivery.body),
    }


def test_another_organization_s_webhook_id_does_not_verify(
    fake_paypal, paypal_client, paid_delivery
):
    account_b = fake_paypal.add_account()
    org_b = PayPalClient(fake_paypal.url, account_b.client_id, account_b.client_secret)
    org_b_webhook = account_b.webhook_id

    assert not org_b.verify_webhook_signature(
        paid_delivery.headers, org_b_webhook, paid_delivery.body
    )
    assert not paypal_client.verify_webhook_signature(
        paid_delivery.headers, org_b_webhook, paid_delivery.body
    )


def test_a_tampered_body_does_not_verify(fake_paypal, paypal_client, paid_delivery):
    event = json.loads(paid_delivery.body)
    event["resource"]["invoice"]["payments"]["paid_amount"]["value"] = "6179.40"

    assert not paypal_client.verify_webhook_signature(
        paid_delivery.headers, fake_paypal.webhook_id, json.dumps(event)
    )


def test_a_flat_resource_verifies_too(fake_paypal, paypal_client):
    invoice = paypal_client.create_invoice("installment-41", rotation_invoice())
    delivery = fake_paypal.webhook_event(
        "INVOICING.INVOICE.CANCELLED", fake_paypal.invoice_resource(invoice["id"], flat=True)
    )

    assert paypal_client.verify_webhook_signature(
        delivery.headers, fake_paypal.webhook_id, delivery.body
    )


def test_a_delivery_without_signature_headers_is_refused_without_asking(
    fake_paypal, paypal_client, paid_delivery
):
    headers = {k: v for k, v in paid_delivery.headers.items() if k != "PAYPAL-TRANSMISSION-SIG"}
    calls_before = len(fake_paypal.requests_received)

    assert not paypal_client.verify_webhook_signature(
        headers, fake_paypal.webhook_id, paid_delivery.body
    )
    assert not paypal_client.verify_webhook_signature(
        paid_delivery.headers, fake_paypal.webhook_id, b"not json"
    )
    assert len(fake_paypal.requests_received) == calls_before


# --- DESIGN §6: never inside a transaction -------------------------------------------


@pytest.mark.django_db
def test_paypal_is_never_called_inside_a_transaction(fake_paypal, paypal_client):
    with pytest.raises(RuntimeError, match="after commit"), transaction.atomic():
        paypal_client.create_invoice("installment-41", rotation_invoice())

    assert fake_paypal.requests_received == []
    assert paypal_client.access_token()  # the test's own transaction is not ours: allowed
