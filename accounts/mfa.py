"""Two-factor sign-in (issue 10): allauth's own MFA (TOTP + recovery codes) is open to
everyone under ``/accounts/2fa/``; admins and platform staff must have it.

The rule (``usdoctors.two_factor``): a user who is platform staff, or an admin of the
request's organization, and has no authenticator app yet reaches nothing but the
two-factor setup pages, signing in and out (with the reauthentication the setup page
asks for), the password pages, email confirmation links and static files. Pages
redirect to the authenticator activation page with a message saying why; ``/api/``
answers 403 ``{"detail": ..., "code": "mfa_required"}``. Token-authenticated API
clients are checked in ``usdoctors.api.HasRole`` instead, since DRF authenticates them
inside the view.

Blocking every page rather than a list of admin pages keeps the rule true as admin
pages are added: an admin's dashboard, tickets and rotation pages all carry admin
powers.
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from usdoctors.http_errors import json_error
from usdoctors.tenancy import current_membership
from usdoctors.two_factor import (
    MFA_REQUIRED_CODE,
    missing_second_factor_message,
    second_factor_missing,
)

# Still open to a user who must set up a second factor first.
OPEN_PREFIXES = (
    "/accounts/2fa/",
    "/accounts/login/",
    "/accounts/logout/",
    "/accounts/reauthenticate/",
    "/accounts/password/",
    "/accounts/confirm-email/",
    "/static/",
    "/favicon.ico",
    "/healthz",
)


class RequireSecondFactorMiddleware:
    """Send admins and staff without an authenticator app to set one up.

    Sits after ``TenantMiddleware``: whether someone is an admin depends on the
    organization the host names (``/admin/`` has none, so only staff count there).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(OPEN_PREFIXES) or not request.user.is_authenticated:
            return self.get_response(request)
        if not second_factor_missing(request, current_membership(request)):
            return self.get_response(request)
        message = missing_second_factor_message(request.user)
        if request.path.startswith("/api/"):
            return json_error(403, message, MFA_REQUIRED_CODE)
        messages.warning(request, message)
        if request.headers.get("HX-Request"):
            # htmx would swap the activation page into a fragment: load it whole instead.
            response = HttpResponse(status=204)
            response["HX-Redirect"] = reverse("mfa_activate_totp")
            return response
        return redirect("mfa_activate_totp")
