"""Browser plumbing shared by every app: role checks and a few site-wide pages."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static

from usdoctors.tenancy import current_membership

ROLE_NAMES = {"student": "students", "attending": "attendings", "admin": "admins"}


def member_required(*roles: str):
    """Signed-in members of this organization only; ``roles`` narrows further.

    Not signed in → login page; not a member here → 404 (another tenant's page does
    not exist for you), whose page says so and offers to join this organization as a
    student (platform staff: the way to the staff page), never a bare 404 (DESIGN §3);
    a member with another role → 403 naming who may.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = current_membership(request)
            if membership is None:
                return render(request, "errors/not_a_member.html", status=404)
            if roles and membership.role not in roles:
                allowed = " and ".join(ROLE_NAMES[role] for role in roles)
                raise PermissionDenied(f"This page is for {allowed}.")
            request.membership = membership
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def home(request):
    """Visitors see what the organization offers; members go to their dashboard, and a
    signed-in user who is not a member here to the page offering to join (accounts)."""
    if request.user.is_authenticated:
        return redirect("dashboard" if current_membership(request) else "join_organization")
    return render(request, "home.html")


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says: send them to the static SVG
    (base.html links it), so no page logs a 404 for it."""
    return redirect(static("favicon.svg"), permanent=True)
