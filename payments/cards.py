"""The student's card on file (school payers, DESIGN §6): what payments.school charges
when the school refuses or does not answer.

- Simulated gateway (local runs, §11): ``save_simulated_card`` saves a test card at once.
- PayPal, without JavaScript (our pages load nothing from PayPal): ``start_paypal_account``
  asks PayPal for a setup token for the payer's PayPal account; the browser goes to
  PayPal's approval page (``CardOnFile.approve_url``), where the payer logs in and picks
  what pays — a card in their wallet or their balance — and PayPal sends them back to
  our return page with ``approval_token_id`` (the setup token's id).
- PayPal's card fields (API clients that embed PayPal's JS SDK): ``start_paypal_card``
  gives them a card setup token to approve there.
- Either way ``finish_paypal_card`` exchanges the approved setup token for the vault's
  payment token and makes it the one active card: once. An unknown setup token, another
  student's or another organization's (tenant scope), or one already finished, is
  refused with 409 and changes nothing.

No PayPal call happens inside a transaction (§6): each write here is its own short one.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from django.db import transaction

from payments.gateways import PayPalGateway, gateway_for
from payments.models import CardOnFile, CardSource, CardStatus
from payments.paypal import PayPalClient, PayPalError
from usdoctors.errors import Conflict


def active_card(student) -> CardOnFile | None:
    return CardOnFile.objects.filter(student=student, status=CardStatus.ACTIVE).first()


def gateway_name(organization) -> str:
    """``paypal`` or ``simulated``: payments.gateways decides (credentials complete?)."""
    return gateway_for(organization).name


def paypal_client_for(organization) -> PayPalClient:
    """The organization's own PayPal account (payments.gateways builds the client). The
    gateway interface has no vault calls, so cards and school charges use its client."""
    gateway = gateway_for(organization)
    if not isinstance(gateway, PayPalGateway):
        raise Conflict("This organization does not take cards through PayPal.", code="no_paypal")
    return gateway.client


def paypal_web_origin(organization) -> str:
    """The origin of PayPal's pages for this organization's account (live or sandbox),
    where the card page's form may send the browser: its Content-Security-Policy
    ``form-action`` must name it, or the browser refuses to follow the redirect to the
    approval page. An API base URL that is not PayPal's (a local fake) serves its own."""
    base = urlsplit(paypal_client_for(organization).base_url)
    host = base.hostname or ""
    if host == "paypal.com" or host.endswith(".paypal.com"):
        return "https://www.sandbox.paypal.com" if "sandbox" in host else "https://www.paypal.com"
    return f"{base.scheme}://{base.netloc}"


def approve_url(card: CardOnFile) -> str:
    """Where the payer approves this setup on PayPal (its HATEOAS link ``rel: approve``),
    or "" when PayPal gave none (card-fields setups)."""
    for link in card.gateway_answer.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == "approve":
            return str(link.get("href") or "")
    return ""


def save_simulated_card(student) -> CardOnFile:
    """The simulated gateway's vault: a test card, active at once (local runs, §11)."""
    with transaction.atomic():
        CardOnFile.objects.filter(student=student, status=CardStatus.ACTIVE).update(
            status=CardStatus.REMOVED
        )
        return CardOnFile.objects.create(
            organization=student.organization,
            student=student,
            status=CardStatus.ACTIVE,
            payment_token_id=f"SIM-{secrets.token_hex(10)}",
            brand="TEST CARD",
            last4="4242",
            gateway_answer={"simulated": True},
        )


def _start(student, source: str, ask) -> CardOnFile:
    """A pending row first (its id is the PayPal-Request-Id), then PayPal's setup token."""
    card = CardOnFile.objects.create(
        organization=student.organization, student=student, source=source
    )
    try:
        answer = ask(paypal_client_for(student.organization), f"card-{card.pk}-setup")
    except PayPalError as error:
        card.status = CardStatus.FAILED
        card.gateway_answer = error.body or {"error": str(error)}
        card.save(update_fields=["status", "gateway_answer"])
        raise Conflict(
            "PayPal could not start saving a card; try again.", code="paypal_error"
        ) from error
    card.setup_token_id = str(answer.get("id", ""))[:64]
    card.gateway_answer = dict(answer)
    card.save(update_fields=["setup_token_id", "gateway_answer"])
    return card


