"""Helpers for the school-payer, signed-link and immigration-letter tests."""

from decimal import Decimal

from django_scopes import scope, scopes_disabled

from notifications.models import OutboundEmail
from payments.models import CardOnFile, Invoice, SchoolPayment
from rotations import services as rotation_services
from tests import factories


def school_rotation(org, *, weeks=2, student=None, payer="school", card=True, approve=True):
    """A school-paid rotation of ``weeks`` weeks at $500 a week (full plan, by card),
    its student with an active card on file, approved by its attending."""
    with scopes_disabled():
        attending = factories.AttendingProfileFactory(organization=org)
        start = factories.next_monday(3)
        factories.publish(attending, start, weeks)
        student = student or factories.StudentFactory(organization=org)
        rotation = factories.RotationFactory(
            attending=attending,
            student=student,
            start=start,
            weeks=weeks,
            payer=payer,
            plan="full",
            payment_method="paypal",
        )
        if card:
            factories.CardOnFileFactory(student=student)
    if approve:
        with scope(organization=org):
            rotation_services.approve_rotation(rotation, by=attending.membership)
    return rotation


def link_path(rotation) -> str:
    """The path of the confirmation link emailed to the school."""
    with scopes_disabled():
        email = OutboundEmail.objects.get(
            template="school_payment_confirmation", context__rotation_id=rotation.pk
        )
    url = email.context["confirmation_url"]
    return url[url.index("/school/") :]


def school_payment(rotation) -> SchoolPayment:
    with scopes_disabled():
        return SchoolPayment.objects.get(rotation=rotation)


def rotation_invoice(rotation) -> Invoice:
    with scopes_disabled():
        return Invoice.objects.get(rotation=rotation, kind="rotation")


def emails(template: str) -> list:
    with scopes_disabled():
        return list(OutboundEmail.objects.filter(template=template).order_by("pk"))


def use_paypal(org, fake_paypal, settings):
    """``org`` is paid into the fake PayPal's account."""
    settings.PAYPAL_BASE_URL = fake_paypal.url
    with scopes_disabled():
        org.payment_gateway = "paypal"
        org.paypal_client_id = fake_paypal.client_id
        org.paypal_client_secret = fake_paypal.client_secret
        org.paypal_webhook_id = fake_paypal.webhook_id
        org.save()


def vault_a_card(org, student, fake_paypal) -> CardOnFile:
    """The student saves a card in the fake PayPal's vault through our services, and it
    replaces any card on file."""
    from payments import cards

    with scope(organization=org):
        card = cards.start_paypal_card(student)
        fake_paypal.approve_setup_token(card.setup_token_id, number="4111111111111111")
        return cards.finish_paypal_card(student, card.setup_token_id)


TOTAL = Decimal("1000.00")  # 2 weeks × $500
WITH_SURCHARGE = Decimal("1029.90")  # + 2.99%
