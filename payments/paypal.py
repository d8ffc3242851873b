"""Our small PayPal REST client over ``requests`` (DESIGN §6, RECIPES "PayPal").

One client per organization's PayPal account: the caller passes the base URL and that
organization's credentials. The client never touches our models and never opens a
transaction; it refuses to run inside one, because a call to PayPal must never hold
a database transaction or row lock open (DESIGN §6). Tasks call it after commit and
store what it returns: every answer is a ``PayPalResult`` (the parsed JSON, plus the
HTTP status and PayPal's debug id), every failure a ``PayPalError`` carrying the same.

Every create sends ``PayPal-Request-Id``: PayPal answers a repeated id with the first
answer instead of doing the work twice, so the retries here (timeouts, connection
errors, 429, 5xx — always with the same id) and a retried Celery task never create a
second invoice, vault token or charge. Use one key per row *and* operation, e.g.
``f"installment-{pk}"`` to create and ``f"installment-{pk}-send"`` to send.

Shapes follow PayPal's OpenAPI specifications (github.com/paypal/
paypal-rest-api-specifications): invoicing_v2.json, checkout_orders_v2.json,
vault_payment_tokens_v3.json, payments_payment_v2.json and notifications_webhooks_v1.json.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import time
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

import requests
from django.conf import settings
from django.core.cache import cache

from usdoctors.external import refuse_inside_transaction
from usdoctors.money import to_cents

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (3.05, 10)  # (connect, read) seconds
TOKEN_EXPIRY_MARGIN = 300  # seconds: a cached token is dropped this long before PayPal's expiry
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
WEBHOOK_HEADERS = {
    "auth_algo": "paypal-auth-algo",
    "cert_url": "paypal-cert-url",
    "transmission_id": "paypal-transmission-id",
    "transmission_sig": "paypal-transmission-sig",
    "transmission_time": "paypal-transmission-time",
}
# A merchant-initiated charge of a card the payer saved with us, at a time we choose
# (checkout_orders_v2.json, card_stored_credential).
MERCHANT_INITIATED_UNSCHEDULED = {
    "payment_initiator": "MERCHANT",
    "payment_type": "UNSCHEDULED",
    "usage": "SUBSEQUENT",
}
# Issues that mean "this card was refused": the charge failed, retrying will not help.
DECLINE_ISSUES = frozenset(
    {"INSTRUMENT_DECLINED", "PAYMENT_SOURCE_DECLINED_BY_PROCESSOR", "CARD_EXPIRED"}
)


class PayPalError(Exception):
    """PayPal refused a call, or could not be reached (``status`` is None then).

    ``body`` is what PayPal answered (``{name, message, debug_id, details[]}``, or
    OAuth's ``{error, error_description}``), so the caller can store it."""

    def __init__(
        self,
        status: int | None,
        name: str,
        message: str,
        debug_id: str | None = None,
        details: list | None = None,
        *,
        body: Any = None,
    ):
        # args are the constructor's, so pickling (Celery's result backend) round-trips.
        super().__init__(status, name, message, debug_id, details or [])
        self.status = status
        self.name = name
        self.message = message
        self.debug_id = debug_id
        self.details = details or []
        self.body = body

    def __str__(self) -> str:
        where = self.status or "unreachable"
        return f"PayPal {where} {self.name}: {self.message} (debug_id {self.debug_id})"

    @property
    def issues(self) -> list[str]:
        """The ``issue`` codes of ``details``, e.g. ``["INVOICE_CANCELED_ALREADY"]``."""
        return [d.get("issue") for d in self.details if isinstance(d, dict) and d.get("issue")]


class PayPalUnreachable(PayPalError):
    """No answer after every attempt (connection error or timeout): whether PayPal did
    the work is unknown, so retry later with the same PayPal-Request-Id."""


class CardDeclined(PayPalError):
    """The card on file was refused (422 INSTRUMENT_DECLINED, or a capture DECLINED)."""


class PayPalResult(dict):
    """PayPal's parsed JSON answer, with the HTTP status and PayPal's debug id."""

    def __init__(self, data: Mapping, *, status_code: int, debug_id: str | None = None):
        super().__init__(data)
        self.status_code = status_code
        self.debug_id = debug_id


class InvoiceLine(NamedTuple):
    name: str
    amount: Decimal
    description: str = ""


def money(amount: Decimal, currency: str) -> dict:
    """PayPal's money object: the amount as a decimal string with two places."""
    if isinstance(amount, float):
        raise TypeError("Amounts are Decimal, never float.")
    return {"currency_code": currency, "value": f"{to_cents(amount):.2f}"}


def invoice_payload(
    *,
    invoice_number: str,
    currency: str,
    recipient_email: str,
    items: Iterable[InvoiceLine | tuple],
    invoice_date: date,
    due_date: date | None = None,
    card_fee: Decimal | None = None,
    card_fee_label: str = "Card payment fee",
    note: str = "",
    reference: str = "",
    recipient_given_name: str = "",
    recipient_surname: str = "",
) -> dict:
    """An Invoicing v2 body (invoicing_v2.json ``invoice``) from plain values.

    Each item is one unit of its amount; the card fee is its own labelled line, as
    ``amount.breakdown.custom`` (STYLE §5). PayPal adds up the total."""
    if len(invoice_number) > 127:
        raise ValueError("PayPal invoice numbers are at most 127 characters.")
    if len(card_fee_label) > 50:
        raise ValueError("PayPal custom amount labels are at most 50 characters.")
    lines = [InvoiceLine(*item) for item in items]
    if not 1 <= len(lines) <= 100:
        raise ValueError("A PayPal invoice has 1 to 100 items.")
    detail: dict[str, Any] = {
        "invoice_number": invoice_number,
        "currency_code": currency,
        "invoice_date": invoice_date.isoformat(),
        "payment_term": (
            {"term_type": "DUE_ON_DATE_SPECIFIED", "due_date": due_date.isoformat()}
            if due_date
            else {"term_type": "DUE_ON_RECEIPT"}
        ),
    }
    if reference:
        detail["reference"] = reference
    if note:
        detail["note"] = note
    billing_info: dict[str, Any] = {"email_address": recipient_email}
    if recipient_given_name or recipient_surname:
        billing_info["name"] = {"given_name": recipient_given_name, "surname": recipient_surname}
    payload: dict[str, Any] = {
        "detail": detail,
        "primary_recipients": [{"billing_info": billing_info}],
        "items": [
            {
                "name": line.name[:200],
                **({"description": line.description[:1000]} if line.description else {}),
                "quantity": "1",
                "unit_amount": money(line.amount, currency),
                "unit_of_measure": "QUANTITY",
            }
            for line in lines
        ],
        "configuration": {"allow_tip": False, "partial_payment": {"allow_partial_payment": False}},
    }
    if card_fee:
        payload["amount"] = {
            "breakdown": {"custom": {"label": card_fee_label, "amount": money(card_fee, currency)}}
        }
    return payload


def token_cache_key(base_url: str, client_id: str) -> str:
    digest = hashlib.sha256(f"{base_url}\0{client_id}".encode()).hexdigest()
    return f"paypal-token:{digest}"


def _reject_floats(value: Any) -> None:
    if isinstance(value, float):
        raise TypeError("Amounts sent to PayPal are decimal strings, never float.")
    if isinstance(value, Mapping):
        for item in value.values():
            _reject_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _reject_floats(item)


class PayPalClient:
    """One organization's PayPal REST account."""

    def __init__(
        self,
        base_url: str | None,
        client_id: str,
        client_secret: str,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
        max_attempts: int = 4,
        retry_base_delay: float = 0.5,
        retry_max_delay: float = 8.0,
    ):
        # Callers pass the organization's URL (Organization.paypal_base_url).
        self.base_url = (
            base_url or settings.PAYPAL_BASE_URL or "https://api-m.sandbox.paypal.com"
        ).rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self.timeout = timeout
        self.session = session or requests.Session()
        self.max_attempts = max(1, max_attempts)
        self.retry_base_delay = retry_base_delay
        self.retry_max_delay = retry_max_delay
        self._token_cache_key = token_cache_key(self.base_url, client_id)

    def __repr__(self) -> str:  # never the secret
        return f"<PayPalClient {self.base_url} {self.client_id}>"

    # --- OAuth --------------------------------------------------------------------------

    def access_token(self) -> str:
        """A bearer token from the client-credentials grant, shared through the cache by
        every process until shortly before PayPal's ``expires_in``."""
        token = cache.get(self._token_cache_key)
        if token:
            return token
        answer = self._call(
            "POST",
            "/v1/oauth2/token",
            form={"grant_type": "client_credentials"},
            basic_auth=True,
        )
        token = answer["access_token"]
        lifetime = int(answer.get("expires_in") or 0)
        ttl = lifetime - min(TOKEN_EXPIRY_MARGIN, lifetime // 2)
        if ttl > 0:
            cache.set(self._token_cache_key, token, ttl)
        return token

    def forget_access_token(self) -> None:
        cache.delete(self._token_cache_key)

    # --- Invoicing v2 -------------------------------------------------------------------

    def create_invoice(self, request_id: str, invoice: dict) -> PayPalResult:
        """Create a DRAFT invoice; the answer is the whole invoice (id, status, amounts)."""
        return self._call(
            "POST",
            "/v2/invoicing/invoices",
            body=invoice,
            request_id=request_id,
            prefer="return=representation",
        )

    def send_invoice(
        self,
        invoice_id: str,
        request_id: str,
        *,
        send_to_recipient: bool = True,
        send_to_invoicer: bool = False,
        subject: str = "",
        note: str = "",
    ) -> PayPalResult:
        """Send a draft: 200 when it goes out now (UNPAID), 202 when its invoice_date is
        in the future and PayPal holds it until then (SCHEDULED)."""
        notification: dict[str, Any] = {
            "send_to_recipient": send_to_recipient,
            "send_to_invoicer": send_to_invoicer,
        }
        if subject:
            notification["subject"] = subject
        if note:
            notification["note"] = note
        return self._call(
            "POST",
            f"/v2/invoicing/invoices/{invoice_id}/send",
            body=notification,
            request_id=request_id,
        )

    def get_invoice(self, invoice_id: str) -> PayPalResult:
        return self._call("GET", f"/v2/invoicing/invoices/{invoice_id}")

    def cancel_invoice(
        self, invoice_id: str, request_id: str, *, send_to_recipient: bool = True, note: str = ""
    ) -> PayPalResult:
        """Cancel a sent invoice (204). PayPal refuses drafts and scheduled invoices
        (422 CANNOT_CANCEL_*): delete those instead."""
        notification: dict[str, Any] = {"send_to_recipient": send_to_recipient}
        if note:
            notification["note"] = note
        return self._call(
            "POST",
            f"/v2/invoicing/invoices/{invoice_id}/cancel",
            body=notification,
            request_id=request_id,
        )

    def delete_invoice(self, invoice_id: str) -> PayPalResult:
        """Delete a DRAFT or SCHEDULED invoice (204); it is never shown to the payer."""
        return self._call("DELETE", f"/v2/invoicing/invoices/{invoice_id}")

    # --- Vault v3 + Orders v2: a card on file ---------------------------------------------

    def create_setup_token(
        self,
        request_id: str,
        *,
        customer_id: str = "",
        return_url: str = "",
        cancel_url: str = "",
        verification_method: str = "SCA_WHEN_REQUIRED",
        card: Mapping | None = None,
    ) -> PayPalResult:
        """Start saving a card. The payer types the card into PayPal's card fields (the
        JS SDK, given this token's id), never into our pages; ``card`` is for tests."""
        card_request: dict[str, Any] = {**(card or {}), "verification_method": verification_method}
        experience = {"return_url": return_url, "cancel_url": cancel_url}
        if any(experience.values()):
            card_request["experience_context"] = {k: v for k, v in experience.items() if v}
        body: dict[str, Any] = {"payment_source": {"card": card_request}}
        if customer_id:
            body["customer"] = {"id": customer_id}
        return self._call("POST", "/v3/vault/setup-tokens", body=body, request_id=request_id)

    def create_paypal_setup_token(
        self,
        request_id: str,
        *,
        return_url: str,
        cancel_url: str,
        brand_name: str = "",
        customer_id: str = "",
    ) -> PayPalResult:
        """Start saving the payer's PayPal account, without JavaScript: PayPal answers
        PAYER_ACTION_REQUIRED and a link ``rel: approve`` where the browser goes; the payer
        logs in, picks what pays (a card in their wallet, or their balance) and agrees,
        and PayPal sends them to ``return_url`` with ``approval_token_id`` (this token's
        id) and ``approval_session_id`` — or to ``cancel_url``. Then exchange the token
        with ``create_payment_token`` (vault_payment_tokens_v3.json ``paypal_wallet_request``
        and ``experience_context``)."""
        experience: dict[str, Any] = {
            "return_url": return_url,
            "cancel_url": cancel_url,
            "shipping_preference": "NO_SHIPPING",
        }
        if brand_name:
            experience["brand_name"] = brand_name[:127]
        body: dict[str, Any] = {
            "payment_source": {
                "paypal": {
                    "usage_type": "MERCHANT",
                    "customer_type": "CONSUMER",
                    "permit_multiple_payment_tokens": False,
                    "experience_context": experience,
                }
            }
        }
        if customer_id:
            body["customer"] = {"id": customer_id}
        return self._call("POST", "/v3/vault/setup-tokens", body=body, request_id=request_id)

    def create_payment_token(
        self, request_id: str, setup_token_id: str, *, customer_id: str = ""
    ) -> PayPalResult:
        """Turn an approved setup token into a payment token: its ``id`` is the vault id."""
        body: dict[str, Any] = {
            "payment_source": {"token": {"id": setup_token_id, "type": "SETUP_TOKEN"}}
        }
        if customer_id:
            body["customer"] = {"id": customer_id}
        return self._call("POST", "/v3/vault/payment-tokens", body=body, request_id=request_id)

    def charge_vaulted_card(
        self,
        request_id: str,
        vault_id: str,
        amount: Decimal,
        currency: str,
        description: str,
        custom_id: str,
        *,
        invoice_id: str = "",
        source: str = "card",
    ) -> PayPalResult:
        """Charge the card on file now (Orders v2, intent CAPTURE, merchant-initiated).

        ``source`` is what the vault token is: ``card`` (sent as ``payment_source.card``
        with the merchant-initiated ``stored_credential``) or ``paypal`` (a PayPal
        account the payer agreed to on PayPal's page: ``payment_source.paypal.vault_id``;
        checkout_orders_v2.json ``paypal_wallet`` takes no stored_credential).

        The answer is the COMPLETED order with its capture under
        ``purchase_units[0].payments.captures[0]``; that capture may be PENDING (PayPal
        confirms it later with PAYMENT.CAPTURE.COMPLETED or .DENIED). A refused card
        raises CardDeclined, whether PayPal says so with 422 INSTRUMENT_DECLINED or with a
        DECLINED capture."""
        if source not in ("card", "paypal"):
            raise ValueError(f"Unknown vaulted payment source {source!r}.")
        purchase_unit: dict[str, Any] = {
            "amount": money(amount, currency),
            "description": description[:127],
            "custom_id": custom_id[:127],
        }
        if invoice_id:
            purchase_unit["invoice_id"] = invoice_id[:127]
        body = {
            "intent": "CAPTURE",
            "purchase_units": [purchase_unit],
            "payment_source": (
                {"paypal": {"vault_id": vault_id}}
                if source == "paypal"
                else {
                    "card": {
                        "vault_id": vault_id,
                        "stored_credential": MERCHANT_INITIATED_UNSCHEDULED,
                    }
                }
            ),
        }
        try:
            order = self._call(
                "POST",
                "/v2/checkout/orders",
                body=body,
                request_id=request_id,
                prefer="return=representation",
            )
        except PayPalError as error:
            if error.status == 422 and DECLINE_ISSUES.intersection(error.issues):
                raise CardDeclined(
                    error.status,
                    error.name,
                    error.message,
                    error.debug_id,
                    error.details,
                    body=error.body,
                ) from error
            raise
        captures = [
            capture
            for unit in order.get("purchase_units", [])
            for capture in unit.get("payments", {}).get("captures", [])
        ]
        if any(capture.get("status") in {"DECLINED", "FAILED"} for capture in captures):
            raise CardDeclined(
                order.status_code,
                "CAPTURE_DECLINED",
                "The card on file was declined.",
                order.debug_id,
                body=dict(order),
            )
        return order

    def get_order(self, order_id: str) -> PayPalResult:
        return self._call("GET", f"/v2/checkout/orders/{order_id}")

    def get_capture(self, capture_id: str) -> PayPalResult:
        """One captured payment (payments_payment_v2.json ``capture``): its ``status``
        (COMPLETED, PENDING, DECLINED, ...), ``custom_id`` and ``amount``."""
        return self._call("GET", f"/v2/payments/captures/{capture_id}")

    def refund_capture(
        self,
        capture_id: str,
        request_id: str,
        amount: Decimal,
        currency: str,
        *,
        note_to_payer: str = "",
        invoice_id: str = "",
    ) -> PayPalResult:
        """Refund ``amount`` of a captured payment (payments_payment_v2.json
        ``captures.refund``): 201 with the refund (``id``, ``status`` COMPLETED or
        PENDING, ``amount``). PayPal refuses more than is left with 422
        REFUND_AMOUNT_EXCEEDED, and a capture refunded in full with 422
        CAPTURE_FULLY_REFUNDED."""
        body: dict[str, Any] = {"amount": money(amount, currency)}
        if note_to_payer:
            body["note_to_payer"] = note_to_payer[:255]
        if invoice_id:
            body["invoice_id"] = invoice_id[:127]
        return self._call(
            "POST",
            f"/v2/payments/captures/{capture_id}/refund",
            body=body,
            request_id=request_id,
            prefer="return=representation",
        )

    def get_refund(self, refund_id: str) -> PayPalResult:
        return self._call("GET", f"/v2/payments/refunds/{refund_id}")

    # --- Webhooks -----------------------------------------------------------------------

    def verify_webhook_signature(
        self, headers: Mapping[str, str], webhook_id: str, event: dict | bytes | str
    ) -> bool:
        """Ask PayPal whether this delivery was signed for ``webhook_id`` (the receiving
        organization's). Pass the raw request body when you have it: PayPal checks the
        signature against the event exactly as sent, and re-serialized JSON can differ.

        Missing signature headers, a malformed body or PayPal's 400 → False. Other
        failures raise PayPalError, so the view answers 5xx and PayPal redelivers."""
        lowered = {key.lower(): value for key, value in headers.items()}
        fields = {name: lowered.get(header, "") for name, header in WEBHOOK_HEADERS.items()}
        if not all(fields.values()) or not webhook_id:
            return False
        fields["webhook_id"] = webhook_id
        if isinstance(event, bytes | str):
            try:
                raw = event.decode() if isinstance(event, bytes) else event
                if not isinstance(json.loads(raw), dict):
                    return False
            except ValueError:
                return False
            # The event goes out byte for byte as PayPal sent it.
            data = json.dumps(fields)[:-1] + ', "webhook_event": ' + raw + "}"
        else:
            data = json.dumps({**fields, "webhook_event": event})
        try:
            answer = self._call("POST", "/v1/notifications/verify-webhook-signature", data=data)
        except PayPalError as error:
            if error.status == 400:
                return False
            raise
        return answer.get("verification_status") == "SUCCESS"

    # --- Transport ----------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        data: str | None = None,
        form: Mapping | None = None,
        request_id: str | None = None,
        prefer: str | None = None,
        basic_auth: bool = False,
    ) -> PayPalResult:
        """One PayPal call: retried with exponential backoff on connection errors,
        timeouts, 429 and 5xx — always with the same PayPal-Request-Id — and once with a
        fresh token after a 401."""
        refuse_inside_transaction("PayPal", "DESIGN §6")
        headers = {"Accept": "application/json"}
        if request_id is not None:
            request_id = str(request_id)
            if not 1 <= len(request_id) <= 108:
                raise ValueError("PayPal-Request-Id is 1 to 108 characters.")
            headers["PayPal-Request-Id"] = request_id
        if prefer:
            headers["Prefer"] = prefer
        if body is not None:
            _reject_floats(body)
            data = json.dumps(body)
        if data is not None:
            headers["Content-Type"] = "application/json"
        payload = form if form is not None else data.encode() if data is not None else None
        url = self.base_url + path
        attempt = 0
        token_refreshed = False
        while True:
            attempt += 1
            if basic_auth:
                auth = (self.client_id, self._client_secret)
            else:
                auth = None
                headers["Authorization"] = f"Bearer {self.access_token()}"
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=headers,
                    data=payload,
                    auth=auth,
                    timeout=self.timeout,
                )
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as error:
                if attempt >= self.max_attempts:
                    raise PayPalUnreachable(None, type(error).__name__, str(error)) from error
                logger.warning("PayPal %s %s: %s, retrying", method, path, type(error).__name__)
                time.sleep(self._backoff(attempt))
                continue
            if response.status_code == 401 and not basic_auth and not token_refreshed:
                # A token PayPal no longer accepts (expired early, revoked): fetch a new one.
                token_refreshed = True
                attempt -= 1
                self.forget_access_token()
                continue
            if response.status_code in RETRY_STATUSES and attempt < self.max_attempts:
                logger.warning(
                    "PayPal %s %s answered %s (debug_id %s), retrying",
                    method,
                    path,
                    response.status_code,
                    response.headers.get("Paypal-Debug-Id"),
                )
                time.sleep(self._backoff(attempt, response.headers.get("Retry-After")))
                continue
            return self._result(response)

    def _backoff(self, attempt: int, retry_after: str | None = None) -> float:
        # Jitter spreads out workers that failed together; PayPal's Retry-After is a floor.
        delay = self.retry_base_delay * 2 ** (attempt - 1) * random.uniform(0.5, 1.0)
        if retry_after and retry_after.isdigit():
            delay = max(delay, float(retry_after))
        return min(delay, self.retry_max_delay)

    @staticmethod
    def _result(response: requests.Response) -> PayPalResult:
        debug_id = response.headers.get("Paypal-Debug-Id")
        try:
            parsed = response.json() if response.content else {}
        except ValueError:
            parsed = {"raw": response.text[:2000]}
        if response.status_code >= 400:
            if not isinstance(parsed, dict):
                parsed = {"raw": parsed}
            raise PayPalError(
                response.status_code,
                parsed.get("name") or parsed.get("error") or f"HTTP_{response.status_code}",
                parsed.get("message") or parsed.get("error_description") or response.reason or "",
                parsed.get("debug_id") or debug_id,
                parsed.get("details") or [],
                body=parsed,
            )
        if not isinstance(parsed, dict):
            parsed = {"items": parsed}
        return PayPalResult(parsed, status_code=response.status_code, debug_id=debug_id)
