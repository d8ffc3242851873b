"""Browser plumbing shared by every app: role checks and a few site-wide pages."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render

from usdoctors.tenancy import current_membership

ROLE_NAMES = {"student": "students", "attending": "attendings", "admin": "admins"}


def member_required(*roles: str):
    """Signed-in members of this organization only; ``roles`` narrows further.

    Not signed in → login page; not a member here → 404 (another tenant's page does
    not exist for you); a member with another role → 403 naming who may.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = current_membership(request)
            if membership is None:
                raise Http404("You are not a member of this organization.")
            if roles and membership.role not in roles:
                allowed = " and ".join(ROLE_NAMES[role] for role in roles)
                raise PermissionDenied(f"This page is for {allowed}.")
            request.membership = membership
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def home(request):
    if request.user.is_authenticated and current_membership(request):
        return redirect("dashboard")
    return render(request, "home.html")


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
