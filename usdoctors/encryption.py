"""Secrets encrypted at rest (DESIGN §6: an organization's PayPal secret).

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) with the key(s) in the
``PAYMENT_SECRETS_KEY`` setting, read from the environment. Several comma-separated
keys rotate: the first encrypts, every one decrypts. Without a key, DEBUG runs use a
fixed development key; anything else refuses to encrypt or decrypt (a setting error,
raised where a secret is used, so sites without PayPal credentials keep running).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Only ever used when DEBUG is on and no key is set (``make run``).
DEVELOPMENT_KEY = base64.urlsafe_b64encode(
    hashlib.sha256(b"usdoctors-development-payment-secrets").digest()
).decode()


class SecretUnreadable(Exception):
    """A stored secret does not decrypt with the configured keys (rotated away?)."""


def _fernet() -> MultiFernet:
    configured = [key.strip() for key in settings.PAYMENT_SECRETS_KEY.split(",") if key.strip()]
    if not configured:
        if not settings.DEBUG:
            raise ImproperlyConfigured(
                "PAYMENT_SECRETS_KEY is not set: payment secrets cannot be stored or read. "
                "Generate one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`."
            )
        configured = [DEVELOPMENT_KEY]
    try:
        return MultiFernet([Fernet(key) for key in configured])
    except ValueError as error:
        raise ImproperlyConfigured(f"PAYMENT_SECRETS_KEY is not a Fernet key: {error}") from None


def encrypt(plaintext: str) -> str:
    """The ciphertext to store (empty stays empty)."""
    if not plaintext:
        return ""
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    if not ciphertext:
        return ""
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "A stored secret does not decrypt with PAYMENT_SECRETS_KEY; set it again."
        ) from None
