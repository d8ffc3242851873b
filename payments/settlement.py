"""Paying an installment (DESIGN §6, STYLE §5): the one place a ``Payment`` is written
and an installment becomes paid, whoever brings the money — an admin recording a Zelle
or wire receipt (payments.receipts) or a verified gateway webhook (payments.gateways).

Lock order: the installment row first, then its invoice row (credit accounts, if ever,
last — payments.credits).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from notifications.services import notify
from payments import paid
from payments.models import Installment, InstallmentStatus, Invoice, InvoiceStatus, Payment
from usdoctors.links import organization_url


def lock_installment(installment_or_id) -> Installment:
    """The installment row, locked for this transaction, with its invoice loaded."""
    pk = getattr(installment_or_id, "pk", installment_or_id)
    return (
        Installment.objects.select_for_update(of=("self",))
        .select_related("invoice__student__user", "invoice__rotation__attending")
        .get(pk=pk)
    )


@transaction.atomic
def mark_installment_paid(
    installment: Installment,
    *,
    amount: Decimal,
    method: str,
    received_on: date,
    reference: str = "",
    recorded_by=None,
    gateway_payment_id: str = "",
    gateway_answer: dict | None = None,
) -> Payment | None:
    """Record the payment of ``installment`` and mark it paid (§6).

    Locks the installment row and **returns None, writing nothing, if it is already
    paid** (or cancelled): a webhook delivered twice, or two admins recording the same
    receipt at once, pay it once (pretix's ``OrderPayment.confirm()``). Otherwise writes
    the ``Payment``, marks the installment paid, marks the invoice paid when none of its
    installments is left open (announcing it to its kind's subscribers: ``payments.paid``),
    queues the ``payment_received`` email, and returns the payment. The caller checks
    amounts and permissions before calling (receipts) or trusts the re-fetched gateway
    invoice (webhooks).
    """
    installment = lock_installment(installment)
    if installment.status in (InstallmentStatus.PAID, InstallmentStatus.CANCELLED):
        return None
    now = timezone.now()
    payment = Payment.objects.create(
        organization_id=installment.organization_id,
        installment=installment,
        amount=amount,
        method=method,
        reference=reference,
        received_on=received_on,
        recorded_by=recorded_by,
        gateway_payment_id=gateway_payment_id,
        gateway_answer=gateway_answer or {},
    )
    installment.status = InstallmentStatus.PAID
    installment.paid_at = now
    installment.save(update_fields=["status", "paid_at"])

    invoice = Invoice.objects.select_for_update().get(pk=installment.invoice_id)
    still_open = (
        Installment.objects.filter(invoice=invoice)
        .exclude(status__in=(InstallmentStatus.PAID, InstallmentStatus.CANCELLED))
        .exists()
    )
    if not still_open and invoice.status != InvoiceStatus.PAID:
        invoice.status = InvoiceStatus.PAID
        invoice.save(update_fields=["status"])
        paid.announce(invoice)  # a letter's fee releases its writer's address (lor)
    installment.invoice.status = invoice.status

    student = installment.invoice.student
    notify(
        installment.organization,
        student.user.email,
        "payment_received",
        {
            "student_name": student.display_name,
            "amount": f"{amount:,.2f}",
            "received_on": f"{received_on:%B} {received_on.day}, {received_on.year}",
            "sequence": installment.sequence,
            "reference_code": installment.invoice.reference_code,
            "invoice_paid": invoice.status == InvoiceStatus.PAID,
            "invoice_kind": invoice.kind,
            "rotation_url": organization_url(
                installment.organization, f"/rotations/{installment.invoice.rotation_id}/"
            ),
        },
        dedupe_key=f"payment-received:{installment.pk}",
    )
    return payment
