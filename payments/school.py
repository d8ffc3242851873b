"""School payers (DESIGN §5, §6, §10; issue 7 item 10).

- The student puts a card on file before approval completes the booking:
  ``require_card_and_ask_the_school`` (subscribed to "approved") refuses approval of a
  school-paid rotation with 409 while the student has no active card, else records a
  ``SchoolPayment`` awaiting the school and emails the school contact a signed
  confirm/refuse link (usdoctors.signed_links) that expires the Friday before the start.
- The school answers once (``record_school_decision``): confirmed is stored
  (``school_confirmed``); refused asks for the charge.
- Refused, or no answer by the Friday before the start (``charge_unanswered_schools``,
  a beat sweep that lapses unanswered schools in batches and hands each batch to a
  task), the card on file is charged in full with the card surcharge
  (``charge_school_payment``): the intent is written in one transaction, the gateway is
  called after it with ``PayPal-Request-Id`` ``school-charge-<invoice id>`` (a retry never
  charges twice), and the answer is written in another: payments recorded, installments
  paid, the student told — or, declined, the student and admins told, nothing paid.
  The vault token is charged as what it is, a card or a PayPal account (payments.cards).
- A capture PayPal holds (PENDING) pays nothing: the charge waits (``capturing``) until
  the webhook PAYMENT.CAPTURE.COMPLETED (``settle_capture``: the capture re-fetched,
  recorded through the same ``_record_charge``, once) or .DENIED (the decline path).
"""

from __future__ import annotations

import logging
import re
import time
from datetime import datetime, timedelta
from datetime import time as clock
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from notifications.services import notify, notify_admins
from payments import settlement
from payments.cards import active_card, gateway_name, paypal_client_for
from payments.fees import ZERO, card_fee
from payments.models import (
    CardOnFile,
    InstallmentStatus,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    LineKind,
    SchoolChargeStatus,
    SchoolDecision,
    SchoolPayment,
)
from payments.paypal import CardDeclined, PayPalError
from payments.schedule import friday_before
from rotations.choices import Payer, PaymentMethod, RotationStatus
from rotations.models import Rotation
from rotations.services import long_date, rotation_context, type_title
from usdoctors import signed_links
from usdoctors.errors import Conflict
from usdoctors.links import organization_url

logger = logging.getLogger(__name__)

# Rotations still booked: a cancelled one is neither confirmed nor charged.
BOOKED = (RotationStatus.APPROVED, RotationStatus.ON_HOLD, RotationStatus.IN_PROGRESS)
BATCH_SIZE = 2000
TIME_BUDGET_SECONDS = 60.0
# A pending charge older than this has no task on its way (the broker lost it, or
# PayPal could not be reached): the sweep hands it over again.
CHARGE_RETRY_AFTER = timedelta(minutes=10)


def link_expiry(rotation: Rotation) -> datetime:
    """The link works until the Friday before the start begins, in the site's time:
    from that Friday on, an unanswered school is charged (§6)."""
    return timezone.make_aware(datetime.combine(friday_before(rotation.start), clock.min))


def confirmation_url(rotation: Rotation) -> str:
    token = signed_links.make_token(
        rotation.organization,
        rotation.pk,
        signed_links.SCHOOL_PAYMENT,
        expires=link_expiry(rotation),
    )
    return organization_url(rotation.organization, f"/school/payment/{token}/")


def amount_owed(rotation: Rotation) -> Decimal:
    """What the school is asked to pay: the rotation invoice's unpaid installments, or
    the price and the application fee (§6) before the invoice exists."""
    invoice = rotation_invoice(rotation)
    if invoice is None:
        return rotation.total + rotation.application_fee
    return sum(
        (
            installment.amount
            for installment in invoice.installments.exclude(
                status__in=(InstallmentStatus.PAID, InstallmentStatus.CANCELLED)
            )
        ),
        ZERO,
    )


def rotation_invoice(rotation: Rotation) -> Invoice | None:
    return Invoice.objects.filter(rotation=rotation, kind=InvoiceKind.ROTATION).first()


