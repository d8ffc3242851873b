"""Saving a PayPal account as the card on file without JavaScript, and charging it
(DESIGN §6 school payers, payments.cards and payments.school).

The student's browser goes to PayPal's approval page (the fake PayPal serves one),
agrees, and comes back to our return page, which vaults it. Charges name the vaulted
source (``payment_source.paypal.vault_id``); a capture PayPal holds (PENDING) is paid
only when PAYMENT.CAPTURE.COMPLETED arrives, once; DENIED takes the decline path.
Everything talks HTTP to the fake PayPal; nothing of ours is mocked.
"""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django_scopes import scope, scopes_disabled

from payments import cards, school
from payments.models import CardOnFile, Payment, WebhookEvent
from rotations.services import approve_rotation
from tests import factories
from tests.conftest import host_of
from tests.payments import gateway_helpers
from tests.payments.gateway_helpers import post_webhook
from tests.payments.school_helpers import (
    WITH_SURCHARGE,
    emails,
    link_path,
    rotation_invoice,
    school_payment,
    school_rotation,
    use_paypal,
)

pytestmark = pytest.mark.django_db

SETUP_TOKENS = "/v3/vault/setup-tokens"
PAYMENT_TOKENS = "/v3/vault/payment-tokens"
ORDERS = "/v2/checkout/orders"
RETURN_PATH = "/payments/card/paypal/return/"
COMPLETED = "PAYMENT.CAPTURE.COMPLETED"
DENIED = "PAYMENT.CAPTURE.DENIED"


@pytest.fixture
def fake(demo, paypal_setup, settings):
    """Demo is paid into the fake PayPal's default account."""
    use_paypal(demo["org"], paypal_setup, settings)
    return paypal_setup


def cards_of(student) -> list[CardOnFile]:
    with scopes_disabled():
        return list(CardOnFile.objects.filter(student=student).order_by("pk"))


def active_cards(student) -> list[CardOnFile]:
    return [card for card in cards_of(student) if card.status == "active"]


def agree_on_paypal(approve_url: str, *, email: str = "ana.payer@example.com") -> str:
    """The payer on PayPal's approval page: it offers "Agree and continue"; agreeing
    redirects back to the merchant. Returns where PayPal sent the browser."""
    page = requests.get(approve_url, timeout=5)
    assert page.status_code == 200
    assert "Agree and continue" in page.text
    session = re.search(r'name="approval_session_id" value="([^"]+)"', page.text)[1]
    base = approve_url.split("/agreements/")[0]
    agreed = requests.post(
        f"{base}/agreements/approve",
        data={"approval_session_id": session, "email": email},
        allow_redirects=False,
        timeout=5,
    )
    assert agreed.status_code == 302
    return agreed.headers["Location"]


def local(url: str, host: str) -> str:
    """The path and query of a URL on our site (the test client's host)."""
    parts = urlsplit(url)
    assert parts.netloc == host, url
    return f"{parts.path}?{parts.query}"


def start_in_browser(client) -> str:
    response = client.post("/payments/card/")
    assert response.status_code == 303, response.content
    return response["Location"]


# --- Saving it: the redirect journey --------------------------------------------------------


def test_the_student_saves_a_paypal_account_through_paypals_approval_page(demo, fake, client_for):
    client = client_for(demo["student"])
    shown = client.get("/payments/card/")
    page = shown.content.decode()
    assert "Save a card with PayPal" in page
    assert "setup token" not in page.lower()  # no raw token box any more
    # The browser may follow the form's redirect to PayPal's pages (and nowhere else).
    # The directives come in no fixed order: read the policy as directives.
    directives = {
        part.strip().split(" ", 1)[0]: part.strip().split(" ", 1)[1:]
        for part in shown["Content-Security-Policy"].split(";")
        if part.strip()
    }
    assert directives["form-action"] == [f"'self' {fake.url}"]

    approve_url = start_in_browser(client)

    assert approve_url.startswith(f"{fake.url}/agreements/approve?approval_session_id=")
    [setup] = fake.requests_to(SETUP_TOKENS, "POST")
    paypal = setup.json["payment_source"]["paypal"]
    assert (paypal["usage_type"], paypal["customer_type"]) == ("MERCHANT", "CONSUMER")
    assert paypal["permit_multiple_payment_tokens"] is False
    assert "vault_instruction" not in paypal["experience_context"]
    assert paypal["experience_context"] == {
        "return_url": f"http://demo.localhost{RETURN_PATH}",
        "cancel_url": "http://demo.localhost/payments/card/paypal/cancel/",
        "shipping_preference": "NO_SHIPPING",
        "brand_name": demo["org"].name,
    }
    [pending] = cards_of(demo["student"])
    assert (pending.status, pending.source) == ("pending", "paypal")
    assert fake.requests_to(PAYMENT_TOKENS) == []  # nothing vaulted before approval

    back = agree_on_paypal(approve_url)
    query = parse_qs(urlsplit(back).query)
    assert query["approval_token_id"] == [pending.setup_token_id]
    assert query["approval_session_id"]
    response = client.get(local(back, "demo.localhost"), follow=True)

    assert response.redirect_chain == [("/payments/card/", 302)]
    text = response.content.decode()
    assert "Your card is on file." in text
    assert "On file: PayPal (ana.payer@example.com)." in text
    [card] = active_cards(demo["student"])
    assert card.pk == pending.pk
    assert (card.source, card.brand, card.last4) == ("paypal", "PayPal", "")
    assert card.paypal_email == "ana.payer@example.com"
    assert "paypal" in fake.payment_tokens[card.payment_token_id]["payment_source"]
    [exchange] = fake.requests_to(PAYMENT_TOKENS, "POST")
    assert exchange.json["payment_source"]["token"] == {
        "id": pending.setup_token_id,
        "type": "SETUP_TOKEN",
    }


