"""Booking through the real services for payments tests: request, then approve (which
invoices the rotation through the ``approved`` lifecycle event)."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from django_scopes import scope, scopes_disabled

from payments.models import Invoice
from rotations.services import approve_rotation, request_rotation
from tests import factories


def book(
    student,
    *,
    rate="300.00",
    weeks=4,
    plan="two_payment",
    method="paypal",
    payer="self",
    start=None,
    attending=None,
):
    """A rotation of ``student`` requested and approved now; returns it with its invoice."""
    organization = student.organization
    start = start or factories.next_monday(5)
    with scopes_disabled():
        if attending is None:
            attending = factories.AttendingProfileFactory(
                organization=organization, weekly_rate=Decimal(rate)
            )
        factories.publish(attending, start, weeks)
    with scope(organization=organization):
        rotation = request_rotation(
            student,
            attending=attending,
            rotation_type="clerkship",
            mode="in_person",
            start=start,
            weeks=weeks,
            payer=payer,
            plan=plan,
            payment_method=method,
        )
        rotation = approve_rotation(rotation, by=attending.membership)
        invoice = Invoice.objects.get(rotation=rotation)
    return rotation, invoice


def start_noon(rotation):
    return timezone.make_aware(
        timezone.datetime.combine(rotation.start, timezone.datetime.min.time())
    ) + timedelta(hours=12)
