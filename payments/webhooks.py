"""Gateway webhooks (DESIGN §6 and issue 7 item 8): verified, idempotent, a trigger only.

One function, ``process_webhook``, for every gateway: PayPal's deliveries reach it
through ``POST /api/v1/payments/paypal/webhook`` on the organization's own host, the
simulated gateway's through its pay page (payments.simulated). The rules, in order:

1. **Verify** the delivery with the receiving organization's gateway (PayPal: that
   organization's webhook id, over the raw body). A failure answers 400 and stores
   nothing (it is logged): a forged event must not claim the id of the real one.
2. **Once per event id**: the event is recorded (``WebhookEvent``, unique per
   organization and event id). A replay answers 200 ``duplicate`` and changes nothing.
   An event whose processing failed (gateway unreachable) may be delivered again and
   is then processed again.
3. **Only events we act on**: ``INVOICING.INVOICE.PAID``, ``PAYMENT.CAPTURE.COMPLETED``
   and ``PAYMENT.CAPTURE.DENIED``. Others answer 200 ``ignored``.
4. **Re-fetch** the invoice from the gateway (the event is a trigger, not the truth) and
   act only if the gateway says it is paid; find *our* installment by the gateway's
   invoice id within this organization only (another organization's invoice is
   ignored), then pay it through ``payments.settlement.mark_installment_paid``, which
   locks the row and pays once.
5. Capture events settle a school charge whose capture PayPal held (PENDING): *our*
   charge is found by the capture's ``custom_id`` (the charge's request id) within this
   organization only and must be awaiting that capture id; the capture is re-fetched and
   its status decides (``payments.school.settle_capture``): COMPLETED records the payment
   through the charge's own recording path, once; DECLINED takes the decline path.
   A capture recorded already, or not ours, is ignored.

No gateway call happens inside a transaction: the webhook view is not atomic, and each
database write here is its own short transaction.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone

from payments import school
from payments.gateways import Gateway
from payments.models import Installment, WebhookEvent, WebhookOutcome
from payments.paypal import PayPalError
from payments.settlement import mark_installment_paid
from rotations.choices import PaymentMethod

logger = logging.getLogger(__name__)

INVOICE_PAID = "INVOICING.INVOICE.PAID"
CAPTURE_EVENTS = frozenset({"PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.DENIED"})
PAID_STATUSES = frozenset({"PAID", "MARKED_AS_PAID"})


@dataclass(frozen=True)
class WebhookResult:
    """What the endpoint answers: HTTP status and a JSON body."""

    status: int
    outcome: str  # processed | ignored | duplicate | invalid | failed
    detail: str = ""
    event_id: str = ""

    def as_json(self) -> dict:
        body = {"outcome": self.outcome, "detail": self.detail}
        if self.event_id:
            body["event_id"] = self.event_id
        if self.status >= 400:
            body["code"] = self.outcome
        return body


class Ignored(Exception):
    """The event is valid but changes nothing (said why)."""


def process_webhook(organization, gateway: Gateway, headers, raw_body: bytes) -> WebhookResult:
    """Verify, deduplicate and act on one delivery for ``organization`` (inside its
    scope). See the module docstring for the rules."""
    try:
        verified = gateway.verify_webhook(headers, raw_body)
    except PayPalError as error:  # PayPal could not say: let it deliver again later
        logger.warning("Webhook verification unavailable for %s: %s", organization.slug, error)
        return WebhookResult(503, "failed", "The gateway could not verify the event; retry.")
    if not verified:
        logger.warning("Webhook refused for %s: signature not verified.", organization.slug)
        return WebhookResult(400, "invalid", "The event's signature was not verified.")
    try:
        event = json.loads(raw_body)
    except ValueError:
        event = None
    if not isinstance(event, dict) or not event.get("id") or not event.get("event_type"):
        return WebhookResult(400, "invalid", "The event has no id or type.")
    event_id, event_type = str(event["id"])[:100], str(event["event_type"])[:100]

    record = _claim(organization, event_id, event_type, event)
    if record is None:
        return WebhookResult(200, "duplicate", "This event was received already.", event_id)

    try:
        if event_type == INVOICE_PAID:
            detail = _invoice_paid(gateway, event)
        elif event_type in CAPTURE_EVENTS:
            detail = _capture_settled(event)
        else:
            raise Ignored(f"{event_type} is not an event we act on.")
    except Ignored as reason:
        _finish(record, WebhookOutcome.IGNORED, str(reason))
        return WebhookResult(200, "ignored", str(reason), event_id)
    except Exception as error:
        # Unclaimed for a redelivery: PayPal retries non-2xx answers.
        _finish(record, WebhookOutcome.FAILED, f"{type(error).__name__}: {error}"[:2000])
        logger.exception("Webhook %s failed for %s", event_id, organization.slug)
        return WebhookResult(503, "failed", "The event could not be processed; retry.", event_id)
    _finish(record, WebhookOutcome.PROCESSED, detail)
    return WebhookResult(200, "processed", detail, event_id)


def _claim(organization, event_id: str, event_type: str, event: dict) -> WebhookEvent | None:
    """Record the event, or take back one whose processing failed; None for a replay."""
    try:
        with transaction.atomic():
            return WebhookEvent.objects.create(
                organization=organization,
                event_id=event_id,
                event_type=event_type,
                payload=event,
            )
    except IntegrityError:
        pass
    existing = WebhookEvent.objects.filter(
        organization=organization, event_id=event_id, outcome=WebhookOutcome.FAILED
    ).first()
    if existing is None:
        return None
    # Exactly one redelivery wins the failed row back (a conditional UPDATE, no lock held).
    taken = WebhookEvent.objects.filter(pk=existing.pk, outcome=WebhookOutcome.FAILED).update(
        outcome=WebhookOutcome.RECEIVED, received_at=timezone.now()
    )
    return existing if taken else None


def _finish(record: WebhookEvent, outcome: str, detail: str) -> None:
    WebhookEvent.objects.filter(pk=record.pk).update(
        outcome=outcome, outcome_detail=detail, processed_at=timezone.now()
    )


def _event_invoice_id(event: dict) -> str:
    """Invoice events carry ``resource.invoice{...}`` or a flat ``resource{...}``."""
    resource = event.get("resource")
    if not isinstance(resource, dict):
        return ""
    invoice = resource.get("invoice") if isinstance(resource.get("invoice"), dict) else resource
    return str(invoice.get("id") or "")


def _invoice_paid(gateway: Gateway, event: dict) -> str:
    invoice_id = _event_invoice_id(event)
    if not invoice_id:
        raise Ignored("The event names no invoice.")
    # Ours? (checked before asking the gateway; within this organization's scope only)
    if not Installment.objects.filter(gateway_invoice_id=invoice_id).exists():
        raise Ignored(f"Invoice {invoice_id} is not one of this organization's.")
    try:
        invoice = gateway.fetch_invoice(invoice_id)  # the truth, outside any transaction
    except PayPalError as error:
        if error.status in (403, 404):
            raise Ignored(f"The gateway does not know invoice {invoice_id}.") from error
        raise
    if invoice.get("id") != invoice_id:
        raise Ignored("The gateway answered another invoice.")
    if invoice.get("status") not in PAID_STATUSES:
        raise Ignored(f"The gateway says invoice {invoice_id} is {invoice.get('status')}.")

    installment = Installment.objects.filter(gateway_invoice_id=invoice_id).first()
    if installment is None:  # pragma: no cover - checked above; a row deleted meanwhile
        raise Ignored(f"Invoice {invoice_id} is not one of this organization's.")
    amount, payment_id, received_on = _what_was_paid(invoice, installment)
    payment = mark_installment_paid(
        installment,
        amount=amount,
        method=PaymentMethod.PAYPAL,
        received_on=received_on,
        reference=invoice_id,
        gateway_payment_id=payment_id,
        gateway_answer=invoice,
    )
    if payment is None:
        raise Ignored(f"Installment {installment.pk} was paid already.")
    return f"Installment {installment.pk} paid ({amount})."


def _capture_settled(event: dict) -> str:
    resource = event.get("resource")
    if not isinstance(resource, dict) or not resource.get("id"):
        raise Ignored("The event names no capture.")
    try:
        return school.settle_capture(str(resource["id"]), str(resource.get("custom_id") or ""))
    except school.CaptureNotOurs as reason:
        raise Ignored(str(reason)) from reason


def _what_was_paid(invoice: dict, installment: Installment) -> tuple[Decimal, str, date]:
    payments = invoice.get("payments") or {}
    transactions = [t for t in payments.get("transactions") or [] if isinstance(t, dict)]
    last = transactions[-1] if transactions else {}
    value = (payments.get("paid_amount") or invoice.get("amount") or {}).get("value")
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError):
        amount = installment.charged
    if amount <= 0:
        amount = installment.charged
    payment_id = str(last.get("payment_id") or f"{invoice['id']}-paid")[:64]
    try:
        received_on = date.fromisoformat(str(last.get("payment_date"))[:10])
    except ValueError:
        received_on = timezone.localdate()
    return amount, payment_id, received_on
