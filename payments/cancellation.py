"""What a cancelled rotation does to its money (DESIGN §5, §6, §15): nothing more is
asked for, and what was paid goes where the cancellation's cause says
(payments.refunds: the organization's schedule for the student's own cancellation —
by default credit towards the next rotation — or a full refund to where it came from
when the attending cancels, does not show up, or the visa is refused).

``credit_cancelled_rotation`` is the ``cancelled`` lifecycle subscriber
(PaymentsConfig.ready()), inside the cancellation's transaction. A date change the
attending cannot accommodate ends in this same cancellation (§5), so it is the one path
that turns payments into credit; ``moved`` keeps the invoice and its installments as
they are.

Unpaid installments already sent to the gateway are withdrawn there too, after commit
and outside any transaction (§6): ``payments.tasks.cancel_installment_invoice`` calls
``cancel_at_gateway`` for each, which is idempotent and stores the gateway's answer.
"""

from __future__ import annotations

import logging
from functools import partial

from django.db import transaction
from django.utils import timezone

from payments.gateways import gateway_for
from payments.models import (
    Installment,
    InstallmentStatus,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
)
from payments.paypal import PayPalError
from payments.refunds import settle_cancellation
from rotations.models import Rotation

logger = logging.getLogger(__name__)

# What PayPal answers when asked to cancel an invoice that is cancelled already.
ALREADY_CANCELLED = "INVOICE_CANCELED_ALREADY"


def credit_cancelled_rotation(rotation: Rotation, *, by, reason: str) -> None:
    """Lifecycle ``cancelled`` handler (§6).

    The rotation invoice is locked (then its installments, then the credit account —
    payments.credits' lock order). Its open installments are cancelled — one with a
    gateway invoice keeps its ``gateway_invoice_id``, which is the gateway task's cue to
    cancel it at the gateway after commit — and the invoice is cancelled. Where what
    was paid goes is ``payments.refunds.settle_cancellation``, by the rotation's
    cancellation cause (§15).
    """
    invoice = (
        Invoice.objects.select_for_update()
        .filter(rotation=rotation, kind=InvoiceKind.ROTATION)
        .first()
    )
    if invoice is None or invoice.status == InvoiceStatus.CANCELLED:
        return
    installments = list(
        Installment.objects.select_for_update().filter(invoice=invoice).order_by("sequence")
    )
    open_statuses = (InstallmentStatus.PENDING, InstallmentStatus.SENT)
    Installment.objects.filter(invoice=invoice, status__in=open_statuses).update(
        status=InstallmentStatus.CANCELLED
    )
    for installment in installments:
        if installment.status in open_statuses and installment.gateway_invoice_id:
            enqueue_gateway_cancellation(installment)
    invoice.status = InvoiceStatus.CANCELLED
    invoice.save(update_fields=["status"])
    settle_cancellation(rotation, invoice, by=by)


def enqueue_gateway_cancellation(installment: Installment) -> None:
    """After commit, withdraw the installment's invoice at the gateway (a rollback
    withdraws nothing)."""
    from payments.tasks import enqueue_cancel_installment_invoice

    transaction.on_commit(
        partial(enqueue_cancel_installment_invoice, installment.organization_id, installment.pk)
    )


def cancel_at_gateway(installment_id: int) -> str:
    """Withdraw a cancelled installment's invoice at its gateway (inside its scope, never
    inside a transaction: §6). Idempotent: skipped unless the installment is cancelled,
    has a gateway invoice and no stored cancellation answer; PayPal saying the invoice
    is cancelled already counts as done. Raises the gateway's other errors (the task
    retries)."""
    installment = (
        Installment.objects.select_related("organization").filter(pk=installment_id).first()
    )
    if (
        installment is None
        or installment.status != InstallmentStatus.CANCELLED
        or not installment.gateway_invoice_id
        or "cancellation" in installment.gateway_answer
    ):
        return "skipped"
    gateway = gateway_for(installment.organization)
    try:
        answer = gateway.cancel(installment)  # no transaction, no lock (§6)
    except PayPalError as error:
        if not _already_cancelled(error):
            logger.warning(
                "Cancelling installment %s at %s failed: %s", installment.pk, gateway.name, error
            )
            raise
        answer = {"gateway": gateway.name, "unchanged": True, "already_cancelled": True}
    return _store_cancellation(installment.pk, answer)


def _already_cancelled(error: PayPalError) -> bool:
    """PayPal's 422 names the reason in ``details[].issue`` (``name`` is the generic
    UNPROCESSABLE_ENTITY)."""
    issues = {d.get("issue") for d in error.details if isinstance(d, dict)}
    return ALREADY_CANCELLED in issues | {error.name}


@transaction.atomic
def _store_cancellation(installment_id: int, answer: dict) -> str:
    locked = Installment.objects.select_for_update().get(pk=installment_id)
    if "cancellation" in locked.gateway_answer:
        return "skipped"
    locked.gateway_answer = {
        **locked.gateway_answer,
        "cancellation": {**answer, "at": timezone.now().isoformat()},
    }
    locked.save(update_fields=["gateway_answer"])
    return "cancelled"
