"""Sending installments to the gateway (DESIGN §6): after commit, never under a lock.

The approval transaction only writes the installment (``pending``); a task calls
``send_installment`` after commit. The gateway is called outside any transaction, with
``PayPal-Request-Id`` = our row, so a retry answers the same invoice instead of making
a second one; then a short transaction stores the gateway's invoice id, the status
``sent`` and what it answered. A failure stores the gateway's error body on the
installment and raises, so Celery retries with backoff; the due-installment sweep
(``enqueue_due_installments``) hands whatever is still pending on its due date to a
task, a batch at a time (``send_installments``).
"""

from __future__ import annotations

import logging
import time
from datetime import date

from django.db import transaction
from django.utils import timezone

from notifications.services import notify
from payments.gateways import SentInvoice, gateway_for
from payments.models import Installment, InstallmentStatus, Invoice, InvoiceKind, InvoiceStatus
from payments.paypal import PayPalError
from rotations.choices import Payer, PaymentMethod

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
TIME_BUDGET_SECONDS = 60.0


def paid_by_the_school(invoice: Invoice) -> bool:
    """A school pays the rotation itself through its confirmation link and the card on
    file (payments.school); what the student buys on top, such as the immigration
    letter, is always the student's own purchase, invoiced to the student."""
    return invoice.kind == InvoiceKind.ROTATION and invoice.rotation.payer == Payer.SCHOOL


def sendable(installment: Installment) -> bool:
    """Pending, paid by card by the student (not ``paid_by_the_school``), on an invoice
    that is still owed."""
    invoice = installment.invoice
    return (
        installment.status == InstallmentStatus.PENDING
        and invoice.payment_method == PaymentMethod.PAYPAL
        and not paid_by_the_school(invoice)
        and invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.ISSUED)
    )


def send_installment(installment_id: int) -> str:
    """Ask the organization's gateway to invoice one installment (inside its scope).

    Answers what happened: ``sent``, or ``skipped`` when the installment is not pending,
    not paid by card, or gone. Raises the gateway's error after storing it."""
    installment = (
        Installment.objects.select_related(
            "invoice__student__user", "invoice__rotation", "organization"
        )
        .filter(pk=installment_id)
        .first()
    )
    if installment is None or not sendable(installment):
        return "skipped"
    gateway = gateway_for(installment.organization)
    try:
        sent = gateway.request_payment(installment)  # no transaction, no lock (§6)
    except PayPalError as error:
        _store_error(installment, gateway.name, error)
        raise
    return _store_sent(installment, sent)


def _store_error(installment: Installment, gateway_name: str, error: PayPalError) -> None:
    answer = {
        "gateway": gateway_name,
        "error": {
            "status": error.status,
            "name": error.name,
            "message": error.message,
            "debug_id": error.debug_id,
            "body": error.body,
        },
        "failed_at": timezone.now().isoformat(),
        "previous": {k: v for k, v in installment.gateway_answer.items() if k != "previous"},
    }
    logger.warning("Sending installment %s failed: %s", installment.pk, error)
    # Only while still pending: never overwrite what a sent or paid installment answered.
    Installment.objects.filter(pk=installment.pk, status=InstallmentStatus.PENDING).update(
        gateway_answer=answer
    )


