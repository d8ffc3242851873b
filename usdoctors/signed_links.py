"""Signed links for people without an account: the school contact (DESIGN §10).

A link carries its organization, its rotation, its purpose and a random nonce, signed
with ``django.core.signing`` under a salt per purpose (a payment-confirmation token is
never accepted as a document-upload token, nor the reverse) and with an absolute expiry
inside the signed payload. Reading one checks, in order: the signature (a tampered or
truncated token is invalid), the purpose, the organization of the host it is opened on
(another organization's link is invalid here), the rotation in the URL when the caller
names one, and the expiry.

Links that record a decision are single-use: ``use_link()`` writes a ``UsedLink`` row
keyed by (organization, nonce) in the same transaction as the decision, so a second use
— even a concurrent one — fails on the unique key, and rolls the decision back.

Every refusal is a ``LinkError`` with a reason and words for a person; ``link_error_page``
renders them as a 4xx page (never a 500), and nothing is changed.

Purposes in use: ``school_payment`` (payments.school: confirm or refuse paying for a
student's rotation, single-use) and ``school_documents`` (documents: upload the
school-issued documents, §7).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

SCHOOL_PAYMENT = "school_payment"
SCHOOL_DOCUMENTS = "school_documents"
PURPOSES = frozenset({SCHOOL_PAYMENT, SCHOOL_DOCUMENTS})

# However far away the expiry a caller asks for, a token older than this is refused.
MAX_AGE_SECONDS = 400 * 24 * 3600

INVALID = "invalid"
EXPIRED = "expired"
USED = "used"
REASONS = {
    INVALID: (
        400,
        "This link is not valid",
        "This link is not valid here. Check that you opened the whole link from the "
        "email, on the address it was sent for. Nothing was changed.",
    ),
    EXPIRED: (
        410,
        "This link has expired",
        "This link has expired. Nothing was changed; contact the organization if you "
        "still need to act on this rotation.",
    ),
    USED: (
        409,
        "This link was already used",
        "This link was already used, and its answer is recorded. Nothing was changed.",
    ),
}


class LinkError(Exception):
    """A link that cannot be acted on: ``reason`` is invalid, expired or used."""

    def __init__(self, reason: str, message: str = ""):
        status, title, default = REASONS[reason]
        super().__init__(message or default)
        self.reason = reason
        self.status = status
        self.title = title
        self.message = message or default


@dataclass(frozen=True)
class SignedLink:
    organization_id: int
    rotation_id: int
    purpose: str
    nonce: str
    expires_at: int  # seconds since the epoch

    @property
    def expires(self) -> datetime:
        from django.utils import timezone

        return datetime.fromtimestamp(self.expires_at, tz=timezone.get_current_timezone())


def _salt(purpose: str) -> str:
    if purpose not in PURPOSES:
        raise ValueError(f"Unknown signed link purpose {purpose!r}.")
    return f"usdoctors.signed_links.{purpose}"


def make_token(organization, rotation_id: int, purpose: str, *, expires: datetime) -> str:
    """A signed token for ``purpose`` on ``rotation_id`` of ``organization``, good until
    ``expires`` (an aware datetime)."""
    if expires.tzinfo is None:
        raise ValueError("expires must be an aware datetime")
    payload = {
        "o": organization.pk,
        "r": int(rotation_id),
        "p": purpose,
        "n": secrets.token_urlsafe(12),
        "e": int(expires.timestamp()),
    }
    return signing.dumps(payload, salt=_salt(purpose), compress=True)


def read_token(token: str, purpose: str, organization, *, rotation_id: int | None = None):
    """The link ``token`` stands for, opened on ``organization``'s host, or LinkError.

    Does not check single use: a page may show what the link is about before the
    decision is posted (``is_used`` tells whether to show it)."""
    try:
        payload = signing.loads(token, salt=_salt(purpose), max_age=MAX_AGE_SECONDS)
    except signing.SignatureExpired as error:
        raise LinkError(EXPIRED) from error
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise LinkError(INVALID) from error
    try:
        link = SignedLink(
            organization_id=int(payload["o"]),
            rotation_id=int(payload["r"]),
            purpose=str(payload["p"]),
            nonce=str(payload["n"]),
            expires_at=int(payload["e"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise LinkError(INVALID) from error
    if link.purpose != purpose or organization is None or link.organization_id != organization.pk:
        raise LinkError(INVALID)
    if rotation_id is not None and link.rotation_id != rotation_id:
        raise LinkError(INVALID)
    if time.time() >= link.expires_at:
        raise LinkError(EXPIRED)
    return link


def _used_key(link: SignedLink, part: str) -> str:
    return f"{link.nonce}:{part}" if part else link.nonce


def is_used(link: SignedLink, *, part: str = "") -> bool:
    from usdoctors.models import UsedLink

    return UsedLink.objects.filter(
        organization_id=link.organization_id, nonce=_used_key(link, part)
    ).exists()


def use_link(link: SignedLink, *, part: str = "") -> None:
    """Record that ``link`` was used; call it inside the decision's transaction, first.
    A second use raises LinkError(used), which rolls the caller's transaction back.
    ``part`` makes a link single-use per part (the school's document link: once per
    document type) instead of once in all."""
    from usdoctors.models import UsedLink

    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("use_link() runs inside the transaction that records the decision.")
    try:
        with transaction.atomic():  # a savepoint: the caller sees LinkError, not a broken txn
            UsedLink.objects.create(
                organization_id=link.organization_id,
                nonce=_used_key(link, part),
                purpose=link.purpose,
                rotation_id=link.rotation_id,
            )
    except IntegrityError as error:
        raise LinkError(USED) from error


def link_error_page(request: HttpRequest, error: LinkError) -> HttpResponse:
    """The clear page for a link that cannot be acted on (4xx, never 500)."""
    return render(
        request,
        "errors/link.html",
        {"title": error.title, "message": error.message, "reason": error.reason},
        status=error.status,
    )
