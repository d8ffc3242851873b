"""A fake PayPal REST server for tests: a real HTTP server on 127.0.0.1, in a thread.

It answers the calls our client makes, in the JSON shapes of PayPal's OpenAPI
specifications (github.com/paypal/paypal-rest-api-specifications, openapi/):

- ``POST /v1/oauth2/token`` — client credentials, Basic auth (OAuth errors as
  ``{error, error_description}``); every other call needs a Bearer token it issued.
- Invoicing v2 (invoicing_v2.json): create (201; the whole invoice only with
  ``Prefer: return=representation``, else a ``self`` link), send (200 → UNPAID, or 202 →
  SCHEDULED when ``invoice_date`` is in the future), get, cancel (204; 422
  ``CANNOT_CANCEL_*`` / ``INVOICE_CANCELED_ALREADY``), delete (draft or scheduled).
- Vault v3 (vault_payment_tokens_v3.json): setup tokens, payment tokens. A setup token
  for ``payment_source.paypal`` answers PAYER_ACTION_REQUIRED with a ``rel: approve``
  link to this server's own approval page (``GET /agreements/approve``, a tiny HTML page
  standing in for PayPal's login + consent): "Agree and continue" marks it APPROVED and
  redirects to the ``return_url`` with ``approval_token_id`` and ``approval_session_id``;
  "Cancel" redirects to the ``cancel_url``. Only an approved setup token becomes a
  payment token (else 422 ``PAYER_ACTION_REQUIRED`` / ``SETUP_TOKEN_NOT_TOKENIZED``; a
  second time 422 ``SETUP_TOKEN_ALREADY_TOKENIZED``).
- Orders v2 (checkout_orders_v2.json): create with ``payment_source.card.vault_id`` (+
  ``stored_credential``) or ``payment_source.paypal.vault_id`` and intent CAPTURE →
  COMPLETED order with its capture (PENDING while ``pending_captures``); 422
  ``INSTRUMENT_DECLINED``.
- Payments v2 (payments_payment_v2.json): ``GET /v2/payments/captures/{id}``,
  ``POST /v2/payments/captures/{id}/refund`` (never more than is left: 422
  ``REFUND_AMOUNT_EXCEEDED`` / ``CAPTURE_FULLY_REFUNDED``) and ``GET /v2/payments/refunds/
  {id}``. An invoice payment (``mark_paid``) is a capture too, so it can be refunded.
- ``POST /v1/notifications/verify-webhook-signature`` (notifications_webhooks_v1.json).

Errors are ``{name, message, debug_id, details[{issue, description}]}`` with a
``Paypal-Debug-Id`` header. Each client id is its own PayPal account: one account's
token sees none of another's invoices, tokens or webhooks. ``PayPal-Request-Id`` is
honoured per account and endpoint: the same id gets the first answer again and does
nothing twice.

Test controls: ``requests_received``, ``fail_next(...)``, ``decline_cards``,
``pending_captures``, ``payer_email``, ``expire_tokens()``, ``approve_setup_token()``,
``deliver_scheduled()``, ``mark_paid()``, ``settle_capture()``, ``invoice_resource()``,
``webhook_event()`` and ``capture_event()``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
import secrets
import string
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from requests.structures import CaseInsensitiveDict

MONEY_VALUE = re.compile(r"^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$")  # invoicing_v2.json money
SANDBOX_WEB = "https://www.sandbox.paypal.com"
ERROR_NAMES = {
    400: (
        "INVALID_REQUEST",
        "Request is not well-formed, syntactically incorrect, or violates schema.",
    ),
    403: ("NOT_AUTHORIZED", "Authorization failed due to insufficient permissions."),
    404: ("RESOURCE_NOT_FOUND", "The specified resource does not exist."),
    409: ("RESOURCE_CONFLICT", "The server has detected a conflict while processing this request."),
    422: (
        "UNPROCESSABLE_ENTITY",
        "The requested action could not be performed, semantically incorrect, or failed "
        "business validation.",
    ),
    429: ("RATE_LIMIT_REACHED", "Too many requests. Blocked due to rate limiting."),
    500: ("INTERNAL_SERVER_ERROR", "An internal server error has occurred."),
    502: ("BAD_GATEWAY", "Bad gateway."),
    503: ("SERVICE_UNAVAILABLE", "Service Unavailable."),
    504: ("GATEWAY_TIMEOUT", "Gateway timeout."),
}
CENT = Decimal("0.01")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _code(length: int, alphabet: str = string.ascii_uppercase + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _money(value: Decimal, currency: str) -> dict:
    return {
        "currency_code": currency,
        "value": f"{value.quantize(CENT, rounding=ROUND_HALF_UP):.2f}",
    }


def _html(status: int, page: str) -> Answer:
    return Answer(status, page, {"Content-Type": "text/html; charset=utf-8"})


def _compact(event: Any) -> bytes:
    """How the fake serializes an event it sends and hashes it when asked to verify:
    key order kept, no spaces — so the event must come back as it was sent."""
    return json.dumps(event, separators=(",", ":")).encode()


class FakeError(Exception):
    """An error answer: status and PayPal's error body."""

    def __init__(self, status: int, *issues: tuple[str, str], field: str | None = None):
        name, message = ERROR_NAMES.get(status, (f"HTTP_{status}", "Error."))
        details = [
            {"issue": issue, "description": description, **({"field": field} if field else {})}
            for issue, description in issues
        ]
        self.status = status
        self.body = {"name": name, "message": message, "details": details}
        super().__init__(f"{status} {name} {issues}")


@dataclass
class ReceivedRequest:
    method: str
    path: str
    query: dict
    headers: CaseInsensitiveDict
    body: bytes
    json: Any
    form: dict | None
    status: int | None = None  # what the fake answered
    dropped: bool = False  # answered too late ("timeout") or not at all ("disconnect")


@dataclass
class Failure:
    path_prefix: str
    status: int | str
    remaining: int
    method: str | None = None


@dataclass
class FakeAccount:
    client_id: str
    client_secret: str
    webhook_id: str


