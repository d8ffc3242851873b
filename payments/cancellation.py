"""What a cancelled rotation does to its money (DESIGN §5, §6): what was paid becomes
credit towards the next rotation, and nothing more is asked for.

``credit_cancelled_rotation`` is the ``cancelled`` lifecycle subscriber
(PaymentsConfig.ready()), inside the cancellation's transaction. A date change the
attending cannot accommodate ends in this same cancellation (§5), so it is the one path
that turns payments into credit; ``moved`` keeps the invoice and its installments as
they are.
"""

from __future__ import annotations

from payments.credits import add_credit
from payments.fees import ZERO
from payments.invoicing import amount_paid
from payments.models import (
    CreditReason,
    Installment,
    InstallmentStatus,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
)
from rotations.models import Rotation


def credit_cancelled_rotation(rotation: Rotation, *, by, reason: str) -> None:
    """Lifecycle ``cancelled`` handler (§6).

    The rotation invoice is locked (then its installments, then the credit account —
    payments.credits' lock order). Its open installments are cancelled — one with a
    gateway invoice keeps its ``gateway_invoice_id``, which is the gateway task's cue to
    cancel it at the gateway after commit — and the invoice is cancelled. What the
    student paid towards the price (installment shares, plus the credit the invoice
    used) goes to their credit; card fees do not, they went to the card network.
    """
    invoice = (
        Invoice.objects.select_for_update()
        .filter(rotation=rotation, kind=InvoiceKind.ROTATION)
        .first()
    )
    if invoice is None or invoice.status == InvoiceStatus.CANCELLED:
        return
    list(Installment.objects.select_for_update().filter(invoice=invoice).order_by("sequence"))
    Installment.objects.filter(
        invoice=invoice, status__in=(InstallmentStatus.PENDING, InstallmentStatus.SENT)
    ).update(status=InstallmentStatus.CANCELLED)
    refund = amount_paid(invoice)
    invoice.status = InvoiceStatus.CANCELLED
    invoice.save(update_fields=["status"])
    if refund > ZERO:
        add_credit(
            rotation.student,
            refund,
            CreditReason.CANCELLED_ROTATION,
            note=f"Paid for the cancelled rotation starting {rotation.start}",
            rotation=rotation,
            invoice=invoice,
            by=by,
        )