def require_card_and_ask_the_school(rotation: Rotation, *, by) -> None:
    """Lifecycle "approved" (§6): a school-paid rotation needs the student's card on
    file before the booking completes (409 otherwise, and the approval rolls back);
    then the school contact gets its signed confirm/refuse link."""
    if rotation.payer != Payer.SCHOOL:
        return
    if active_card(rotation.student) is None:
        raise Conflict(
            "The student must put a card on file first: their school pays, and the card "
            "is charged if the school refuses. We cannot approve until they add one.",
            code="card_on_file_required",
        )
    profile = getattr(rotation.student, "profile", None)
    school_email = getattr(profile, "school_contact_email", "")
    if not school_email:
        raise Conflict(
            "The student's profile has no school contact email for the payment "
            "confirmation; they must add it before approval.",
            code="school_contact_missing",
        )
    school_payment, _created = SchoolPayment.objects.update_or_create(
        organization=rotation.organization,
        rotation=rotation,
        defaults={
            "school_email": school_email,
            "deadline": friday_before(rotation.start),
            "decision": SchoolDecision.AWAITING,
        },
    )
    _email_the_school(rotation, school_payment)


def _email_the_school(rotation: Rotation, school_payment: SchoolPayment) -> None:
    profile = getattr(rotation.student, "profile", None)
    notify(
        rotation.organization,
        school_payment.school_email,
        "school_payment_confirmation",
        {
            **rotation_context(rotation),
            "medical_school": getattr(profile, "medical_school", ""),
            "amount": f"{amount_owed(rotation):,.2f}",
            "confirm_by": long_date(school_payment.deadline),
            "confirmation_url": confirmation_url(rotation),
        },
        dedupe_key=f"school-payment-link:{rotation.pk}:{rotation.start}",
    )


def follow_the_new_start(rotation: Rotation, *, by, previous_start, reason) -> None:
    """Lifecycle "moved": a school that has not answered yet gets the new deadline (the
    Friday before the new start) and a new link; the old one keeps its own expiry."""
    school_payment = (
        SchoolPayment.objects.select_for_update()
        .filter(rotation=rotation, decision=SchoolDecision.AWAITING)
        .first()
    )
    if school_payment is None or rotation.start == previous_start:
        return
    school_payment.deadline = friday_before(rotation.start)
    school_payment.save(update_fields=["deadline"])
    _email_the_school(rotation, school_payment)


def school_confirmed(rotation: Rotation) -> bool:
    """Did the school confirm it pays for this rotation? (Readiness reads it, §5.)"""
    return SchoolPayment.objects.filter(
        rotation=rotation, decision=SchoolDecision.CONFIRMED
    ).exists()


# --- The school's answer ----------------------------------------------------------------


def read_link(token: str, organization):
    """The school-payment link and its ``SchoolPayment``, or LinkError (invalid, expired,
    used)."""
    link = signed_links.read_token(token, signed_links.SCHOOL_PAYMENT, organization)
    school_payment = (
        SchoolPayment.objects.select_related("rotation__attending", "rotation__student__user")
        .filter(rotation_id=link.rotation_id)
        .first()
    )
    if school_payment is None:
        raise signed_links.LinkError(signed_links.INVALID)
    if signed_links.is_used(link) or school_payment.decision != SchoolDecision.AWAITING:
        raise signed_links.LinkError(signed_links.USED)
    if school_payment.rotation.status not in BOOKED:
        raise signed_links.LinkError(
            signed_links.INVALID,
            "This rotation is no longer booked, so there is nothing to confirm. "
            "Nothing was changed.",
        )
    return link, school_payment


@transaction.atomic
def record_school_decision(token: str, organization, *, confirmed: bool) -> SchoolPayment:
    """The school confirms or refuses, once (§6, §10). The link is marked used in the
    same transaction; a refusal asks for the charge of the card on file, sent after
    commit. Any refusal of the link (LinkError) changes nothing."""
    link, school_payment = read_link(token, organization)
    signed_links.use_link(link)
    school_payment = SchoolPayment.objects.select_for_update().get(pk=school_payment.pk)
    if school_payment.decision != SchoolDecision.AWAITING:
        raise signed_links.LinkError(signed_links.USED)
    now = timezone.now()
    school_payment.decided_at = now
    if confirmed:
        school_payment.decision = SchoolDecision.CONFIRMED
    else:
        school_payment.decision = SchoolDecision.REFUSED
        school_payment.charge_status = SchoolChargeStatus.PENDING
        school_payment.charge_requested_at = now
    school_payment.save()
    if not confirmed:
        organization_id, pk = school_payment.organization_id, school_payment.pk
        transaction.on_commit(lambda: enqueue_charge(organization_id, pk))
    return school_payment