def test_the_paypal_account_replaces_the_card_on_file(demo, fake, client_for):
    with scopes_disabled():
        old = factories.CardOnFileFactory(student=demo["student"])
    client = client_for(demo["student"])

    client.get(local(agree_on_paypal(start_in_browser(client)), "demo.localhost"))

    [card] = active_cards(demo["student"])
    assert card.source == "paypal"
    old.refresh_from_db()
    assert old.status == "removed"


def test_cancelling_on_paypal_saves_nothing_and_says_so(demo, fake, client_for):
    with scopes_disabled():
        kept = factories.CardOnFileFactory(student=demo["student"])
    client = client_for(demo["student"])
    approve_url = start_in_browser(client)
    page = requests.get(approve_url, timeout=5).text
    cancel_href = re.search(r'<a href="([^"]+)">Cancel', page)[1].replace("&amp;", "&")

    cancelled = requests.get(f"{fake.url}{cancel_href}", allow_redirects=False, timeout=5)
    assert cancelled.status_code == 302
    response = client.get(local(cancelled.headers["Location"], "demo.localhost"), follow=True)

    assert response.status_code == 200
    text = response.content.decode()
    assert "You cancelled on PayPal; no card was saved." in text
    assert "On file: VISA ending 4242." in text
    assert [card.pk for card in active_cards(demo["student"])] == [kept.pk]
    assert fake.requests_to(PAYMENT_TOKENS) == []


def test_returning_twice_keeps_one_card_and_says_it_is_done(demo, fake, client_for):
    client = client_for(demo["student"])
    back = local(agree_on_paypal(start_in_browser(client)), "demo.localhost")
    assert client.get(back).status_code == 302

    again = client.get(back)

    assert again.status_code == 409
    assert "already finished" in again.content.decode()
    assert len(active_cards(demo["student"])) == 1
    assert len(cards_of(demo["student"])) == 1
    assert len(fake.requests_to(PAYMENT_TOKENS, "POST")) == 1


def assert_refused(response, student, cards_before):
    assert response.status_code == 409
    assert "unknown or already finished" in response.content.decode()
    assert [(c.pk, c.status) for c in cards_of(student)] == cards_before


def test_an_unknown_approval_token_is_refused_and_changes_nothing(demo, fake, client_for):
    with scopes_disabled():
        factories.CardOnFileFactory(student=demo["student"])
    before = [(c.pk, c.status) for c in cards_of(demo["student"])]

    response = client_for(demo["student"]).get(f"{RETURN_PATH}?approval_token_id=NOPE123")

    assert_refused(response, demo["student"], before)
    assert fake.requests_to(PAYMENT_TOKENS) == []


def test_another_students_approval_token_is_refused(demo, fake, client_for):
    with scopes_disabled():
        classmate = factories.StudentFactory(organization=demo["org"])
    back = local(
        agree_on_paypal(start_in_browser(client_for(classmate))), "demo.localhost"
    )  # the classmate approved on PayPal but has not come back yet

    response = client_for(demo["student"]).get(back)

    assert_refused(response, demo["student"], [])
    [theirs] = cards_of(classmate)
    assert theirs.status == "pending"  # still theirs to finish
    assert fake.requests_to(PAYMENT_TOKENS) == []
    assert client_for(classmate).get(back).status_code == 302
    assert active_cards(classmate)[0].source == "paypal"


def test_another_organizations_approval_token_is_refused(demo, northside, fake, client_for):
    gateway_helpers.use_paypal(northside["org"], fake.add_account())
    back = agree_on_paypal(start_in_browser(client_for(northside["student"])))
    path = local(back, "northside.localhost")

    response = client_for(demo["student"]).get(path, HTTP_HOST=host_of(demo["org"]))

    assert_refused(response, demo["student"], [])
    assert cards_of(northside["student"])[0].status == "pending"
    assert fake.requests_to(PAYMENT_TOKENS) == []


