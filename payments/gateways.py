"""Payment gateways (DESIGN §6, STYLE §5): one small interface, two implementations.

The rest of the code never knows which gateway ran: it asks ``gateway_for(organization)``
and calls the four methods of ``Gateway``.

- ``PayPalGateway``: the organization's own PayPal account (its client id, secret and
  webhook id, sandbox or live), over ``payments.paypal.PayPalClient``. Every create is
  sent with ``PayPal-Request-Id`` = our row (``installment-<id>``, ``-send``,
  ``-cancel``), so a retried task never makes a second invoice.
- ``SimulatedGateway``: no HTTP and no real money (``make run``, and every organization
  that has not chosen PayPal or whose credentials are incomplete). Its "invoice" is our
  local pay page (payments.simulated), which we email ourselves; paying there produces
  an event in PayPal's shape, signed with an HMAC of our SECRET_KEY and this
  organization, which goes through the same webhook code as PayPal's
  (payments.webhooks.process_webhook).

Gateways never touch the database and never open a transaction: callers (tasks, the
webhook) call them after commit and store what they answer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from django.conf import settings
from django.utils import timezone

from payments.models import Installment, LineKind
from payments.paypal import PayPalClient, PayPalError, invoice_payload
from payments.schedule import APPLICATION_FEE_LABEL

# Options for every PayPalClient the gateway builds (timeouts, retries with backoff).
# Tests shorten them; production keeps payments.paypal's defaults.
CLIENT_OPTIONS: dict[str, Any] = {}

SIMULATED_SIGNATURE_HEADER = "X-Simulated-Signature"
DEFAULT_CARD_FEE_LABEL = "Card payment fee"


@dataclass(frozen=True)
class SentInvoice:
    """What the gateway answered when asked for a payment: its invoice id and status,
    the payer's link, and the raw answers to store on the installment."""

    invoice_id: str
    status: str  # UNPAID (sent now) or SCHEDULED (sent on its invoice date)
    payer_url: str
    answer: dict = field(default_factory=dict)
    # True when the gateway does not email the payer itself (simulated): we do.
    we_email_the_payer: bool = False


class Gateway(ABC):
    """One organization's way of being paid by card."""

    name: ClassVar[str]

    def __init__(self, organization):
        self.organization = organization

    @abstractmethod
    def request_payment(self, installment: Installment) -> SentInvoice:
        """Create and send the installment's invoice (share + labelled card fee).
        Idempotent: asking again for the same installment answers the same invoice."""

    @abstractmethod
    def cancel(self, installment: Installment) -> dict:
        """Withdraw the installment's invoice; the gateway's answer."""

    @abstractmethod
    def refund(self, refund) -> dict:
        """Refund ``refund.amount`` of the payment it names (payments.refunds, §15), once:
        asking again for the same refund answers the same refund. The answer carries
        ``refund_id`` and ``status`` (COMPLETED, or PENDING while the gateway works)."""

    @abstractmethod
    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> bool:
        """Whether this delivery really comes from the gateway, for this organization."""

    @abstractmethod
    def fetch_invoice(self, gateway_invoice_id: str) -> dict:
        """The invoice as the gateway knows it now, in PayPal Invoicing v2's shape
        (``id``, ``status``, ``amount``, ``payments.transactions``). A webhook is only a
        trigger: this answer is what we act on (STYLE §5)."""


def gateway_for(organization) -> Gateway:
    """PayPal when the organization chose it and its credentials are complete; else the
    simulated gateway (DESIGN §11: ``make run`` takes no real money)."""
    if organization.payment_gateway == "paypal" and organization.has_paypal_credentials:
        return PayPalGateway(organization)
    return SimulatedGateway(organization)


# --- What an installment's invoice says ---------------------------------------------


def card_fee_label(installment: Installment) -> str:
    line = installment.lines.filter(kind=LineKind.CARD_FEE).order_by("pk").first()
    return (line.label if line else DEFAULT_CARD_FEE_LABEL)[:50]


def installment_description(installment: Installment) -> str:
    invoice = installment.invoice
    count = invoice.installments.count()
    what = invoice.get_kind_display()
    if count > 1:
        return f"{what} — installment {installment.sequence} of {count}"
    return what


def installment_items(installment: Installment) -> list[tuple[str, Decimal]]:
    """The invoice's items: the installment's share of the price, and — on the first
    installment of a rotation whose requirement asks one — the application fee as its
    own item, "Application fee (non-refundable)" (§6, §13). They add up to the
    installment's amount; a fee that is the whole amount (credit paid the price) is the
    only item."""
    fee = installment.application_fee
    share = installment.amount - fee
    items = []
    if share > 0 or not fee:
        items.append((installment_description(installment), share))
    if fee:
        items.append((APPLICATION_FEE_LABEL, fee))
    return items