def enqueue_charge(organization_id: int, school_payment_id: int) -> None:
    from payments.school_tasks import charge_school_payment_task

    try:
        charge_school_payment_task.delay(organization_id, school_payment_id)
    except Exception:  # broker down: the sweep charges pending rows
        logger.warning("Could not enqueue school charge %s; the sweep will.", school_payment_id)


# --- Charging the card on file ------------------------------------------------------------


class Charge:
    """What one charge asks the gateway for, decided inside the intent transaction."""

    def __init__(self, school_payment, invoice, card, installments, amount):
        self.school_payment = school_payment
        self.invoice = invoice
        self.card = card
        self.installments = installments
        self.amount = amount

    @property
    def request_id(self) -> str:
        return f"school-charge-{self.invoice.pk}"


@transaction.atomic
def _prepare_charge(school_payment_id: int) -> Charge | None:
    """Intent: lock the row, put the surcharge on the invoice as its own line, and fix
    the amount. None when there is nothing (more) to charge."""
    school_payment = (
        SchoolPayment.objects.select_for_update()
        .select_related("rotation")
        .get(pk=school_payment_id)
    )
    if school_payment.charge_status != SchoolChargeStatus.PENDING:
        return None
    rotation = school_payment.rotation
    invoice = rotation_invoice(rotation)
    card = active_card(rotation.student)
    if invoice is None or card is None:
        logger.error(
            "School charge %s: rotation %s has %s; left pending.",
            school_payment.pk,
            rotation.pk,
            "no invoice" if invoice is None else "no active card",
        )
        return None
    installments = list(
        invoice.installments.select_for_update()
        .exclude(status__in=(InstallmentStatus.PAID, InstallmentStatus.CANCELLED))
        .order_by("sequence")
    )
    if not installments:
        school_payment.charge_status = SchoolChargeStatus.NONE
        school_payment.save(update_fields=["charge_status"])
        return None
    if school_payment.charge_amount is None:
        # One payment of everything still owed: one surcharge on it (§6), replacing the
        # per-installment fees planned for separate payments.
        owed = sum((installment.amount for installment in installments), ZERO)
        fee = card_fee(owed, rotation.organization.card_surcharge_rate)
        InvoiceLine.objects.filter(
            invoice=invoice, kind=LineKind.CARD_FEE, installment__in=installments
        ).delete()
        for installment in installments:
            installment.card_fee = ZERO
        installments[0].card_fee = fee
        for installment in installments:
            installment.save(update_fields=["card_fee"])
        if fee > 0:
            InvoiceLine.objects.create(
                organization=invoice.organization,
                invoice=invoice,
                kind=LineKind.CARD_FEE,
                label="Card fee (card on file charged: the school did not pay)",
                amount=fee,
                installment=installments[0],
            )
        school_payment.charge_amount = owed + fee
        school_payment.save(update_fields=["charge_amount"])
    return Charge(school_payment, invoice, card, installments, school_payment.charge_amount)


def _charge_card(charge: Charge) -> dict:
    """Call the gateway, outside any transaction. Returns the gateway's answer with a
    ``capture_id``, its ``capture_status`` and the ``card_id`` charged; raises
    CardDeclined or PayPalError. The vault token is charged as what it is: a card, or
    the payer's PayPal account (``CardOnFile.source``)."""
    organization = charge.invoice.organization
    if gateway_name(organization) != "paypal":
        return {
            "capture_id": f"SIM-{charge.request_id}",
            "capture_status": "COMPLETED",
            "card_id": charge.card.pk,
            "simulated": True,
        }
    order = paypal_client_for(organization).charge_vaulted_card(
        charge.request_id,
        charge.card.payment_token_id,
        charge.amount,
        organization.currency,
        f"{type_title(charge.school_payment.rotation)} rotation {charge.invoice.reference_code}",
        custom_id=charge.request_id,
        invoice_id=charge.invoice.reference_code,
        source=charge.card.source,
    )
    captures = [
        capture
        for unit in order.get("purchase_units", [])
        for capture in unit.get("payments", {}).get("captures", [])
    ]
    capture = captures[0] if captures else {}
    return {
        **dict(order),
        "capture_id": capture.get("id") or order.get("id", ""),
        "capture_status": capture.get("status") or order.get("status", ""),
        "card_id": charge.card.pk,
    }


