"""Where the money of a cancelled rotation goes (DESIGN §5, §15 "refund protection").

``settle_cancellation`` runs inside the cancellation's transaction (the ``cancelled``
subscriber, payments.cancellation, after the open installments are cancelled). The
rotation's cause (rotations.choices.CancellationCause) decides:

- **Refund protection** — the attending cancelled, did not show up in the first week,
  or the student's visa was refused: everything paid for the rotation, card fees
  **and the non-refundable application fee** included, goes back where it came from.
  §15 says "everything paid": the application fee is non-refundable against the
  student's own change of mind, not against the organization's side failing them, so
  under refund protection it is refunded like the rest. Each PayPal payment is
  refunded in full through the gateway (one ``Refund`` per payment); Zelle and wire
  payments become one payout task per method that an admin completes with the
  transfer's reference; credit the invoice used goes back to credit.
- **The student's own cancellation** follows the organization's published schedule
  (payments.cancellation_schedule; default: everything paid towards the price becomes
  credit, §5): ``refund_percent`` of each payment's share goes back to its source and of
  the credit used back to credit, ``credit_percent`` of the whole becomes credit. Card
  fees stay with the card network, and the application fee (the first installment's
  ``application_fee``, §6) is never part of a payment's share: it is neither refunded
  nor credited, whatever the schedule says.

Nothing slow happens here: the ``Refund`` rows are the intent, and ``refund_at_gateway``
(the ``payments.tasks.send_refund`` task, after commit, outside any transaction) asks
the gateway with ``PayPal-Request-Id`` = ``refund-<id>``. It is idempotent: a refund not
pending is skipped, and a retried call gets PayPal's first answer. A second cancellation
finds the rotation cancelled (409) and the invoice cancelled, and refunds nothing more;
the unique constraints (one refund per payment, one payout per invoice and method) hold
even if it got this far.

The student is emailed (``rotation_refund``) and the rotation page shows (payments.
refund_pages) what comes back, how and by when: card refunds within
``GATEWAY_REFUND_DAYS`` days, Zelle or wire payouts within ``PAYOUT_DAYS`` days, credit
at once.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal
from functools import partial

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership
from notifications.services import notify
from payments.cancellation_schedule import schedule_for, tier_for
from payments.credits import add_credit
from payments.fees import ZERO
from payments.gateways import gateway_for
from payments.models import CreditReason, Invoice, LineKind, Payment
from payments.paypal import PayPalError
from payments.refund_models import Refund, RefundStatus
from rotations.choices import REFUND_PROTECTED_CAUSES, CancellationCause, PaymentMethod
from rotations.models import Rotation
from usdoctors.errors import Conflict, Invalid, NotAllowed
from usdoctors.links import organization_url
from usdoctors.money import to_cents

logger = logging.getLogger(__name__)

GATEWAY_REFUND_DAYS = 5  # PayPal returns a card or PayPal payment within a few days
PAYOUT_DAYS = 7  # an admin sends a Zelle or wire payout within a week
HUNDRED = Decimal(100)


def _percent(amount: Decimal, percent: int) -> Decimal:
    return to_cents(amount * Decimal(percent) / HUNDRED)


def credit_used(invoice: Invoice) -> Decimal:
    """The credit ``invoice`` used (its negative ``credit`` lines), as a positive amount."""
    return -sum((line.amount for line in invoice.lines.all() if line.kind == LineKind.CREDIT), ZERO)


def settle_cancellation(rotation: Rotation, invoice: Invoice, *, by: Membership | None) -> None:
    """Decide and record where the money paid towards ``invoice`` goes (module
    docstring), inside the cancellation's transaction with the invoice locked."""
    cause = rotation.cancellation_cause or CancellationCause.STUDENT
    payments = list(
        Payment.objects.filter(installment__invoice=invoice).select_related("installment")
    )
    used = credit_used(invoice)
    today = timezone.localdate()
    refunds: list[Refund] = []
    credit = ZERO
    kept = ZERO
    if cause in REFUND_PROTECTED_CAUSES:
        for payment in payments:
            fee = min(payment.installment.card_fee, payment.amount)
            refunds.append(_refund_for(rotation, invoice, cause, payment, payment.amount, fee))
        credit = used
        credit_note = "Credit used on the cancelled rotation, given back"
    else:
        tier = tier_for(schedule_for(rotation.organization), rotation.start, today)
        shares = ZERO
        for payment in payments:
            installment = payment.installment
            # Non-refundable (§6): the application fee is not part of the share.
            share = max(payment.amount - installment.card_fee - installment.application_fee, ZERO)
            shares += share
            back = _percent(share, tier.refund_percent)
            if back > ZERO:
                refunds.append(_refund_for(rotation, invoice, cause, payment, back, ZERO))
        credit = _percent(shares + used, tier.credit_percent) + _percent(used, tier.refund_percent)
        kept = shares + used - credit - sum((r.amount for r in refunds), ZERO)
        credit_note = f"Paid for the cancelled rotation starting {rotation.start}"
    saved = _save(refunds, today)
    if credit > ZERO:
        add_credit(
            rotation.student,
            credit,
            CreditReason.CANCELLED_ROTATION,
            note=credit_note,
            rotation=rotation,
            invoice=invoice,
            by=by,
        )
    for refund in saved:
        if not refund.is_payout:
            transaction.on_commit(partial(_enqueue, refund.organization_id, refund.pk))
    if saved or credit > ZERO or kept > ZERO:
        _tell_the_student(rotation, saved, credit, kept)