def test_coming_back_before_approving_is_refused_and_the_setup_stays_open(demo, fake, client_for):
    client = client_for(demo["student"])
    start_in_browser(client)
    [pending] = cards_of(demo["student"])

    response = client.get(f"{RETURN_PATH}?approval_token_id={pending.setup_token_id}")

    assert response.status_code == 409
    assert "PayPal did not accept this card" in response.content.decode()
    assert [(c.pk, c.status) for c in cards_of(demo["student"])] == [(pending.pk, "pending")]
    [refusal] = fake.requests_to(PAYMENT_TOKENS, "POST")
    assert refusal.status == 422


# --- The API twin ---------------------------------------------------------------------


def test_the_api_starts_the_approval_and_finishes_it_with_the_setup_token(demo, fake, client_for):
    client = client_for(demo["student"])
    started = client.post(
        "/api/v1/payment-methods/card/paypal-approval", {}, content_type="application/json"
    )
    assert started.status_code == 201, started.json()
    body = started.json()
    assert body["approve_url"].startswith(f"{fake.url}/agreements/approve?")
    assert (body["status"], body["source"]) == ("pending", "paypal")
    [setup] = fake.requests_to(SETUP_TOKENS, "POST")
    assert (
        setup.json["payment_source"]["paypal"]["experience_context"]["return_url"]
        == f"http://demo.localhost{RETURN_PATH}"
    )
    fake.approve_paypal_setup(body["setup_token_id"], email="api.payer@example.com")

    finished = client.post(
        "/api/v1/payment-methods/card",
        {"setup_token_id": body["setup_token_id"]},
        content_type="application/json",
    )

    assert finished.status_code == 201, finished.json()
    assert finished.json()["status"] == "active"
    assert finished.json()["source"] == "paypal"
    assert finished.json()["paypal_email"] == "api.payer@example.com"
    assert finished.json()["description"] == "PayPal (api.payer@example.com)"
    assert active_cards(demo["student"])[0].pk == body["id"]