def _lock_unsettled(charge: Charge) -> SchoolPayment | None:
    """The school payment row, locked, while its charge is still unsettled (to be
    charged, or charged and awaiting PayPal's capture): else None, and nothing is
    written. Every outcome goes through here, so a charge is settled once."""
    school_payment = SchoolPayment.objects.select_for_update().get(pk=charge.school_payment.pk)
    if school_payment.charge_status not in (
        SchoolChargeStatus.PENDING,
        SchoolChargeStatus.CAPTURING,
    ):
        return None
    return school_payment


@transaction.atomic
def _record_capturing(charge: Charge, answer: dict) -> bool:
    """PayPal took the order but holds the capture (PENDING, e.g. under review): nothing
    is paid yet. PAYMENT.CAPTURE.COMPLETED or .DENIED settles it (``settle_capture``);
    the sweep does not charge it again."""
    school_payment = _lock_unsettled(charge)
    if school_payment is None:
        return False
    school_payment.charge_status = SchoolChargeStatus.CAPTURING
    school_payment.charge_answer = answer
    school_payment.save(update_fields=["charge_status", "charge_answer"])
    return True


@transaction.atomic
def _record_charge(charge: Charge, answer: dict) -> bool:
    """Write a completed capture: a payment per installment (the surcharge on the
    first), each installment paid, the invoice paid, the student told. Whether the
    answer came from the charge itself or from PayPal's capture webhook."""
    school_payment = _lock_unsettled(charge)
    if school_payment is None:
        return False
    now = timezone.now()
    today = timezone.localdate()
    capture_id = answer.get("capture_id", "")
    for number, installment in enumerate(charge.installments):
        # The first payment carries the capture id; the others point at it.
        installment.refresh_from_db(fields=["card_fee"])
        settlement.mark_installment_paid(
            installment,
            amount=installment.amount + installment.card_fee,
            method=PaymentMethod.PAYPAL,
            received_on=today,
            reference="Card on file (the school did not pay)",
            gateway_payment_id=capture_id
            if number == 0
            else f"{capture_id}-{installment.sequence}",
            gateway_answer={"request_id": charge.request_id},
        )
    school_payment.charge_status = SchoolChargeStatus.CHARGED
    school_payment.charged_at = now
    school_payment.charge_answer = answer
    school_payment.save(update_fields=["charge_status", "charged_at", "charge_answer"])
    rotation = school_payment.rotation
    notify(
        rotation.organization,
        rotation.student.user.email,
        "school_refused_card_charged",
        {
            **rotation_context(rotation),
            "reason": _reason(school_payment),
            "amount": f"{school_payment.charge_amount:,.2f}",
            "card": charge.card.description,
        },
        dedupe_key=f"school-charge:{school_payment.pk}",
    )
    return True


def _reason(school_payment: SchoolPayment) -> str:
    if school_payment.decision == SchoolDecision.REFUSED:
        return "Your school declined to pay for this rotation"
    return "Your school did not confirm payment by the Friday before the start"


@transaction.atomic
def _record_decline(charge: Charge, error: PayPalError) -> None:
    school_payment = _lock_unsettled(charge)
    if school_payment is None:
        return
    held_capture = charge_capture_id(school_payment)  # a PENDING capture PayPal denied
    school_payment.charge_status = SchoolChargeStatus.DECLINED
    school_payment.charge_answer = {
        **({"capture_id": held_capture} if held_capture else {}),
        "error": error.name,
        "message": error.message,
        "debug_id": error.debug_id,
        "issues": error.issues,
    }
    school_payment.save(update_fields=["charge_status", "charge_answer"])
    rotation = school_payment.rotation
    context = {
        **rotation_context(rotation),
        "reason": _reason(school_payment),
        "amount": f"{school_payment.charge_amount:,.2f}",
        "card": charge.card.description,
    }
    notify(
        rotation.organization,
        rotation.student.user.email,
        "school_charge_declined",
        context,
        dedupe_key=f"school-charge-declined:{school_payment.pk}",
    )
    notify_admins(
        rotation.organization,
        "school_charge_declined_admin",
        context,
        dedupe_key=f"school-charge-declined:{school_payment.pk}",
    )


def charge_capture_id(school_payment: SchoolPayment) -> str:
    return str((school_payment.charge_answer or {}).get("capture_id") or "")