def _refund_for(rotation, invoice, cause, payment: Payment, amount, fee) -> Refund:
    return Refund(
        organization_id=rotation.organization_id,
        rotation=rotation,
        invoice=invoice,
        student_id=invoice.student_id,
        cause=cause,
        method=payment.method,
        payment=payment,
        amount=amount,
        card_fee=fee,
    )


def _save(refunds: list[Refund], today) -> list[Refund]:
    """Gateway refunds one per payment; Zelle and wire payments merged into one payout
    task per method. Rows that exist already (a repeated attempt) are not written again."""
    payouts: dict[str, Refund] = {}
    rows = []
    for refund in refunds:
        if refund.method == PaymentMethod.PAYPAL:
            refund.expected_by = today + timedelta(days=GATEWAY_REFUND_DAYS)
            rows.append(refund)
            continue
        payout = payouts.get(refund.method)
        if payout is None:
            refund.payment = None
            refund.expected_by = today + timedelta(days=PAYOUT_DAYS)
            payouts[refund.method] = refund
            rows.append(refund)
        else:
            payout.amount += refund.amount
            payout.card_fee += refund.card_fee
    saved = []
    for row in rows:
        exists = Refund.objects.filter(
            invoice=row.invoice, payment=row.payment, method=row.method
        ).exists()
        if not exists:
            row.save()
            saved.append(row)
    return saved


def _enqueue(organization_id: int, refund_id: int) -> None:
    from payments.tasks import enqueue_send_refund

    enqueue_send_refund(organization_id, refund_id)


def _how(refund: Refund) -> str:
    if refund.is_payout:
        return f"by {refund.get_method_display()} from our team"
    return "to the card or PayPal account you paid with"


def _tell_the_student(rotation: Rotation, refunds: list[Refund], credit, kept) -> None:
    lines = [
        f"${refund.amount:,.2f} {_how(refund)}"
        + (f" (card fees of ${refund.card_fee:,.2f} included)" if refund.card_fee else "")
        + f", by {refund.expected_by:%B} {refund.expected_by.day}, {refund.expected_by.year}"
        for refund in refunds
    ]
    if credit > ZERO:
        lines.append(f"${credit:,.2f} as credit toward your next rotation, available now")
    notify(
        rotation.organization,
        rotation.student.user.email,
        "rotation_refund",
        {
            "student_name": rotation.student.display_name,
            "cause": rotation.get_cancellation_cause_display(),
            "start": f"{rotation.start:%B} {rotation.start.day}, {rotation.start.year}",
            "lines": lines,
            "kept": f"{kept:,.2f}" if kept > ZERO else "",
            "rotation_url": organization_url(rotation.organization, f"/rotations/{rotation.pk}/"),
        },
        dedupe_key=f"rotation-refund:{rotation.pk}",
    )


# --- After commit: the gateway ------------------------------------------------------------


