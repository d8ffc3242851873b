"""Zelle and wire receipts (DESIGN §6): an admin records the money that arrived, which
pays the installment (browser: payments.receipt_views; API: payments.api.receipt_views).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership
from payments.fees import cents
from payments.models import Installment, InstallmentStatus, Payment
from payments.settlement import lock_installment, mark_installment_paid
from rotations.choices import PaymentMethod
from usdoctors.errors import Conflict, Invalid, NotAllowed

BY_HAND = (PaymentMethod.ZELLE, PaymentMethod.WIRE)


@transaction.atomic
def record_receipt(
    installment: Installment,
    *,
    amount: Decimal,
    received_on: date,
    reference: str,
    by: Membership,
) -> tuple[Payment, bool]:
    """Record a Zelle or wire receipt for ``installment`` and pay it (§6).

    Admins only (403). The installment row is locked first. Recording the same
    reference for the same installment again answers the payment already written
    (``created`` False) and changes nothing, so a double submit is harmless. Refused,
    with nothing written: an installment of a card invoice (409: PayPal confirms
    those), one already paid or cancelled (409), a reference already recorded for
    another installment (409), an amount other than the installment's (400: Zelle and
    wire carry no card fee, and a partial payment is not a payment of it), a date in
    the future (400) or an empty reference (400).
    """
    if not by.is_admin:
        raise NotAllowed("Only this organization's admins can record receipts.", code="not_admin")
    reference = (reference or "").strip()
    if not reference:
        raise Invalid(
            "Enter the Zelle or wire reference.", code="reference_required", field="reference"
        )
    installment = lock_installment(installment)
    invoice = installment.invoice
    same = Payment.objects.filter(installment=installment, reference=reference).first()
    if same is not None:
        return same, False
    if invoice.payment_method not in BY_HAND:
        raise Conflict(
            "This installment is paid by card through PayPal; its payment is recorded "
            "when PayPal confirms it.",
            code="installment_paid_by_card",
        )
    if installment.status == InstallmentStatus.PAID:
        raise Conflict("This installment is already paid.", code="installment_already_paid")
    if installment.status == InstallmentStatus.CANCELLED:
        raise Conflict(
            "This installment was cancelled; it cannot be paid.", code="installment_cancelled"
        )
    other = (
        Payment.objects.filter(reference=reference)
        .exclude(installment=installment)
        .values_list("installment__sequence", "installment__invoice__reference_code")
        .first()
    )
    if other is not None:
        raise Conflict(
            f"Reference {reference} is already recorded for installment {other[0]} of "
            f"invoice {other[1]}.",
            code="reference_already_recorded",
        )
    amount = cents(amount)
    if amount != installment.charged:
        raise Invalid(
            f"Installment {installment.sequence} is ${installment.charged:,.2f}; record a "
            f"receipt of exactly that amount, not ${amount:,.2f}.",
            code="amount_mismatch",
            field="amount",
        )
    if received_on > timezone.localdate():
        raise Invalid(
            "The date received cannot be in the future.",
            code="received_on_in_future",
            field="received_on",
        )
    payment = mark_installment_paid(
        installment,
        amount=amount,
        method=invoice.payment_method,
        received_on=received_on,
        reference=reference,
        recorded_by=by,
    )
    return payment, True