def charge_school_payment(school_payment_id: int) -> str:
    """Charge the card on file for a refused or unanswered school payment, once (§6).
    Runs inside the organization's scope and outside any transaction. Returns what
    happened: charged; capturing (PayPal holds the capture PENDING: nothing is paid
    until its webhook says COMPLETED); declined; skipped; or retry (PayPal unreachable
    or failing: the row stays pending and the next sweep tries again with the same
    request id)."""
    charge = _prepare_charge(school_payment_id)
    if charge is None:
        return "skipped"
    try:
        answer = _charge_card(charge)
    except CardDeclined as error:
        _record_decline(charge, error)
        return "declined"
    except PayPalError:
        logger.exception("School charge %s failed; it stays pending.", school_payment_id)
        return "retry"
    if answer.get("capture_status") == "PENDING":
        return "capturing" if _record_capturing(charge, answer) else "skipped"
    return "charged" if _record_charge(charge, answer) else "skipped"


# --- PayPal settles a held capture (PAYMENT.CAPTURE.COMPLETED / .DENIED) -------------------

CHARGE_REQUEST_ID = re.compile(r"^school-charge-(\d+)$")
CAPTURE_DENIED = frozenset({"DECLINED", "FAILED", "DENIED"})


class CaptureNotOurs(Exception):
    """The capture event changes nothing here (said why): not one of this
    organization's charges, not awaiting a capture, or PayPal still holds it."""


def _awaiting_capture(custom_id: str, capture_id: str) -> SchoolPayment:
    """Our charge for this capture: ``custom_id`` is its request id, looked up within the
    current organization only; its stored capture id must be this one."""
    match = CHARGE_REQUEST_ID.match(custom_id or "")
    school_payment = (
        SchoolPayment.objects.select_related("rotation")
        .filter(
            rotation__invoices__pk=int(match.group(1)),
            rotation__invoices__kind=InvoiceKind.ROTATION,
        )
        .first()
        if match
        else None
    )
    if school_payment is None:
        raise CaptureNotOurs(f"Capture {capture_id} is not one of this organization's charges.")
    if charge_capture_id(school_payment) != capture_id:
        raise CaptureNotOurs(f"Capture {capture_id} is not the one this charge is waiting for.")
    if school_payment.charge_status != SchoolChargeStatus.CAPTURING:
        raise CaptureNotOurs(
            f"School charge {school_payment.pk} is {school_payment.charge_status}: "
            "recorded already."
        )
    return school_payment


def _awaiting_charge(school_payment: SchoolPayment) -> Charge:
    """The charge as it was sent: the card charged, the installments still open, the
    amount fixed in the intent."""
    invoice = rotation_invoice(school_payment.rotation)
    card = (
        CardOnFile.objects.filter(pk=school_payment.charge_answer.get("card_id")).first()
        or active_card(school_payment.rotation.student)
        or CardOnFile(brand="Card")
    )
    installments = list(
        invoice.installments.exclude(
            status__in=(InstallmentStatus.PAID, InstallmentStatus.CANCELLED)
        ).order_by("sequence")
    )
    return Charge(school_payment, invoice, card, installments, school_payment.charge_amount)


def settle_capture(capture_id: str, custom_id: str) -> str:
    """A webhook said PayPal settled a capture it held (§6; payments.webhooks). Inside the
    organization's scope, outside any transaction. The event is a trigger: the capture is
    fetched from PayPal and its status decides — COMPLETED records the payment through
    the same ``_record_charge`` as a charge completed at once (so it is paid once, however
    often PayPal tells us), DECLINED/FAILED takes the decline path. Raises CaptureNotOurs
    when nothing changes; PayPalError when PayPal cannot be asked (deliver again)."""
    school_payment = _awaiting_capture(custom_id, capture_id)
    try:
        capture = paypal_client_for(school_payment.organization).get_capture(capture_id)
    except PayPalError as error:
        if error.status in (403, 404):
            raise CaptureNotOurs(f"PayPal does not know capture {capture_id}.") from error
        raise
    status = str(capture.get("status") or "")
    if capture.get("id") != capture_id or capture.get("custom_id") != custom_id:
        raise CaptureNotOurs("PayPal answered another capture.")
    charge = _awaiting_charge(school_payment)
    if status == "COMPLETED":
        answer = {
            **school_payment.charge_answer,
            "capture_status": status,
            "capture": dict(capture),
        }
        if not _record_charge(charge, answer):
            raise CaptureNotOurs(f"School charge {school_payment.pk} was recorded already.")
        return f"School charge {school_payment.pk} captured ({school_payment.charge_amount})."
    if status in CAPTURE_DENIED:
        reason = (capture.get("status_details") or {}).get("reason", "")
        _record_decline(
            charge,
            CardDeclined(
                capture.status_code,
                "CAPTURE_DENIED",
                f"PayPal denied the held capture{f' ({reason})' if reason else ''}.",
                capture.debug_id,
                body=dict(capture),
            ),
        )
        return f"School charge {school_payment.pk} declined: PayPal denied the capture."
    raise CaptureNotOurs(f"PayPal says capture {capture_id} is {status or 'unknown'}.")