@dataclass
class SignedWebhook:
    """A webhook delivery as PayPal would POST it: the body bytes and the headers."""

    event: dict
    body: bytes
    headers: dict


@dataclass
class Answer:
    status: int
    body: Any = None  # dict → JSON; None → no body
    headers: dict | None = None


class FakePayPal:
    """State of the fake PayPal (every account on it) plus the HTTP server."""

    def __init__(
        self,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        token_lifetime: int = 32400,
        timeout_delay: float = 0.6,
    ):
        # Fresh credentials per fake: a later fake may get the same port, and our client
        # caches tokens by (base URL, client id).
        self.client_id = client_id or f"fake-{secrets.token_hex(8)}"
        self.client_secret = client_secret or secrets.token_urlsafe(24)
        self.accounts: dict[str, str] = {self.client_id: self.client_secret}
        self.token_lifetime = token_lifetime
        self.timeout_delay = timeout_delay  # a "timeout" answers after this many seconds
        self.decline_cards: bool | str = False  # True → 422; "capture" → DECLINED capture
        self.pending_captures = False  # True → captures come back PENDING (PENDING_REVIEW)
        self.payer_email = "payer@personal.example.com"  # who logs in on the approval page
        self.requests_received: list[ReceivedRequest] = []
        self.issued_tokens: list[dict] = []
        self.tokens: dict[str, dict] = {}  # access token → {client_id, expires_at}
        self.invoices: dict[str, dict] = {}
        self.deleted_invoices: dict[str, dict] = {}
        self.setup_tokens: dict[str, dict] = {}
        self.payment_tokens: dict[str, dict] = {}
        self.orders: dict[str, dict] = {}
        self.captures: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}  # refund id → refund (Payments v2)
        self.approval_sessions: dict[str, str] = {}  # approval_session_id → setup token id
        self.owners: dict[str, str] = {}  # object id → client id of the account owning it
        self.webhooks: dict[str, dict] = {}  # webhook id → {client_id, signatures}
        self.errors: list[str] = []  # tracebacks of the fake's own bugs
        self._failures: list[Failure] = []
        self._idempotent: dict[tuple, Answer] = {}
        self._invoice_numbers: dict[str, set[str]] = {}
        self._order_invoice_ids: dict[str, set[str]] = {}
        self._signing_key = secrets.token_bytes(32)
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.webhook_id = self.register_webhook()

    # --- Life -------------------------------------------------------------------------

    def start(self) -> FakePayPal:
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- Test controls ------------------------------------------------------------------

    def add_account(self) -> FakeAccount:
        """Another PayPal account (another organization's), with its own webhook."""
        account = FakeAccount(f"fake-{secrets.token_hex(8)}", secrets.token_urlsafe(24), "")
        with self._lock:
            self.accounts[account.client_id] = account.client_secret
        account.webhook_id = self.register_webhook(account.client_id)
        return account

    def register_webhook(self, client_id: str | None = None) -> str:
        webhook_id = _code(17)
        with self._lock:
            self.webhooks[webhook_id] = {
                "client_id": client_id or self.client_id,
                "signatures": {},
            }
        return webhook_id

    def fail_next(
        self,
        path_prefix: str,
        status: int | str = 500,
        times: int = 1,
        *,
        method: str | None = None,
    ) -> None:
        """The next ``times`` calls whose path starts with ``path_prefix`` fail.

        ``status``: an HTTP status (answered with PayPal's error body, nothing done);
        ``"timeout"``: the call is done (the invoice is created...) but the answer only
        comes after ``timeout_delay`` seconds, past the client's read timeout;
        ``"disconnect"``: the connection is closed without an answer, nothing done."""
        with self._lock:
            self._failures.append(Failure(path_prefix, status, times, method))

    def expire_tokens(self) -> None:
        """Every issued token stops working (as when PayPal expires one early)."""
        with self._lock:
            self.tokens.clear()

    def requests_to(self, path: str, method: str | None = None) -> list[ReceivedRequest]:
        with self._lock:
            return [
                r
                for r in self.requests_received
                if r.path == path and (method is None or r.method == method)
            ]

    def approve_setup_token(
        self,
        setup_token_id: str,
        *,
        number: str = "4111111111111111",
        expiry: str = "2030-12",
        name: str = "Test Student",
        brand: str = "VISA",
    ) -> dict:
        """What PayPal's card fields do when the payer types a card for this token."""
        with self._lock:
            token = self.setup_tokens[setup_token_id]
            token["status"] = "APPROVED"
            token["payment_source"]["card"] = {
                "last_digits": number[-4:],
                "expiry": expiry,
                "name": name,
                "brand": brand,
            }
            return copy.deepcopy(token)

    def approve_paypal_setup(self, setup_token_id: str, *, email: str | None = None) -> dict:
        """What the payer does on PayPal's approval page: log in and agree."""
        with self._lock:
            token = self.setup_tokens[setup_token_id]
            assert token["status"] == "PAYER_ACTION_REQUIRED", token["status"]
            token["status"] = "APPROVED"
            token["payment_source"]["paypal"].update(
                {
                    "email_address": email or self.payer_email,
                    "payer_id": _code(13),
                    "name": {"given_name": "Test", "surname": "Payer"},
                }
            )
            return copy.deepcopy(token)

    def settle_capture(self, capture_id: str, status: str = "COMPLETED") -> dict:
        """PayPal decides a PENDING capture: COMPLETED, or DECLINED (webhook DENIED)."""
        with self._lock:
            capture = self.captures[capture_id]
            assert capture["status"] == "PENDING", capture["status"]
            capture["status"] = status
            capture.pop("status_details", None)
            capture["update_time"] = _now()
            return copy.deepcopy(capture)

    def capture_event(
        self, event_type: str, capture_id: str, *, webhook_id: str | None = None
    ) -> SignedWebhook:
        """A signed PAYMENT.CAPTURE.* delivery whose resource is the capture as it is now."""
        with self._lock:
            capture = copy.deepcopy(self.captures[capture_id])
        return self.webhook_event(
            event_type, capture, webhook_id=webhook_id, resource_type="capture"
        )

    def deliver_scheduled(self, invoice_id: str) -> dict:
        """The invoice date of a SCHEDULED invoice has come: PayPal sends it."""
        with self._lock:
            invoice = self.invoices[invoice_id]
            assert invoice["status"] == "SCHEDULED", invoice["status"]
            invoice["status"] = "UNPAID"
            invoice["detail"]["metadata"]["first_sent_time"] = _now()
            return copy.deepcopy(invoice)

    def mark_paid(self, invoice_id: str, amount: Decimal | None = None) -> dict:
        """The payer pays (all of what is due, or ``amount``) through PayPal."""
        with self._lock:
            invoice = self.invoices[invoice_id]
            assert invoice["status"] in {"UNPAID", "SENT", "PARTIALLY_PAID"}, invoice["status"]
            currency = invoice["amount"]["currency_code"]
            due = Decimal(invoice["due_amount"]["value"])
            paid_now = due if amount is None else Decimal(amount)
            payments = invoice.setdefault("payments", {"transactions": []})
            payment_id = _code(17)
            # The payer's payment is a capture in Payments v2: it can be refunded there.
            self.captures[payment_id] = {
                "id": payment_id,
                "status": "COMPLETED",
                "amount": _money(paid_now, currency),
                "final_capture": True,
                "invoice_id": invoice["detail"].get("invoice_number", ""),
                "create_time": _now(),
                "update_time": _now(),
            }
            self.owners[payment_id] = self.owners.get(invoice_id, self.client_id)
            payments["transactions"].append(
                {
                    "type": "PAYPAL",
                    "payment_id": payment_id,
                    "payment_date": date.today().isoformat(),
                    "method": "PAYPAL",
                    "amount": _money(paid_now, currency),
                }
            )
            paid = sum(Decimal(t["amount"]["value"]) for t in payments["transactions"])
            payments["paid_amount"] = _money(paid, currency)
            invoice["due_amount"] = _money(due - paid_now, currency)
            invoice["status"] = "PAID" if due - paid_now <= 0 else "PARTIALLY_PAID"
            invoice["detail"]["metadata"]["last_update_time"] = _now()
            return copy.deepcopy(invoice)

    def invoice_resource(self, invoice_id: str, *, flat: bool = False) -> dict:
        """An invoice event's ``resource``: ``{"invoice": {...}}``, or the invoice itself
        (both occur, RECIPES)."""
        with self._lock:
            invoice = copy.deepcopy(self.invoices[invoice_id])
        return invoice if flat else {"invoice": invoice}

    def webhook_event(
        self,
        event_type: str,
        resource: dict,
        *,
        webhook_id: str | None = None,
        resource_type: str = "invoices",
        summary: str = "",
    ) -> SignedWebhook:
        """A delivery signed for ``webhook_id`` (default: the default account's).

        The signature covers transmission id, time, webhook id and a hash of the body,
        so only that webhook id verifies it, and only with the body unchanged."""
        webhook_id = webhook_id or self.webhook_id
        event_id = f"WH-{_code(17)}-{_code(17)}"
        event = {
            "id": event_id,
            "event_version": "1.0",
            "create_time": _now(),
            "resource_type": resource_type,
            "event_type": event_type,
            "summary": summary or event_type.replace(".", " ").capitalize(),
            "resource": resource,
            "links": [
                {
                    "href": f"{self.url}/v1/notifications/webhooks-events/{event_id}",
                    "rel": "self",
                    "method": "GET",
                },
                {
                    "href": f"{self.url}/v1/notifications/webhooks-events/{event_id}/resend",
                    "rel": "resend",
                    "method": "POST",
                },
            ],
        }
        body = _compact(event)
        transmission_id = str(uuid.uuid1())
        transmission_time = _now()
        signature = self._sign(transmission_id, transmission_time, webhook_id, body)
        with self._lock:
            self.webhooks[webhook_id]["signatures"][transmission_id] = signature
        headers = {
            "Content-Type": "application/json",
            "PAYPAL-AUTH-ALGO": "SHA256withRSA",
            "PAYPAL-CERT-URL": f"{self.url}/v1/notifications/certs/CERT-{_code(8).lower()}",
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-SIG": signature,
            "PAYPAL-TRANSMISSION-TIME": transmission_time,
        }
        return SignedWebhook(event=event, body=body, headers=headers)

    def _sign(self, transmission_id: str, time_: str, webhook_id: str, body: bytes) -> str:
        message = f"{transmission_id}|{time_}|{webhook_id}|{hashlib.sha256(body).hexdigest()}"
        digest = hmac.new(self._signing_key, message.encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    # --- Dispatch -----------------------------------------------------------------------

    def _take_failure(self, method: str, path: str) -> Failure | None:
        for failure in self._failures:
            if path.startswith(failure.path_prefix) and failure.method in (None, method):
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    def handle(self, request: ReceivedRequest) -> tuple[Answer, Failure | None]:
        with self._lock:
            self.requests_received.append(request)
            failure = self._take_failure(request.method, request.path)
            if failure and failure.status not in ("timeout", "disconnect"):
                error = FakeError(int(failure.status), ("INJECTED_FAILURE", "fail_next()"))
                return self._error(error), failure
            if failure and failure.status == "disconnect":
                return Answer(0), failure
            try:
                answer = self._dispatch(request)
            except FakeError as error:
                answer = self._error(error)
            except Exception:  # a bug in the fake: show it to the test
                self.errors.append(traceback.format_exc())
                answer = self._error(FakeError(500, ("FAKE_BUG", "see FakePayPal.errors")))
            return answer, failure

    def _error(self, error: FakeError) -> Answer:
        debug_id = secrets.token_hex(7)[:13]
        body = {**error.body, "debug_id": debug_id}
        return Answer(error.status, body, {"Paypal-Debug-Id": debug_id})

    def _dispatch(self, request: ReceivedRequest) -> Answer:
        method, path = request.method, request.path
        if (method, path) == ("POST", "/v1/oauth2/token"):
            return self._issue_token(request)
        if path.startswith("/agreements/approve"):  # the payer's browser, no API token
            return self._approval_page(request)
        client_id = self._authenticate(request)
        if client_id is None:
            return Answer(
                401,
                {"error": "invalid_token", "error_description": "Access Token not found in cache"},
            )
        request_id = request.headers.get("PayPal-Request-Id")
        key = (client_id, method, path, request_id)
        if request_id and key in self._idempotent:
            return self._idempotent[key]
        answer = self._route(client_id, request)
        if request_id and answer.status < 500:
            self._idempotent[key] = answer
        return answer

    def _route(self, client_id: str, request: ReceivedRequest) -> Answer:
        method, parts = request.method, request.path.strip("/").split("/")
        body = request.json if isinstance(request.json, dict) else {}
        match method, parts:
            case "POST", ["v2", "invoicing", "invoices"]:
                return self._create_invoice(client_id, body, request.headers)
            case "GET", ["v2", "invoicing", "invoices", invoice_id]:
                return Answer(200, copy.deepcopy(self._invoice(client_id, invoice_id)))
            case "DELETE", ["v2", "invoicing", "invoices", invoice_id]:
                return self._delete_invoice(client_id, invoice_id)
            case "POST", ["v2", "invoicing", "invoices", invoice_id, "send"]:
                return self._send_invoice(client_id, invoice_id)
            case "POST", ["v2", "invoicing", "invoices", invoice_id, "cancel"]:
                return self._cancel_invoice(client_id, invoice_id)
            case "POST", ["v3", "vault", "setup-tokens"]:
                return self._create_setup_token(client_id, body)
            case "POST", ["v3", "vault", "payment-tokens"]:
                return self._create_payment_token(client_id, body)
            case "POST", ["v2", "checkout", "orders"]:
                return self._create_order(client_id, body, request.headers)
            case "GET", ["v2", "checkout", "orders", order_id]:
                return Answer(200, copy.deepcopy(self._owned(self.orders, client_id, order_id)))
            case "GET", ["v2", "payments", "captures", capture_id]:
                return Answer(200, copy.deepcopy(self._owned(self.captures, client_id, capture_id)))
            case "POST", ["v2", "payments", "captures", capture_id, "refund"]:
                return self._refund_capture(client_id, capture_id, body, request.headers)
            case "GET", ["v2", "payments", "refunds", refund_id]:
                return Answer(200, copy.deepcopy(self._owned(self.refunds, client_id, refund_id)))
            case "POST", ["v1", "notifications", "verify-webhook-signature"]:
                return self._verify_webhook(client_id, body)
        # Our client called something the fake does not know: fail the test loudly.
        self.errors.append(f"No fake for {method} {request.path}")
        raise FakeError(404, ("INVALID_RESOURCE_ID", f"No fake for {method} {request.path}"))

    # --- OAuth --------------------------------------------------------------------------

    def _issue_token(self, request: ReceivedRequest) -> Answer:
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            client_id = secret = ""
        if scheme != "Basic" or self.accounts.get(client_id) != secret or not secret:
            return Answer(
                401,
                {"error": "invalid_client", "error_description": "Client Authentication failed"},
            )
        if (request.form or {}).get("grant_type") != "client_credentials":
            return Answer(
                400,
                {"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"},
            )
        token = "A21AA" + secrets.token_urlsafe(48)
        self.tokens[token] = {
            "client_id": client_id,
            "expires_at": time.monotonic() + self.token_lifetime,
        }
        self.issued_tokens.append({"client_id": client_id, "access_token": token})
        return Answer(
            200,
            {
                "scope": "https://uri.paypal.com/services/invoicing "
                "https://uri.paypal.com/services/vault/payment-tokens/readwrite "
                "https://uri.paypal.com/services/applications/webhooks",
                "access_token": token,
                "token_type": "Bearer",
                "app_id": "APP-80W284485P519543T",
                "expires_in": self.token_lifetime,
                "nonce": f"{_now()}{secrets.token_urlsafe(16)}",
            },
        )

    def _authenticate(self, request: ReceivedRequest) -> str | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        issued = self.tokens.get(token) if scheme == "Bearer" else None
        if not issued or issued["expires_at"] < time.monotonic():
            return None
        return issued["client_id"]

    # --- Invoicing v2 -------------------------------------------------------------------

    def _owned(self, store: dict, client_id: str, object_id: str) -> dict:
        if object_id not in store or self.owners.get(object_id) != client_id:
            raise FakeError(
                404, ("INVALID_RESOURCE_ID", "Requested resource ID was not found."), field="id"
            )
        return store[object_id]

    def _invoice(self, client_id: str, invoice_id: str) -> dict:
        return self._owned(self.invoices, client_id, invoice_id)

    def _amount(self, money: Any, field: str, currency: str) -> Decimal:
        if not isinstance(money, dict) or not isinstance(money.get("value"), str):
            raise FakeError(
                400, ("INVALID_PARAMETER_SYNTAX", "Amounts are decimal strings."), field=field
            )
        if not MONEY_VALUE.match(money["value"]) or money.get("currency_code") != currency:
            raise FakeError(
                400, ("INVALID_PARAMETER_SYNTAX", "Invalid amount or currency."), field=field
            )
        try:
            return Decimal(money["value"])
        except InvalidOperation as error:  # pragma: no cover - the pattern already holds
            raise FakeError(400, ("INVALID_PARAMETER_SYNTAX", str(error)), field=field) from None

    def _create_invoice(self, client_id: str, body: dict, headers) -> Answer:
        detail = copy.deepcopy(body.get("detail") or {})
        currency = detail.get("currency_code")
        if not currency:
            raise FakeError(
                400,
                ("MISSING_REQUIRED_PARAMETER", "A required field is missing."),
                field="/detail/currency_code",
            )
        items = copy.deepcopy(body.get("items") or [])
        item_total = Decimal(0)
        for index, item in enumerate(items):
            if not item.get("name") or not isinstance(item.get("quantity"), str):
                raise FakeError(
                    400,
                    ("MISSING_REQUIRED_PARAMETER", "Items need name, quantity, unit_amount."),
                    field=f"/items/{index}",
                )
            unit = self._amount(item.get("unit_amount"), f"/items/{index}/unit_amount", currency)
            item_total += unit * Decimal(item["quantity"])
            item["id"] = "ITEM-" + _code(17)
        breakdown = copy.deepcopy((body.get("amount") or {}).get("breakdown") or {})
        custom = Decimal(0)
        if "custom" in breakdown:
            label = breakdown["custom"].get("label") or ""
            if not label or len(label) > 50:
                raise FakeError(
                    400,
                    ("INVALID_STRING_MAX_LENGTH", "Label is 1 to 50 characters."),
                    field="/amount/breakdown/custom/label",
                )
            custom = self._amount(
                breakdown["custom"].get("amount"), "/amount/breakdown/custom/amount", currency
            )
        numbers = self._invoice_numbers.setdefault(client_id, set())
        number = detail.get("invoice_number") or f"{len(numbers) + 1:04d}"
        if number in numbers:
            raise FakeError(
                422,
                ("DUPLICATE_INVOICE_NUMBER", "Invoice number is already in use."),
                field="/detail/invoice_number",
            )
        numbers.add(number)
        invoice_id = "INV2-" + "-".join(_code(4) for _ in range(4))
        self_url = f"{self.url}/v2/invoicing/invoices/{invoice_id}"
        total = item_total + custom
        detail["invoice_number"] = number
        detail.setdefault("invoice_date", date.today().isoformat())
        detail["metadata"] = {
            "create_time": _now(),
            "created_by": f"{client_id}@business.example.com",
            "recipient_view_url": f"{SANDBOX_WEB}/invoice/p/#{invoice_id.replace('-', '')}",
            "invoicer_view_url": f"{SANDBOX_WEB}/invoice/details/{invoice_id}",
        }
        invoice = {
            "id": invoice_id,
            "status": "DRAFT",
            "detail": detail,
            "invoicer": {"email_address": f"{client_id}@business.example.com"},
            "primary_recipients": copy.deepcopy(body.get("primary_recipients") or []),
            "items": items,
            "configuration": {
                **copy.deepcopy(body.get("configuration") or {}),
                "template_id": "TEMP-" + _code(17),
            },
            "amount": {
                **_money(total, currency),
                "breakdown": {**breakdown, "item_total": _money(item_total, currency)},
            },
            "due_amount": _money(total, currency),
            "links": [
                {"href": self_url, "rel": "self", "method": "GET"},
                {"href": f"{self_url}/send", "rel": "send", "method": "POST"},
                {"href": self_url, "rel": "replace", "method": "PUT"},
                {"href": self_url, "rel": "delete", "method": "DELETE"},
            ],
        }
        self.invoices[invoice_id] = invoice
        self.owners[invoice_id] = client_id
        if "return=representation" in (headers.get("Prefer") or ""):
            return Answer(201, copy.deepcopy(invoice))
        return Answer(201, {"rel": "self", "href": self_url, "method": "GET"})

    def _send_invoice(self, client_id: str, invoice_id: str) -> Answer:
        invoice = self._invoice(client_id, invoice_id)
        if invoice["status"] != "DRAFT":
            raise FakeError(
                422, ("CANNOT_SEND_INVOICE", f"Invoice is {invoice['status']}, not DRAFT.")
            )
        metadata = invoice["detail"]["metadata"]
        if date.fromisoformat(invoice["detail"]["invoice_date"]) > date.today():
            invoice["status"] = "SCHEDULED"
            self_url = f"{self.url}/v2/invoicing/invoices/{invoice_id}"
            return Answer(202, {"links": [{"href": self_url, "rel": "self", "method": "GET"}]})
        invoice["status"] = "UNPAID"
        metadata["first_sent_time"] = metadata["last_sent_time"] = _now()
        return Answer(
            200, {"href": metadata["recipient_view_url"], "rel": "payer-view", "method": "GET"}
        )

    def _cancel_invoice(self, client_id: str, invoice_id: str) -> Answer:
        invoice = self._invoice(client_id, invoice_id)
        paid_refusal = (
            "CANNOT_CANCEL_PAID_INVOICE",
            "Cannot cancel a paid or partially paid invoice.",
        )
        refusals = {
            "DRAFT": ("CANNOT_CANCEL_DRAFT_INVOICE", "Draft invoice cannot be canceled."),
            "SCHEDULED": ("CANNOT_CANCEL_SCHEDULED_INVOICE", "Cannot cancel a scheduled invoice."),
            "PAID": paid_refusal,
            "PARTIALLY_PAID": paid_refusal,
            "CANCELLED": ("INVOICE_CANCELED_ALREADY", "Invoice is already cancelled."),
        }
        if invoice["status"] in refusals:
            raise FakeError(422, refusals[invoice["status"]])
        invoice["status"] = "CANCELLED"
        invoice["detail"]["metadata"]["cancel_time"] = _now()
        invoice["detail"]["metadata"]["cancelled_by"] = f"{client_id}@business.example.com"
        return Answer(204)

    def _delete_invoice(self, client_id: str, invoice_id: str) -> Answer:
        invoice = self._invoice(client_id, invoice_id)
        if invoice["status"] not in {"DRAFT", "SCHEDULED"}:
            raise FakeError(
                422, ("CANNOT_DELETE_INVOICE", "Only draft or scheduled invoices are deleted.")
            )
        self.deleted_invoices[invoice_id] = self.invoices.pop(invoice_id)
        self._invoice_numbers[client_id].discard(invoice["detail"]["invoice_number"])
        return Answer(204)

    # --- Vault v3 -----------------------------------------------------------------------

    def _create_setup_token(self, client_id: str, body: dict) -> Answer:
        paypal = (body.get("payment_source") or {}).get("paypal")
        if isinstance(paypal, dict):
            return self._create_paypal_setup_token(client_id, body, paypal)
        card = (body.get("payment_source") or {}).get("card")
        if not isinstance(card, dict):
            raise FakeError(
                400,
                ("MISSING_REQUIRED_PARAMETER", "The fake vaults cards and PayPal wallets."),
                field="/payment_source/card",
            )
        token_id = _code(17)
        customer_id = (body.get("customer") or {}).get("id") or _code(10, string.ascii_letters)
        token = {
            "id": token_id,
            "customer": {"id": customer_id},
            "status": "CREATED",
            "payment_source": {"card": {}},
            "links": [
                {
                    "rel": "self",
                    "href": f"{self.url}/v3/vault/setup-tokens/{token_id}",
                    "method": "GET",
                    "encType": "application/json",
                },
                {
                    "rel": "confirm",
                    "href": f"{self.url}/v3/vault/payment-tokens",
                    "method": "POST",
                    "encType": "application/json",
                },
            ],
        }
        if card.get("number"):  # a card sent by the server (the spec's example)
            token["status"] = "APPROVED"
            token["payment_source"]["card"] = {
                "last_digits": card["number"][-4:],
                "expiry": card.get("expiry", ""),
                "name": card.get("name", ""),
                "brand": "VISA" if card["number"].startswith("4") else "MASTERCARD",
            }
        self.setup_tokens[token_id] = token
        self.owners[token_id] = client_id
        return Answer(201, copy.deepcopy(token))

    def _create_paypal_setup_token(self, client_id: str, body: dict, paypal: dict) -> Answer:
        """Saving a PayPal wallet: the payer must approve on PayPal's page first."""
        experience = paypal.get("experience_context") or {}
        for field in ("return_url", "cancel_url"):
            url = experience.get(field)
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise FakeError(
                    400,
                    (
                        "MISSING_REQUIRED_PARAMETER",
                        f"{field} is required for PayPal wallet contingency flows.",
                    ),
                    field=f"/payment_source/paypal/experience_context/{field}",
                )
        if paypal.get("usage_type") not in {"MERCHANT", "PLATFORM"}:
            raise FakeError(
                400,
                ("INVALID_PARAMETER_VALUE", "usage_type is MERCHANT or PLATFORM."),
                field="/payment_source/paypal/usage_type",
            )
        token_id = _code(17)
        session_id = secrets.token_hex(16)
        customer_id = (body.get("customer") or {}).get("id") or _code(10, string.ascii_letters)
        approve = f"{self.url}/agreements/approve?" + urlencode({"approval_session_id": session_id})
        token = {
            "id": token_id,
            "customer": {"id": customer_id},
            "status": "PAYER_ACTION_REQUIRED",
            "payment_source": {
                "paypal": {
                    key: paypal[key]
                    for key in (
                        "description",
                        "usage_type",
                        "customer_type",
                        "permit_multiple_payment_tokens",
                    )
                    if key in paypal
                }
            },
            "links": [
                {"href": approve, "rel": "approve", "method": "GET"},
                {
                    "href": f"{self.url}/v3/vault/payment-tokens",
                    "rel": "confirm",
                    "method": "POST",
                    "encType": "application/json",
                },
                {
                    "href": f"{self.url}/v3/vault/setup-tokens/{token_id}",
                    "rel": "self",
                    "method": "GET",
                    "encType": "application/json",
                },
            ],
        }
        self.setup_tokens[token_id] = token
        self.owners[token_id] = client_id
        self.approval_sessions[session_id] = token_id
        token["_experience"] = copy.deepcopy(experience)  # kept for the approval page
        answer = copy.deepcopy(token)
        answer.pop("_experience")
        return Answer(201, answer)

    def _approval_page(self, request: ReceivedRequest) -> Answer:
        """PayPal's approval page, reduced to its decision: agree or cancel."""
        query = {key: values[0] for key, values in request.query.items()}
        fields = {**query, **(request.form or {})}
        session_id = fields.get("approval_session_id", "")
        token_id = self.approval_sessions.get(session_id)
        if token_id is None:
            return _html(404, "<h1>This approval link is not valid.</h1>")
        token = self.setup_tokens[token_id]
        experience = token["_experience"]
        back = urlencode({"approval_token_id": token_id, "approval_session_id": session_id})

        def to(url: str) -> Answer:
            return Answer(302, None, {"Location": f"{url}{'&' if '?' in url else '?'}{back}"})

        if request.path == "/agreements/approve/cancel":
            return to(experience["cancel_url"])
        if request.method == "POST" and request.path == "/agreements/approve":
            if token["status"] == "PAYER_ACTION_REQUIRED":
                self.approve_paypal_setup(token_id, email=fields.get("email") or None)
            return to(experience["return_url"])
        merchant = escape(experience.get("brand_name") or "the merchant")
        cancel = escape(
            f"/agreements/approve/cancel?{urlencode({'approval_session_id': session_id})}"
        )
        return _html(
            200,
            f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>PayPal (fake): save PayPal with {merchant}</title></head><body><main>
<h1>Save PayPal with {merchant}</h1>
<p>{merchant} will charge this PayPal account later, without asking you each time.</p>
<form method="post" action="/agreements/approve">
<input type="hidden" name="approval_session_id" value="{escape(session_id)}">
<label for="email">PayPal email</label>
<input id="email" name="email" value="{escape(self.payer_email)}">
<button type="submit">Agree and continue</button>
</form>
<p><a href="{cancel}">Cancel and return to {merchant}</a></p>
</main></body></html>""",
        )

    def _create_payment_token(self, client_id: str, body: dict) -> Answer:
        source = (body.get("payment_source") or {}).get("token") or {}
        if source.get("type") != "SETUP_TOKEN" or not source.get("id"):
            raise FakeError(
                400,
                ("INVALID_PARAMETER_VALUE", "payment_source.token needs id and type SETUP_TOKEN."),
                field="/payment_source/token",
            )
        setup = self._owned(self.setup_tokens, client_id, source["id"])
        refusals = {
            "PAYER_ACTION_REQUIRED": (
                "PAYER_ACTION_REQUIRED",
                "Please make sure setup up token is approved. Please complete the approval flow.",
            ),
            "VAULTED": (
                "SETUP_TOKEN_ALREADY_TOKENIZED",
                "The setup token has been used previously to generate a payment token.",
            ),
        }
        if setup["status"] != "APPROVED":
            raise FakeError(
                422,
                refusals.get(
                    setup["status"],
                    (
                        "SETUP_TOKEN_NOT_TOKENIZED",
                        "The payment source represented by this setup token is not vaulted.",
                    ),
                ),
            )
        setup["status"] = "VAULTED"
        vault_id = _code(8, string.ascii_lowercase + string.digits)
        token = {
            "id": vault_id,
            "customer": copy.deepcopy(setup["customer"]),
            "payment_source": copy.deepcopy(setup["payment_source"]),
            "links": [
                {
                    "rel": "self",
                    "href": f"{self.url}/v3/vault/payment-tokens/{vault_id}",
                    "method": "GET",
                    "encType": "application/json",
                },
                {
                    "rel": "delete",
                    "href": f"{self.url}/v3/vault/payment-tokens/{vault_id}",
                    "method": "DELETE",
                    "encType": "application/json",
                },
            ],
        }
        self.payment_tokens[vault_id] = token
        self.owners[vault_id] = client_id
        return Answer(201, copy.deepcopy(token))

    # --- Orders v2 ----------------------------------------------------------------------

    def _create_order(self, client_id: str, body: dict, headers) -> Answer:
        payment_source = body.get("payment_source") or {}
        kind = "paypal" if "paypal" in payment_source else "card"
        card = payment_source.get(kind) or {}
        if not headers.get("PayPal-Request-Id"):
            raise FakeError(
                400,
                ("PAYPAL_REQUEST_ID_REQUIRED", "A PayPal-Request-Id is required."),
                field="PayPal-Request-Id",
            )
        if body.get("intent") != "CAPTURE":
            raise FakeError(422, ("UNSUPPORTED_INTENT", "The fake captures only."), field="/intent")
        units = body.get("purchase_units") or []
        if len(units) != 1:
            raise FakeError(
                422,
                (
                    "MERCHANT_INITIATED_WITH_MULTIPLE_PURCHASE_UNITS",
                    "Merchant-initiated charges take one purchase unit.",
                ),
            )
        unit = copy.deepcopy(units[0])
        currency = (unit.get("amount") or {}).get("currency_code", "")
        gross = self._amount(unit.get("amount"), "/purchase_units/0/amount", currency)
        stored = card.get("stored_credential") or {}
        if (
            card.get("vault_id") not in self.payment_tokens
            or self.owners.get(card.get("vault_id")) != client_id
            or kind not in self.payment_tokens[card["vault_id"]]["payment_source"]
        ):
            raise FakeError(
                422,
                ("PAYMENT_SOURCE_CANNOT_BE_USED", f"The vault_id is not a vaulted {kind}."),
                field=f"/payment_source/{kind}/vault_id",
            )
        if kind == "card" and (
            stored.get("payment_initiator") not in {"CUSTOMER", "MERCHANT"}
            or stored.get("payment_type") not in {"ONE_TIME", "RECURRING", "UNSCHEDULED"}
        ):
            raise FakeError(
                400,
                ("INVALID_PARAMETER_VALUE", "stored_credential is incomplete."),
                field="/payment_source/card/stored_credential",
            )
        if self.decline_cards is True:
            raise FakeError(
                422,
                (
                    "INSTRUMENT_DECLINED",
                    "The instrument presented  was either declined by the processor or bank, "
                    "or it can't be used for this payment.",
                ),
            )
        invoice_ids = self._order_invoice_ids.setdefault(client_id, set())
        if unit.get("invoice_id"):
            if unit["invoice_id"] in invoice_ids:
                raise FakeError(
                    422,
                    ("DUPLICATE_INVOICE_ID", "Duplicate Invoice ID detected."),
                    field="/purchase_units/0/invoice_id",
                )
            invoice_ids.add(unit["invoice_id"])
        vaulted = self.payment_tokens[card["vault_id"]]["payment_source"][kind]
        order_id = _code(17)
        declined = self.decline_cards == "capture"
        fee = (gross * Decimal("0.0299") + Decimal("0.49")).quantize(CENT, ROUND_HALF_UP)
        capture_status = "DECLINED" if declined else "COMPLETED"
        if self.pending_captures and not declined:
            capture_status = "PENDING"
        capture = {
            "id": _code(17),
            "status": capture_status,
            "amount": _money(gross, currency),
            "final_capture": True,
            "custom_id": unit.get("custom_id", ""),
            "seller_protection": {"status": "NOT_ELIGIBLE"},
            "seller_receivable_breakdown": {
                "gross_amount": _money(gross, currency),
                "paypal_fee": _money(fee, currency),
                "net_amount": _money(gross - fee, currency),
            },
            "processor_response": {
                "avs_code": "Y",
                "cvv_code": "S",
                "response_code": "0500" if declined else "0000",
            },
            "create_time": _now(),
            "update_time": _now(),
        }
        if capture_status == "PENDING":
            capture["status_details"] = {"reason": "PENDING_REVIEW"}
        if unit.get("invoice_id"):
            capture["invoice_id"] = unit["invoice_id"]
        capture["links"] = [
            {
                "href": f"{self.url}/v2/payments/captures/{capture['id']}",
                "rel": "self",
                "method": "GET",
            }
        ]
        self.captures[capture["id"]] = capture
        self.owners[capture["id"]] = client_id
        unit.setdefault("reference_id", "default")
        unit["payments"] = {"captures": [capture]}  # the same object: settling shows here too
        if kind == "paypal":
            source = {
                "paypal": {
                    "email_address": vaulted.get("email_address", ""),
                    "account_id": vaulted.get("payer_id", ""),
                    "account_status": "VERIFIED",
                    "name": copy.deepcopy(vaulted.get("name") or {}),
                    "attributes": {"vault": {"id": card["vault_id"], "status": "VAULTED"}},
                }
            }
        else:
            source = {
                "card": {
                    "last_digits": vaulted.get("last_digits", ""),
                    "brand": vaulted.get("brand", ""),
                    "type": "CREDIT",
                    "expiry": vaulted.get("expiry", ""),
                    "stored_credential": copy.deepcopy(stored),
                }
            }
        order = {
            "id": order_id,
            "status": "COMPLETED",
            "intent": "CAPTURE",
            "payment_source": source,
            "purchase_units": [unit],
            "create_time": _now(),
            "update_time": _now(),
            "links": [
                {
                    "href": f"{self.url}/v2/checkout/orders/{order_id}",
                    "rel": "self",
                    "method": "GET",
                }
            ],
        }
        self.orders[order_id] = order
        self.owners[order_id] = client_id
        if "return=representation" in (headers.get("Prefer") or ""):
            return Answer(201, copy.deepcopy(order))
        return Answer(201, {key: order[key] for key in ("id", "status", "links")})

    # --- Payments v2: refunds -------------------------------------------------------------

    def refunded_total(self, capture_id: str) -> Decimal:
        """What has been refunded of a capture so far."""
        with self._lock:
            return sum(
                (
                    Decimal(r["amount"]["value"])
                    for r in self.refunds.values()
                    if r["_capture_id"] == capture_id
                ),
                Decimal("0.00"),
            )

    def _refund_capture(self, client_id: str, capture_id: str, body: dict, headers) -> Answer:
        """``POST /v2/payments/captures/{id}/refund`` (payments_payment_v2.json): the
        amount (or, without one, what is left) comes back; more than is left is 422
        REFUND_AMOUNT_EXCEEDED, a capture refunded in full 422 CAPTURE_FULLY_REFUNDED."""
        capture = self._owned(self.captures, client_id, capture_id)
        if capture["status"] not in {"COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"}:
            raise FakeError(422, ("PENDING_CAPTURE", "The capture is not completed."))
        currency = capture["amount"]["currency_code"]
        captured = Decimal(capture["amount"]["value"])
        left = captured - self.refunded_total(capture_id)
        if left <= 0:
            raise FakeError(
                422, ("CAPTURE_FULLY_REFUNDED", "The capture has already been fully refunded.")
            )
        amount = self._amount(body["amount"], "/amount", currency) if body.get("amount") else left
        if amount <= 0:
            raise FakeError(
                422, ("CANNOT_BE_ZERO_OR_NEGATIVE", "Must be greater than zero."), field="/amount"
            )
        if amount > left:
            raise FakeError(
                422,
                (
                    "REFUND_AMOUNT_EXCEEDED",
                    "The refund amount must be less than or equal to the capture amount "
                    "that has not yet been refunded.",
                ),
                field="/amount/value",
            )
        refund_id = _code(17)
        refund = {
            "id": refund_id,
            "status": "COMPLETED",
            "amount": _money(amount, currency),
            "note_to_payer": body.get("note_to_payer", ""),
            "invoice_id": body.get("invoice_id", ""),
            "seller_payable_breakdown": {
                "gross_amount": _money(amount, currency),
                "net_amount": _money(amount, currency),
                "total_refunded_amount": _money(captured - left + amount, currency),
            },
            "create_time": _now(),
            "update_time": _now(),
            "links": [
                {
                    "href": f"{self.url}/v2/payments/refunds/{refund_id}",
                    "rel": "self",
                    "method": "GET",
                },
                {
                    "href": f"{self.url}/v2/payments/captures/{capture_id}",
                    "rel": "up",
                    "method": "GET",
                },
            ],
            "_capture_id": capture_id,
        }
        self.refunds[refund_id] = refund
        self.owners[refund_id] = client_id
        capture["status"] = "REFUNDED" if amount == left else "PARTIALLY_REFUNDED"
        capture["update_time"] = _now()
        answer = {key: value for key, value in refund.items() if not key.startswith("_")}
        if "return=representation" in (headers.get("Prefer") or ""):
            return Answer(201, answer)
        return Answer(201, {key: answer[key] for key in ("id", "status", "links")})

    # --- Webhooks -----------------------------------------------------------------------

    def _verify_webhook(self, client_id: str, body: dict) -> Answer:
        fields = (
            "auth_algo",
            "cert_url",
            "transmission_id",
            "transmission_sig",
            "transmission_time",
            "webhook_id",
        )
        missing = [name for name in (*fields, "webhook_event") if not body.get(name)]
        if missing:
            raise FakeError(
                400, ("MISSING_REQUIRED_PARAMETER", "Required field is missing."), field=missing[0]
            )
        webhook = self.webhooks.get(body["webhook_id"])
        expected = self._sign(
            body["transmission_id"],
            body["transmission_time"],
            body["webhook_id"],
            _compact(body["webhook_event"]),
        )
        verified = (
            webhook is not None
            and webhook["client_id"] == client_id
            and webhook["signatures"].get(body["transmission_id"]) == body["transmission_sig"]
            and hmac.compare_digest(expected, body["transmission_sig"])
        )
        return Answer(200, {"verification_status": "SUCCESS" if verified else "FAILURE"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakePayPal):
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else each answer waits ~40 ms for a delayed ACK
    timeout = 5  # idle keep-alive connections close after this
    server: _Server

    def do_GET(self):  # noqa: N802
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, format, *args):  # quiet
        pass

    def _serve(self) -> None:
        fake = self.server.fake
        split = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = CaseInsensitiveDict(self.headers.items())
        parsed = form = None
        if "application/x-www-form-urlencoded" in headers.get("Content-Type", ""):
            form = {key: values[0] for key, values in parse_qs(raw.decode()).items()}
        elif raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
        request = ReceivedRequest(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query),
            headers=headers,
            body=raw,
            json=parsed,
            form=form,
        )
        answer, failure = fake.handle(request)
        request.status = answer.status
        if failure and failure.status == "disconnect":
            request.dropped = True
            self.close_connection = True
            return
        if failure and failure.status == "timeout":
            request.dropped = True
            fake._stopping.wait(fake.timeout_delay)
        if isinstance(answer.body, str):  # the approval page, for the payer's browser
            payload = answer.body.encode()
        else:
            payload = json.dumps(answer.body).encode() if answer.body is not None else b""
        try:
            self.send_response(answer.status)
            if payload and "Content-Type" not in (answer.headers or {}):
                self.send_header("Content-Type", "application/json")
            for name, value in (answer.headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            if request.dropped:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
            self.close_connection = True
