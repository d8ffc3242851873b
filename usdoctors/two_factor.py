"""Who must sign in with a second factor (issue 10): the rule, in one place.

Organization admins see passports and record money, and platform staff reach every
organization from ``/admin/``: both must have an authenticator app (allauth's TOTP)
before any page or API call. Everyone else may turn it on and is never forced.

The pages enforce it in ``accounts.mfa.RequireSecondFactorMiddleware``; API clients
that sign in with a token are only known inside the view, so ``usdoctors.api.HasRole``
asks the same question there.
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator

MFA_REQUIRED_CODE = "mfa_required"


def second_factor_required(user, membership=None) -> bool:
    """Platform staff always; otherwise an admin of the request's organization."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return membership is not None and membership.role == "admin"


def has_second_factor(user) -> bool:
    """An authenticator app is set up (recovery codes alone are not a second factor)."""
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def second_factor_missing(request, membership=None) -> bool:
    """True when the signed-in user must have a second factor and has none yet.

    Cached on the request per user, since pages and the API may both ask.
    """
    user = getattr(request, "user", None)
    if not second_factor_required(user, membership):
        return False
    cached = getattr(request, "_second_factor_cache", None)
    if cached is not None and cached[0] == user.pk:
        return not cached[1]
    present = has_second_factor(user)
    request._second_factor_cache = (user.pk, present)
    return not present


def missing_second_factor_message(user) -> str:
    who = "Platform staff accounts" if user.is_staff or user.is_superuser else "Admins"
    return (
        f"{who} must use two-factor sign-in: they can see students' passports and "
        "record payments. Set up an authenticator app to continue."
    )
