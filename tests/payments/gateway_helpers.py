"""Helpers for the gateway, sending and webhook tests: organizations paid into their own
accounts on the fake PayPal, and card installments of the worked example ($600.00 +
2.99% = $617.94)."""

from decimal import Decimal

from django.test import Client
from django_scopes import scope, scopes_disabled

from payments import sending
from payments.models import Installment
from tests import factories
from tests.conftest import host_of

WEBHOOK_PATH = "/api/v1/payments/paypal/webhook"
INVOICES = "/v2/invoicing/invoices"


def use_paypal(organization, account) -> None:
    """Configure ``organization`` as staff would in /admin/, with ``account``'s
    credentials on the fake (``fake_paypal`` itself, or one from ``add_account()``)."""
    with scopes_disabled():
        organization.payment_gateway = "paypal"
        organization.paypal_client_id = account.client_id
        organization.paypal_client_secret = account.client_secret
        organization.paypal_webhook_id = account.webhook_id
        organization.save()


def card_installment(organization, *, due_on=None, amount="600.00", fee="17.94", sequence=1):
    """A pending card installment of a self-paid rotation, with its card fee line."""
    with scopes_disabled():
        rotation = factories.RotationFactory(organization=organization, payment_method="paypal")
        invoice = factories.InvoiceFactory(rotation=rotation)
        kwargs = {"due_on": due_on} if due_on else {}
        installment = factories.InstallmentFactory(
            invoice=invoice,
            sequence=sequence,
            amount=Decimal(amount),
            card_fee=Decimal(fee),
            **kwargs,
        )
        factories.InvoiceLineFactory(invoice=invoice, amount=Decimal(amount))
        factories.InvoiceLineFactory(
            invoice=invoice,
            kind="card_fee",
            label="Card fee (2.99%)",
            amount=Decimal(fee),
            installment=installment,
        )
    return installment


def send(installment) -> str:
    with scope(organization=installment.organization):
        return sending.send_installment(installment.pk)


def reload(installment) -> Installment:
    with scopes_disabled():
        return Installment.objects.select_related("invoice").get(pk=installment.pk)


def post_webhook(organization, delivery, *, body=None, headers=None):
    """POST a delivery (``SignedWebhook``) to ``organization``'s own host."""
    client = Client(HTTP_HOST=host_of(organization))
    return client.post(
        WEBHOOK_PATH,
        data=delivery.body if body is None else body,
        content_type="application/json",
        headers={
            k: v
            for k, v in (delivery.headers if headers is None else headers).items()
            if k != "Content-Type"
        },
    )