def installment_invoice(installment: Installment) -> dict:
    """The Invoicing v2 body: the installment's share as the item (and the application
    fee as its own item, ``installment_items``) and its card fee as
    ``amount.breakdown.custom`` (RECIPES "PayPal"), so the payer reads e.g. $600.00 +
    card fee $17.94 = $617.94. The invoice date is the due date (PayPal holds a future
    one as SCHEDULED and sends it then); never in the past."""
    invoice = installment.invoice
    today = timezone.localdate()
    invoice_date = max(installment.due_on, today)
    return invoice_payload(
        invoice_number=f"{invoice.reference_code}-{installment.sequence}",
        currency=installment.organization.currency,
        recipient_email=invoice.student.user.email,
        items=installment_items(installment),
        invoice_date=invoice_date,
        due_date=invoice_date,
        card_fee=installment.card_fee or None,
        card_fee_label=card_fee_label(installment),
        reference=invoice.reference_code,
        note=f"{installment.organization.name}: {installment_description(installment)}.",
    )


# --- PayPal -------------------------------------------------------------------------


class PayPalGateway(Gateway):
    name = "paypal"

    def __init__(self, organization, *, client: PayPalClient | None = None):
        super().__init__(organization)
        self.client = client or PayPalClient(
            organization.paypal_base_url,
            organization.paypal_client_id,
            organization.paypal_client_secret,
            **CLIENT_OPTIONS,
        )

    def request_payment(self, installment: Installment) -> SentInvoice:
        created = self.client.create_invoice(
            f"installment-{installment.pk}", installment_invoice(installment)
        )
        invoice_id = created["id"]
        try:
            sent = self.client.send_invoice(
                invoice_id,
                f"installment-{installment.pk}-send",
                subject=f"{self.organization.name}: {installment_description(installment)}",
            )
        except PayPalError as error:
            # Sent already (an earlier attempt whose answer was lost, past PayPal's
            # idempotency window): what PayPal has is the truth.
            if error.status == 422 and "CANNOT_SEND_INVOICE" in " ".join(error.issues):
                current = self.client.get_invoice(invoice_id)
                if current.get("status") in {"UNPAID", "SCHEDULED", "SENT", "PAID"}:
                    sent = current
                else:
                    raise
            else:
                raise
        status = "SCHEDULED" if getattr(sent, "status_code", 200) == 202 else "UNPAID"
        metadata = (created.get("detail") or {}).get("metadata") or {}
        payer_url = metadata.get("recipient_view_url") or sent.get("href", "")
        return SentInvoice(
            invoice_id=invoice_id,
            status=status,
            payer_url=payer_url,
            answer={
                "gateway": self.name,
                "invoice_id": invoice_id,
                "status": status,
                "create": dict(created),
                "send": dict(sent),
                "debug_ids": [created.debug_id, getattr(sent, "debug_id", None)],
            },
        )

    def cancel(self, installment: Installment) -> dict:
        """Drafts and scheduled invoices are deleted (PayPal cannot cancel them); sent
        ones are cancelled, and PayPal tells the payer."""
        if not installment.gateway_invoice_id:
            return {}
        current = self.client.get_invoice(installment.gateway_invoice_id)
        if current.get("status") in {"DRAFT", "SCHEDULED"}:
            self.client.delete_invoice(installment.gateway_invoice_id)
            return {"gateway": self.name, "deleted": True, "was": dict(current)}
        if current.get("status") in {"CANCELLED", "PAID", "MARKED_AS_PAID"}:
            return {"gateway": self.name, "unchanged": True, "was": dict(current)}
        answer = self.client.cancel_invoice(
            installment.gateway_invoice_id, f"installment-{installment.pk}-cancel"
        )
        return {"gateway": self.name, "cancelled": True, "answer": dict(answer)}

    def refund(self, refund) -> dict:
        """A refund of the payment's capture (Payments v2), PayPal-Request-Id
        ``refund-<id>``: a retry answers the first refund instead of a second one."""
        answer = self.client.refund_capture(
            refund.payment.gateway_payment_id,
            f"refund-{refund.pk}",
            refund.amount,
            self.organization.currency,
            note_to_payer=f"{self.organization.name}: refund of {refund.invoice.reference_code}",
            invoice_id=f"{refund.invoice.reference_code}-refund-{refund.pk}",
        )
        return {
            "gateway": self.name,
            "refund_id": answer.get("id", ""),
            "status": answer.get("status", ""),
            "answer": dict(answer),
            "debug_id": answer.debug_id,
        }

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> bool:
        return self.client.verify_webhook_signature(
            headers, self.organization.paypal_webhook_id, raw_body
        )

    def fetch_invoice(self, gateway_invoice_id: str) -> dict:
        return dict(self.client.get_invoice(gateway_invoice_id))


# --- Simulated ------------------------------------------------------------------------


def simulated_invoice_id(installment: Installment) -> str:
    return f"SIM-{installment.organization_id}-{installment.pk}"


