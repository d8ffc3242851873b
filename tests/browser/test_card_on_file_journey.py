"""A school payer puts a card on file with PayPal in Chromium, without PayPal's scripts:
our card page → PayPal's approval page (the fake PayPal serves it) → back to us → the
card is on file. Also proves the card page's Content-Security-Policy lets the form's
redirect reach PayPal (``form-action``), which a policy of ``'self'`` alone would block."""

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from payments.models import CardOnFile
from tests import factories
from tests.browser.conftest import log_in
from tests.fakes.paypal_server import FakePayPal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fake_paypal(site, settings, monkeypatch):
    """The demo organization is paid into the fake PayPal's account."""
    from payments import gateways

    server = FakePayPal().start()
    settings.PAYPAL_BASE_URL = server.url
    monkeypatch.setattr(gateways, "CLIENT_OPTIONS", {"timeout": (2, 2), "retry_base_delay": 0.01})
    with scopes_disabled():
        organization = site["org"]
        organization.payment_gateway = "paypal"
        organization.paypal_client_id = server.client_id
        organization.paypal_client_secret = server.client_secret
        organization.paypal_webhook_id = server.webhook_id
        organization.save()
    yield server
    server.stop()
    assert not server.errors, server.errors


def test_the_student_saves_a_card_with_paypal_and_sees_it_on_file(
    site, fake_paypal, page, assert_accessible
):
    base = site["url"]
    with scopes_disabled():
        student = factories.StudentFactory(organization=site["org"])
    fake_paypal.payer_email = "amara.payer@example.com"
    log_in(page, base, student.user.email)

    page.goto(f"{base}/payments/card/")
    expect(page.get_by_text("No card on file yet.")).to_be_visible()
    assert_accessible(page, "the card page")
    page.get_by_role("button", name="Save a card with PayPal").click()

    # PayPal's approval page (the fake's), naming the organization.
    page.wait_for_url(f"{fake_paypal.url}/agreements/approve?**")
    expect(page.get_by_role("heading", name="Save PayPal with Demo Rotations")).to_be_visible()
    page.get_by_role("button", name="Agree and continue").click()

    page.wait_for_url(f"{base}/payments/card/")
    expect(page.get_by_text("Your card is on file.")).to_be_visible()
    expect(page.get_by_text("On file: PayPal (amara.payer@example.com).")).to_be_visible()
    with scopes_disabled():
        card = CardOnFile.objects.get(student=student, status="active")
    assert card.source == "paypal"
    assert card.payment_token_id in fake_paypal.payment_tokens


def test_the_student_cancels_on_paypal_and_nothing_is_saved(site, fake_paypal, page):
    base = site["url"]
    with scopes_disabled():
        student = factories.StudentFactory(organization=site["org"])
    log_in(page, base, student.user.email)

    page.goto(f"{base}/payments/card/")
    page.get_by_role("button", name="Save a card with PayPal").click()
    page.wait_for_url(f"{fake_paypal.url}/agreements/approve?**")
    page.get_by_role("link", name="Cancel and return to Demo Rotations").click()

    page.wait_for_url(f"{base}/payments/card/")
    expect(page.get_by_text("You cancelled on PayPal; no card was saved.")).to_be_visible()
    expect(page.get_by_text("No card on file yet.")).to_be_visible()
    with scopes_disabled():
        assert not CardOnFile.objects.filter(student=student, status="active").exists()