def test_the_api_refuses_a_return_url_on_another_site(demo, fake, client_for):
    response = client_for(demo["student"]).post(
        "/api/v1/payment-methods/card/paypal-approval",
        {"return_url": "https://evil.example/steal"},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert fake.requests_to(SETUP_TOKENS) == []
    assert cards_of(demo["student"]) == []


# --- Charging a PayPal account ----------------------------------------------------------


def save_paypal_account(org, student, fake) -> CardOnFile:
    with scope(organization=org):
        card = cards.start_paypal_account(
            student,
            return_url=f"http://{host_of(org)}{RETURN_PATH}",
            cancel_url=f"http://{host_of(org)}/payments/card/",
        )
        fake.approve_paypal_setup(card.setup_token_id, email="ana.payer@example.com")
        return cards.finish_paypal_card(student, card.setup_token_id)


def refused_school_rotation(org, fake, client):
    """A school-paid rotation whose student keeps a PayPal account on file, approved;
    the school refused: the charge is pending."""
    rotation = school_rotation(org, approve=False)
    card = save_paypal_account(org, rotation.student, fake)
    with scope(organization=org):
        approve_rotation(rotation, by=rotation.attending.membership)
    client.post(link_path(rotation), {"decision": "refuse"}, HTTP_HOST=host_of(org))
    return rotation, card


def charge(rotation) -> str:
    with scope(organization=rotation.organization):
        return school.charge_school_payment(school_payment(rotation).pk)


def payments_of(rotation) -> list[Payment]:
    with scopes_disabled():
        return list(Payment.objects.filter(installment__invoice__rotation=rotation))


def test_a_paypal_account_is_charged_as_paypal_in_full_with_the_surcharge(client, demo, fake):
    rotation, card = refused_school_rotation(demo["org"], fake, client)

    assert charge(rotation) == "charged"

    [order] = fake.requests_to(ORDERS, "POST")
    assert order.json["payment_source"] == {"paypal": {"vault_id": card.payment_token_id}}
    assert order.json["purchase_units"][0]["amount"] == {
        "currency_code": "USD",
        "value": str(WITH_SURCHARGE),
    }
    assert order.json["purchase_units"][0]["custom_id"] == (
        f"school-charge-{rotation_invoice(rotation).pk}"
    )
    [payment] = payments_of(rotation)
    assert payment.amount == WITH_SURCHARGE
    assert rotation_invoice(rotation).status == "paid"
    [told] = emails("school_refused_card_charged")
    assert told.context["card"] == "PayPal (ana.payer@example.com)"


def capture_id_of(rotation) -> str:
    return school_payment(rotation).charge_answer["capture_id"]


def counts(rotation):
    with scopes_disabled():
        return len(payments_of(rotation)), WebhookEvent.objects.count()


def test_a_pending_capture_is_not_paid_until_paypal_completes_it_once(client, demo, fake):
    rotation, _card = refused_school_rotation(demo["org"], fake, client)
    fake.pending_captures = True

    assert charge(rotation) == "capturing"

    record = school_payment(rotation)
    assert record.charge_status == "capturing"
    assert payments_of(rotation) == []
    assert rotation_invoice(rotation).status != "paid"
    assert emails("school_refused_card_charged") == []
    # Neither the task delivered again nor the sweep charges it a second time.
    assert charge(rotation) == "skipped"
    with scope(organization=demo["org"]):
        school.charge_unanswered_schools(demo["org"])
    assert len(fake.requests_to(ORDERS, "POST")) == 1

    capture_id = capture_id_of(rotation)
    fake.settle_capture(capture_id, "COMPLETED")
    delivery = fake.capture_event(COMPLETED, capture_id)
    response = post_webhook(demo["org"], delivery)

    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "processed"
    [payment] = payments_of(rotation)
    assert (payment.amount, payment.gateway_payment_id) == (WITH_SURCHARGE, capture_id)
    assert rotation_invoice(rotation).status == "paid"
    assert school_payment(rotation).charge_status == "charged"
    assert len(emails("school_refused_card_charged")) == 1
    # The event was a trigger: PayPal was asked for the capture before acting.
    assert fake.requests_to(f"/v2/payments/captures/{capture_id}", "GET")

    before = counts(rotation)
    again = post_webhook(demo["org"], delivery)
    assert again.json()["outcome"] == "duplicate"
    another = post_webhook(demo["org"], fake.capture_event(COMPLETED, capture_id))
    assert another.json()["outcome"] == "ignored"
    assert counts(rotation)[0] == before[0] == 1
    assert len(emails("school_refused_card_charged")) == 1


def test_a_capture_completed_at_once_ignores_its_webhook(client, demo, fake):
    rotation, _card = refused_school_rotation(demo["org"], fake, client)
    assert charge(rotation) == "charged"

    response = post_webhook(demo["org"], fake.capture_event(COMPLETED, capture_id_of(rotation)))

    assert response.json()["outcome"] == "ignored"
    assert "recorded already" in response.json()["detail"]
    assert len(payments_of(rotation)) == 1


def test_a_completed_capture_signed_for_another_organization_changes_nothing(
    client, demo, northside, fake
):
    rotation, _card = refused_school_rotation(demo["org"], fake, client)
    fake.pending_captures = True
    assert charge(rotation) == "capturing"
    capture_id = capture_id_of(rotation)
    fake.settle_capture(capture_id, "COMPLETED")
    account = fake.add_account()
    gateway_helpers.use_paypal(northside["org"], account)

    # Signed for northside and delivered there: verified, but not one of its charges.
    there = post_webhook(
        northside["org"], fake.capture_event(COMPLETED, capture_id, webhook_id=account.webhook_id)
    )
    # Signed for northside, delivered to demo: not verified with demo's webhook id.
    here = post_webhook(
        demo["org"], fake.capture_event(COMPLETED, capture_id, webhook_id=account.webhook_id)
    )

    assert there.status_code == 200
    assert there.json()["outcome"] == "ignored"
    assert here.status_code == 400
    assert payments_of(rotation) == []
    assert school_payment(rotation).charge_status == "capturing"
    assert fake.requests_to(f"/v2/payments/captures/{capture_id}") == []


def test_a_denied_capture_takes_the_decline_path(client, demo, fake):
    rotation, _card = refused_school_rotation(demo["org"], fake, client)
    fake.pending_captures = True
    assert charge(rotation) == "capturing"
    capture_id = capture_id_of(rotation)
    fake.settle_capture(capture_id, "DECLINED")

    response = post_webhook(demo["org"], fake.capture_event(DENIED, capture_id))

    assert response.json()["outcome"] == "processed", response.json()
    assert school_payment(rotation).charge_status == "declined"
    assert payments_of(rotation) == []
    assert rotation_invoice(rotation).status != "paid"
    [student_email] = emails("school_charge_declined")
    assert student_email.recipient == rotation.student.user.email
    assert student_email.context["card"] == "PayPal (ana.payer@example.com)"
    assert [e.recipient for e in emails("school_charge_declined_admin")] == [
        demo["admin"].user.email
    ]
    assert emails("school_refused_card_charged") == []
    # A later COMPLETED (PayPal changed its mind, or a forged order) pays nothing.
    late = post_webhook(demo["org"], fake.capture_event(COMPLETED, capture_id))
    assert late.json()["outcome"] == "ignored"
    assert payments_of(rotation) == []