class SimulatedGateway(Gateway):
    """A gateway with no server: its invoice is our pay page, its events are signed by
    us. What it signed is its truth: ``fetch_invoice`` answers the invoice of an event
    it has just verified (paid), else the unpaid invoice our rows describe."""

    name = "simulated"

    def __init__(self, organization):
        super().__init__(organization)
        self._verified_invoices: dict[str, dict] = {}

    def request_payment(self, installment: Installment) -> SentInvoice:
        from payments.simulated import pay_page_url

        invoice_id = simulated_invoice_id(installment)
        payer_url = pay_page_url(installment)
        invoice = self._invoice(installment, status="UNPAID")
        return SentInvoice(
            invoice_id=invoice_id,
            status="UNPAID",
            payer_url=payer_url,
            answer={
                "gateway": self.name,
                "invoice_id": invoice_id,
                "status": "UNPAID",
                "payer_url": payer_url,
                "invoice": invoice,
            },
            we_email_the_payer=True,
        )

    def cancel(self, installment: Installment) -> dict:
        return {"gateway": self.name, "cancelled": True}

    def refund(self, refund) -> dict:
        return {
            "gateway": self.name,
            "refund_id": f"SIMREF-{refund.organization_id}-{refund.pk}",
            "status": "COMPLETED",
        }

    # Signing: only we can sign, and only for this organization.

    def signature(self, raw_body: bytes) -> str:
        key = hashlib.sha256(
            f"simulated-gateway:{self.organization.pk}:{settings.SECRET_KEY}".encode()
        ).digest()
        return hmac.new(key, raw_body, hashlib.sha256).hexdigest()

    def verify_webhook(self, headers: Mapping[str, str], raw_body: bytes) -> bool:
        lowered = {key.lower(): value for key, value in headers.items()}
        given = lowered.get(SIMULATED_SIGNATURE_HEADER.lower(), "")
        if not given or not hmac.compare_digest(given, self.signature(raw_body)):
            return False
        try:
            event = json.loads(raw_body)
        except ValueError:
            return False
        resource = event.get("resource") if isinstance(event, dict) else None
        invoice = (resource or {}).get("invoice", resource) if isinstance(resource, dict) else None
        if isinstance(invoice, dict) and invoice.get("id"):
            self._verified_invoices[invoice["id"]] = invoice
        return True

    def fetch_invoice(self, gateway_invoice_id: str) -> dict:
        if gateway_invoice_id in self._verified_invoices:
            return dict(self._verified_invoices[gateway_invoice_id])
        installment = Installment.objects.filter(gateway_invoice_id=gateway_invoice_id).first()
        if installment is None:
            raise PayPalError(404, "RESOURCE_NOT_FOUND", "No such simulated invoice.")
        return self._invoice(installment, status="UNPAID")

    def _invoice(self, installment: Installment, *, status: str) -> dict:
        currency = installment.organization.currency
        total = installment.amount + installment.card_fee
        return {
            "id": simulated_invoice_id(installment),
            "status": status,
            "detail": {"currency_code": currency, "reference": installment.invoice.reference_code},
            "amount": {
                "currency_code": currency,
                "value": f"{total:.2f}",
                "breakdown": {
                    "item_total": {"currency_code": currency, "value": f"{installment.amount:.2f}"},
                    "custom": {
                        "label": card_fee_label(installment),
                        "amount": {
                            "currency_code": currency,
                            "value": f"{installment.card_fee:.2f}",
                        },
                    },
                },
            },
        }

    def paid_event(self, installment: Installment) -> tuple[bytes, dict]:
        """What the pay page "PayPal" sends when the student pays: an
        INVOICING.INVOICE.PAID event for the whole amount, and its signed headers. The
        ids are the installment's, so paying twice is the same event (a replay)."""
        invoice = self._invoice(installment, status="PAID")
        total = invoice["amount"]["value"]
        currency = invoice["amount"]["currency_code"]
        invoice["payments"] = {
            "paid_amount": {"currency_code": currency, "value": total},
            "transactions": [
                {
                    "payment_id": f"SIMPAY-{installment.organization_id}-{installment.pk}",
                    "payment_date": timezone.localdate().isoformat(),
                    "method": "PAYPAL",
                    "amount": {"currency_code": currency, "value": total},
                }
            ],
        }
        invoice["due_amount"] = {"currency_code": currency, "value": "0.00"}
        event = {
            "id": f"WH-SIM-{installment.organization_id}-{installment.pk}",
            "event_version": "1.0",
            "create_time": timezone.now().isoformat(),
            "resource_type": "invoices",
            "event_type": "INVOICING.INVOICE.PAID",
            "summary": "Simulated payment",
            "resource": {"invoice": invoice},
        }
        raw = json.dumps(event, separators=(",", ":")).encode()
        return raw, {
            "Content-Type": "application/json",
            SIMULATED_SIGNATURE_HEADER: self.signature(raw),
        }