def charge_school_payments(school_payment_ids: list[int]) -> dict[str, int]:
    """Charge a batch handed over by the sweep, one after another (inside the
    organization's scope, outside any transaction): what ``charge_school_payment`` does
    for each, counted by outcome. One row's error never stops the others: it is logged,
    the row stays pending and the next sweep hands it over again."""
    counts = dict.fromkeys(("charged", "capturing", "declined", "skipped", "retry", "failed"), 0)
    for school_payment_id in school_payment_ids:
        try:
            counts[charge_school_payment(school_payment_id)] += 1
        except Exception:
            logger.exception("School charge %s failed; it stays pending.", school_payment_id)
            counts["failed"] += 1
    return counts


def enqueue_charges(organization_id: int, school_payment_ids: list[int]) -> None:
    """One task for a batch of the sweep (after its commit); a broker outage is logged,
    and a later sweep hands the batch over again (``CHARGE_RETRY_AFTER``)."""
    from payments.school_tasks import charge_school_payments_task

    try:
        charge_school_payments_task.delay(organization_id, school_payment_ids)
    except Exception:
        logger.warning(
            "Could not enqueue %s school charges; a later sweep will.", len(school_payment_ids)
        )


def charge_unanswered_schools(
    organization,
    *,
    today=None,
    batch_size: int = BATCH_SIZE,
    time_budget: float = TIME_BUDGET_SECONDS,
) -> dict[str, int]:
    """Sweep (§6, §9): from the Friday before the start, a school that has not answered
    is taken as refusing, and the card on file is to be charged. Inside the
    organization's scope; returns ``{"lapsed": n, "handed_over": n}``.

    A set-based sweep (STYLE §6). First each batch of unanswered schools past their
    deadline is locked (``FOR UPDATE SKIP LOCKED``: a school answering right now keeps
    its answer) and marked lapsed with its charge pending in one UPDATE — the intent —
    and after commit one task charges the batch (``charge_school_payments``). Then the
    charges still pending ``CHARGE_RETRY_AFTER`` after they were asked for (a refusal or
    a batch whose task never ran, PayPal unreachable) are handed over again, one query
    and one task per batch. Batches repeat until none is left or the time budget is
    spent. The gateway is called only in the task, outside any transaction; a row is
    charged only while pending and PayPal sees the same request id on a retry, so a row
    handed over twice is charged once."""
    today = today or timezone.localdate()
    deadline = time.monotonic() + time_budget
    counts = {"lapsed": 0, "handed_over": 0}
    while time.monotonic() < deadline:
        lapsed = _lapse_batch(organization, today, batch_size)
        counts["lapsed"] += lapsed
        counts["handed_over"] += lapsed
        if lapsed < batch_size:
            break
    asked_before = timezone.now() - CHARGE_RETRY_AFTER
    after = 0
    while time.monotonic() < deadline:
        batch = list(
            SchoolPayment.objects.filter(
                Q(charge_requested_at__isnull=True) | Q(charge_requested_at__lt=asked_before),
                organization=organization,
                charge_status=SchoolChargeStatus.PENDING,
                rotation__status__in=BOOKED,
                pk__gt=after,
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if batch:
            enqueue_charges(organization.pk, batch)
            counts["handed_over"] += len(batch)
            after = batch[-1]
        if len(batch) < batch_size:
            break
    return counts


@transaction.atomic
def _lapse_batch(organization, today, batch_size: int) -> int:
    due = list(
        SchoolPayment.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(
            organization=organization,
            decision=SchoolDecision.AWAITING,
            deadline__lte=today,
            rotation__status__in=BOOKED,
        )
        .order_by("deadline", "pk")
        .values_list("pk", flat=True)[:batch_size]
    )
    if not due:
        return 0
    now = timezone.now()
    SchoolPayment.objects.filter(pk__in=due).update(
        decision=SchoolDecision.LAPSED,
        charge_status=SchoolChargeStatus.PENDING,
        charge_requested_at=now,
        decided_at=now,
    )
    organization_id = organization.pk
    transaction.on_commit(lambda: enqueue_charges(organization_id, due))
    return len(due)