@transaction.atomic
def _store_sent(installment: Installment, sent: SentInvoice) -> str:
    locked = Installment.objects.select_for_update().get(pk=installment.pk)
    if locked.status != InstallmentStatus.PENDING:
        # Cancelled or paid while we were asking: keep its status, remember the invoice.
        logger.warning(
            "Installment %s became %s while its invoice %s was sent.",
            locked.pk,
            locked.status,
            sent.invoice_id,
        )
        if not locked.gateway_invoice_id:
            locked.gateway_invoice_id = sent.invoice_id
            locked.gateway_answer = sent.answer
            locked.save(update_fields=["gateway_invoice_id", "gateway_answer"])
            if locked.status == InstallmentStatus.CANCELLED:
                from payments.cancellation import enqueue_gateway_cancellation

                enqueue_gateway_cancellation(locked)  # withdraw what we just sent
        return "skipped"
    locked.gateway_invoice_id = sent.invoice_id
    locked.gateway_answer = sent.answer
    locked.status = InstallmentStatus.SENT
    locked.save(update_fields=["gateway_invoice_id", "gateway_answer", "status"])
    Invoice.objects.filter(pk=locked.invoice_id, status=InvoiceStatus.DRAFT).update(
        status=InvoiceStatus.ISSUED, issued_at=timezone.now()
    )
    if sent.we_email_the_payer:
        notify(
            locked.organization,
            installment.invoice.student.user.email,
            "installment_invoice",
            {
                "student_name": installment.invoice.student.display_name,
                "description": _description(installment),
                "amount": f"{installment.amount:.2f}",
                "application_fee": (
                    f"{installment.application_fee:.2f}" if installment.application_fee else ""
                ),
                "card_fee": f"{installment.card_fee:.2f}",
                "total": f"{installment.charged:.2f}",
                "due_on": installment.due_on.isoformat(),
                "reference_code": installment.invoice.reference_code,
                "pay_url": sent.payer_url,
            },
            dedupe_key=f"installment-invoice:{installment.pk}",
        )
    return "sent"


def _description(installment: Installment) -> str:
    from payments.gateways import installment_description

    return installment_description(installment)


def send_installments(installment_ids: list[int]) -> dict[str, int]:
    """Send a batch of installments one after another (inside their organization's
    scope), for the due-installment sweep: what ``send_installment`` does for each,
    counted. One installment's failure never stops the others: a gateway error is
    stored on it by ``send_installment`` and, like any other error, logged; it stays
    pending and the next sweep hands it over again."""
    counts = {"sent": 0, "skipped": 0, "failed": 0}
    for installment_id in installment_ids:
        try:
            counts[send_installment(installment_id)] += 1
        except PayPalError:
            counts["failed"] += 1  # stored on the installment and logged already
        except Exception:
            logger.exception("Sending installment %s failed; the sweep retries it.", installment_id)
            counts["failed"] += 1
    return counts


def pending_due_installments(
    organization, *, today: date | None = None, after: int = 0, limit: int = BATCH_SIZE
) -> list[int]:
    """Ids of card installments the student pays (not ``paid_by_the_school``) still
    pending on or after their due date, in id order after the id ``after``: one query
    per batch of the sweep (``enqueue_due_installments``)."""
    today = today or timezone.localdate()
    return list(
        Installment.objects.filter(
            organization=organization,
            status=InstallmentStatus.PENDING,
            due_on__lte=today,
            invoice__payment_method=PaymentMethod.PAYPAL,
            invoice__status__in=[InvoiceStatus.DRAFT, InvoiceStatus.ISSUED],
            pk__gt=after,
        )
        .exclude(invoice__kind=InvoiceKind.ROTATION, invoice__rotation__payer=Payer.SCHOOL)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def enqueue_due_installments(
    organization,
    *,
    today: date | None = None,
    batch_size: int = BATCH_SIZE,
    time_budget: float = TIME_BUDGET_SECONDS,
) -> int:
    """Hand every card installment still pending on its due date (later installments of
    a plan, and sends whose retries ran out) to the gateway task, inside the
    organization's scope. Returns how many were handed over.

    A set-based sweep (STYLE §6): it writes nothing, so it locks nothing; it walks the
    due installments in id order, one query and one task (``send_installments``) per
    batch, until none is left or the time budget is spent. The gateway is called in
    the task, never here. Handing an installment over twice is harmless: the task
    skips one no longer pending, and the gateway sees the same PayPal-Request-Id."""
    from payments.tasks import enqueue_send_installments

    today = today or timezone.localdate()
    deadline = time.monotonic() + time_budget
    handed_over, after = 0, 0
    while time.monotonic() < deadline:
        batch = pending_due_installments(organization, today=today, after=after, limit=batch_size)
        if batch:
            enqueue_send_installments(organization.pk, batch)
            handed_over += len(batch)
            after = batch[-1]
        if len(batch) < batch_size:
            break
    return handed_over
