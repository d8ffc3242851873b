"""Password guessing is limited per account and per client address (hardening, §12).

The counting is django-allauth's own ``login_failed`` rate limit (settings
``ACCOUNT_RATE_LIMITS``), kept in Django's cache, which is Redis in the full stack so
every web process shares one count. The login page and ``POST /api/v1/auth/token`` both
authenticate through allauth's adapter, so they draw on the same counts: once an account
or an address is out of attempts, every try is refused — the right password too — with
429 and ``Retry-After`` until the oldest failure leaves the window.
"""

from __future__ import annotations

import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import get_adapter
from allauth.core import ratelimit
from allauth.core.internal.ratelimit import get_cache_key, parse_rates
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.core.cache import cache
from django.core.exceptions import ValidationError

from usdoctors.errors import Invalid

TOO_MANY_ATTEMPTS = "too_many_login_attempts"
ACTION = "login_failed"


class TooManyLoginAttempts(Exception):
    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after

    @property
    def message(self) -> str:
        return too_many_attempts_message(self.retry_after)


def too_many_attempts_message(retry_after: int) -> str:
    minutes = max(1, -(-retry_after // 60))
    return (
        "Too many failed sign-in attempts. For your safety, signing in is paused for "
        f"{minutes} minute{'s' if minutes != 1 else ''}; then try again, or reset your password."
    )


def attempts_key(email: str) -> str:
    """The per-account key: the email alone, so every organization's site and the API
    count against the same account (users are global, §2)."""
    return email.strip().lower()


def retry_after_seconds(request, email: str) -> int:
    """Seconds until an attempt for ``email`` from this address would be counted again."""
    now = time.time()
    wait = 0.0
    for rate in parse_rates(account_settings.RATE_LIMITS.get(ACTION)):
        key = get_cache_key(
            request, app="allauth.account", action=ACTION, rate=rate, key=attempts_key(email)
        )
        history = [stamp for stamp in cache.get(key, []) if stamp > now - rate.duration]
        if len(history) >= rate.amount:
            # Newest first: the window reopens when the amount-th newest attempt expires.
            wait = max(wait, history[rate.amount - 1] + rate.duration - now)
    return max(1, int(wait + 0.999))


def authenticate(request, *, email: str, password: str):
    """The user these credentials name, or None; raises TooManyLoginAttempts when the
    account or address has no attempts left (DRF's request works as ``request``)."""
    try:
        return get_adapter(request).authenticate(request, email=email, password=password)
    except ValidationError as error:
        if error.code == TOO_MANY_ATTEMPTS:
            raise TooManyLoginAttempts(retry_after_seconds(request, email)) from error
        raise


def verify_second_factor(request, user, code: str) -> None:
    """A user with an authenticator app signs in to the API with its current code too,
    as on the login page. A wrong code counts as a failed attempt."""
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is None:
        return
    if not code:
        raise Invalid(
            "This account uses two-factor sign-in: send the 6-digit code from your "
            "authenticator app as `code`.",
            code="mfa_code_required",
            field="code",
        )
    if not TOTP(authenticator).validate_code(code):
        if not ratelimit.consume(request, action=ACTION, key=attempts_key(user.email)):
            raise TooManyLoginAttempts(retry_after_seconds(request, user.email))
        raise Invalid(
            "That code is not right, or was already used. Try the current code.",
            code="invalid_mfa_code",
            field="code",
        )