def start_paypal_card(student, *, return_url: str = "", cancel_url: str = "") -> CardOnFile:
    """Card fields: ask PayPal for a card setup token; the student types the card into
    PayPal's card fields with its id (PayPal's UI, never our pages)."""
    return _start(
        student,
        CardSource.CARD,
        lambda client, request_id: client.create_setup_token(
            request_id, return_url=return_url, cancel_url=cancel_url
        ),
    )


def start_paypal_account(student, *, return_url: str, cancel_url: str) -> CardOnFile:
    """The redirect flow: a setup token for the payer's PayPal account. PayPal answers
    PAYER_ACTION_REQUIRED with the approval page (``approve_url``); the payer comes back
    to ``return_url`` (then ``finish_paypal_card``) or to ``cancel_url`` (nothing saved).
    The page shows the organization's name as the merchant."""
    card = _start(
        student,
        CardSource.PAYPAL,
        lambda client, request_id: client.create_paypal_setup_token(
            request_id,
            return_url=return_url,
            cancel_url=cancel_url,
            brand_name=student.organization.name,
        ),
    )
    if not approve_url(card):
        card.status = CardStatus.FAILED
        card.save(update_fields=["status"])
        raise Conflict(
            "PayPal did not give an approval page for saving your PayPal account; try again.",
            code="paypal_error",
        )
    return card


def _details(answer) -> dict:
    """What identifies the vaulted source to a person, from the payment token: a card's
    brand and last digits, or a PayPal account's email."""
    payment_source = answer.get("payment_source") or {}
    if isinstance(payment_source.get("paypal"), dict):
        paypal = payment_source["paypal"]
        return {
            "source": CardSource.PAYPAL,
            "brand": "PayPal",
            "last4": "",
            "paypal_email": str(paypal.get("email_address", ""))[:254],
        }
    card = payment_source.get("card") or {}
    return {
        "source": CardSource.CARD,
        "brand": str(card.get("brand", ""))[:32],
        "last4": str(card.get("last_digits", ""))[:4],
        "paypal_email": "",
    }


def finish_paypal_card(student, setup_token_id: str) -> CardOnFile:
    """The student approved the setup token (PayPal's approval page or card fields):
    exchange it for a payment token (the vault id charges use) and make it the active
    card, replacing any other. Once: a setup token that is unknown here (another
    student's, another organization's) or already finished is refused (409), and a
    PayPal refusal (not approved) leaves the setup pending; nothing changes either way."""
    setup_token_id = (setup_token_id or "").strip()
    card = (
        CardOnFile.objects.filter(student=student, setup_token_id=setup_token_id).first()
        if setup_token_id
        else None
    )
    if card is None:
        raise Conflict(
            "This card setup is unknown or already finished. Nothing was changed.",
            code="unknown_setup",
        )
    if card.status != CardStatus.PENDING:
        raise Conflict(
            "This card setup is already finished; nothing was changed. "
            "The card page shows what is on file.",
            code="setup_finished",
        )
    try:
        answer = paypal_client_for(student.organization).create_payment_token(
            f"card-{card.pk}-token", setup_token_id
        )
    except PayPalError as error:
        raise Conflict(
            "PayPal did not accept this card. Check it was approved, or try another card.",
            code="card_not_saved",
        ) from error
    with transaction.atomic():
        card = CardOnFile.objects.select_for_update().get(pk=card.pk)
        if card.status != CardStatus.PENDING:
            # Two returns at once: PayPal answered both with the same token (same
            # request id); the first one made it active.
            if card.status == CardStatus.ACTIVE and card.payment_token_id == answer.get("id"):
                return card
            raise Conflict(
                "This card setup is already finished; nothing was changed.",
                code="setup_finished",
            )
        CardOnFile.objects.filter(student=student, status=CardStatus.ACTIVE).update(
            status=CardStatus.REMOVED
        )
        for field, value in _details(answer).items():
            setattr(card, field, value)
        card.status = CardStatus.ACTIVE
        card.payment_token_id = answer["id"]
        card.gateway_answer = dict(answer)
        card.save()
    return card