def refund_at_gateway(refund_id: int) -> str:
    """Send one gateway refund (inside its organization's scope, never inside a
    transaction: §6). Idempotent: skipped unless it is a pending card refund; the call
    carries PayPal-Request-Id ``refund-<id>``, so a retry after a lost answer gets
    PayPal's first refund back, not a second one. A capture PayPal says is refunded in
    full already counts as done. Other gateway errors are stored and raised (the task
    retries)."""
    refund = (
        Refund.objects.select_related("payment", "invoice", "organization")
        .filter(pk=refund_id)
        .first()
    )
    if refund is None or refund.is_payout or refund.status != RefundStatus.PENDING:
        return "skipped"
    gateway = gateway_for(refund.organization)
    try:
        answer = gateway.refund(refund)  # no transaction, no lock (§6)
    except PayPalError as error:
        if "CAPTURE_FULLY_REFUNDED" in error.issues:
            answer = {"gateway": gateway.name, "status": "COMPLETED", "already_refunded": True}
        else:
            Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
                gateway_answer={"error": str(error), "body": error.body}
            )
            logger.warning("Refund %s at %s failed: %s", refund.pk, gateway.name, error)
            raise
    return _store_answer(refund.pk, answer)


@transaction.atomic
def _store_answer(refund_id: int, answer: dict) -> str:
    refund = Refund.objects.select_for_update().get(pk=refund_id)
    if refund.status != RefundStatus.PENDING:
        return "skipped"
    status = str(answer.get("status") or "").upper()
    refund.status = {
        "COMPLETED": RefundStatus.COMPLETED,
        "PENDING": RefundStatus.PROCESSING,
    }.get(status, RefundStatus.FAILED)
    refund.gateway_refund_id = str(answer.get("refund_id") or "")[:64]
    refund.gateway_answer = answer
    if refund.status == RefundStatus.COMPLETED:
        refund.completed_at = timezone.now()
    refund.save(update_fields=["status", "gateway_refund_id", "gateway_answer", "completed_at"])
    return refund.status


# --- Payout tasks (Zelle, wire) -------------------------------------------------------------


def open_payouts():
    """Payout tasks still to be sent, oldest first (the admins' refunds page)."""
    return (
        Refund.objects.filter(payment__isnull=True, status=RefundStatus.PENDING)
        .select_related("student__user", "student__profile", "invoice", "rotation")
        .order_by("created_at", "pk")
    )


@transaction.atomic
def complete_payout(refund: Refund, *, by: Membership, reference: str) -> tuple[Refund, bool]:
    """An admin records that a Zelle or wire payout was sent (§15), with the transfer's
    reference. Admins only (403); the reference is required (400); a card refund is the
    gateway's (409). Idempotent: completing it again with the same reference answers the
    refund unchanged (``changed`` False); with another reference it is refused (409).
    The student is emailed once."""
    if not by.is_admin:
        raise NotAllowed("Only this organization's admins can complete payouts.", code="not_admin")
    reference = (reference or "").strip()
    if not reference:
        raise Invalid(
            "Enter the Zelle or wire reference of the payout.",
            code="reference_required",
            field="reference",
        )
    refund = Refund.objects.select_for_update().get(pk=refund.pk)
    if not refund.is_payout:
        raise Conflict(
            "This refund goes back through PayPal; it completes when PayPal confirms it.",
            code="refund_by_gateway",
        )
    if refund.status == RefundStatus.COMPLETED:
        if refund.reference == reference:
            return refund, False
        raise Conflict(
            f"This payout was completed already with reference {refund.reference}.",
            code="payout_completed",
        )
    refund.status = RefundStatus.COMPLETED
    refund.reference = reference[:100]
    refund.completed_by = by
    refund.completed_at = timezone.now()
    refund.save(update_fields=["status", "reference", "completed_by", "completed_at"])
    student = refund.student
    notify(
        refund.organization,
        student.user.email,
        "refund_sent",
        {
            "student_name": student.display_name,
            "amount": f"{refund.amount:,.2f}",
            "method": refund.get_method_display(),
            "reference": refund.reference,
            "rotation_url": organization_url(
                refund.organization, f"/rotations/{refund.rotation_id}/"
            ),
        },
        dedupe_key=f"refund-sent:{refund.pk}",
    )
    return refund, True
