"""Each organization is paid into its own account (issue 7 item 5, DESIGN §6): gateway,
PayPal credentials and Zelle/wire instructions are organization settings that platform
staff edit in /admin/; the secret is encrypted at rest and never shown back."""

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django_scopes import scopes_disabled

from tests.test_audit_trail import change_in_admin, staff_client  # noqa: F401 - fixture
from usdoctors import encryption
from usdoctors.models import Organization

pytestmark = pytest.mark.django_db


def stored_secret_column(organization) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT paypal_client_secret_encrypted FROM usdoctors_organization WHERE id = %s",
            [organization.pk],
        )
        return cursor.fetchone()[0]


def fresh(organization) -> Organization:
    with scopes_disabled():
        return Organization.objects.get(pk=organization.pk)


def test_staff_set_paypal_credentials_and_the_secret_is_encrypted_at_rest(
    demo,
    staff_client,  # noqa: F811
):
    path = f"/admin/usdoctors/organization/{demo['org'].pk}/change/"
    change_in_admin(
        staff_client,
        path,
        payment_gateway="paypal",
        paypal_environment="live",
        paypal_client_id="client-abc",
        new_paypal_client_secret="s3cret-value",
        paypal_webhook_id="WH-123",
        zelle_instructions="Zelle to pay@demo.test",
        wire_instructions="Bank of Demo, routing 000",
    )

    organization = fresh(demo["org"])
    assert organization.paypal_client_secret == "s3cret-value"
    assert "s3cret-value" not in stored_secret_column(organization)
    assert organization.has_paypal_credentials
    assert organization.paypal_environment == "live"
    assert organization.zelle_instructions == "Zelle to pay@demo.test"
    # Never shown back, and kept when the field is left blank.
    page = staff_client.get(path).content.decode()
    assert "s3cret-value" not in page
    assert organization.paypal_client_secret_encrypted not in page
    change_in_admin(staff_client, path, paypal_client_id="client-def")
    organization = fresh(demo["org"])
    assert organization.paypal_client_id == "client-def"
    assert organization.paypal_client_secret == "s3cret-value"
    # The audit trail records the change, never the secret.
    entries = " ".join(
        str(entry.changes) for entry in LogEntry.objects.filter(object_pk=str(organization.pk))
    )
    assert "client-abc" in entries
    assert "s3cret-value" not in entries


def test_paypal_needs_complete_credentials(demo, staff_client):  # noqa: F811
    path = f"/admin/usdoctors/organization/{demo['org'].pk}/change/"
    page = staff_client.get(path)
    from tests.test_audit_trail import submitted_form

    data = submitted_form(page.content.decode())
    data.update(payment_gateway="paypal", paypal_client_id="client-abc")
    response = staff_client.post(path, data)
    assert response.status_code == 200  # the form again, with errors
    assert "PayPal needs the client id, secret and webhook id." in response.content.decode()
    assert fresh(demo["org"]).payment_gateway == "simulated"


def test_the_paypal_url_follows_the_environment_unless_overridden(demo, settings):
    settings.PAYPAL_BASE_URL = ""
    organization = fresh(demo["org"])
    assert organization.paypal_base_url == "https://api-m.sandbox.paypal.com"
    organization.paypal_environment = "live"
    assert organization.paypal_base_url == "https://api-m.paypal.com"
    settings.PAYPAL_BASE_URL = "http://127.0.0.1:9"
    assert organization.paypal_base_url == "http://127.0.0.1:9"


def test_secrets_need_a_key_outside_debug(settings):
    settings.PAYMENT_SECRETS_KEY = ""
    settings.DEBUG = False
    with pytest.raises(Exception, match="PAYMENT_SECRETS_KEY"):
        encryption.encrypt("x")
    settings.DEBUG = True
    assert encryption.decrypt(encryption.encrypt("x")) == "x"


def test_keys_rotate(settings):
    old = "dGVzdHMtb25seS1wYXltZW50LXNlY3JldHMta2V5ISE="
    new = "bmV3LXRlc3RzLW9ubHktcGF5bWVudC1rZXktMzIhISE="
    settings.PAYMENT_SECRETS_KEY = old
    stored = encryption.encrypt("secret")
    settings.PAYMENT_SECRETS_KEY = f"{new},{old}"
    assert encryption.decrypt(stored) == "secret"
    settings.PAYMENT_SECRETS_KEY = new
    with pytest.raises(encryption.SecretUnreadable):
        encryption.decrypt(stored)
