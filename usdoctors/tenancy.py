"""Tenancy (DESIGN §2): one organization per request host, one scoping mechanism.

Every tenant-owned model inherits ``TenantModel``: a non-null ``organization`` and
django-scopes' ``ScopedManager``, so a query outside an active scope raises instead of
quietly returning every tenant's rows. ``TenantMiddleware`` resolves the host and runs
the view inside ``scope(organization=...)``; Celery tasks take the organization id and
re-enter the scope with ``organization_scope``. Cross-tenant code says so with
``scopes_disabled()``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.http import HttpRequest, HttpResponseNotFound
from django.http.request import split_domain_port
from django.template.loader import render_to_string
from django_scopes import ScopedManager, get_scope, scope, scopes_disabled

from usdoctors.links import request_origin

logger = logging.getLogger(__name__)
T = TypeVar("T")


class TenantModel(models.Model):
    """A row owned by one organization. Unique constraints must include it."""

    organization = models.ForeignKey(
        "usdoctors.Organization", on_delete=models.CASCADE, related_name="+"
    )

    objects = ScopedManager(organization="organization")

    class Meta:
        abstract = True


def organization_for_host(host: str):
    """The organization a request host names, or None (DESIGN §2).

    ``<slug>.<SITE_DOMAIN>`` and ``<slug>.localhost`` name a slug; localhost and
    127.0.0.1 name the default organization; anything else must be a custom domain.
    """
    from usdoctors.models import Organization

    host, _port = split_domain_port(host)
    if host in settings.LOCAL_HOSTS or host == "::1":
        return Organization.objects.filter(slug=settings.DEFAULT_ORGANIZATION).first()
    for suffix in {f".{settings.SITE_DOMAIN}", ".localhost"}:
        if host.endswith(suffix):
            slug = host[: -len(suffix)]
            if slug and "." not in slug:
                return Organization.objects.filter(slug=slug).first()
    return Organization.objects.filter(domains__domain=host).first()


UNKNOWN_ORGANIZATION = "No organization at this address."

# Paths that are not any one organization's: the platform staff console and assets.
UNSCOPED_PREFIXES = ("/admin/", "/static/", "/favicon.ico")


class TenantMiddleware:
    """Resolve the organization from the host and run the view inside its scope (links
    written meanwhile point at the address the request came to: ``usdoctors.links``).

    Unknown hosts get a 404 page. ``/admin/`` is the platform staff's cross-tenant
    console: it runs with scopes explicitly disabled and only superusers may enter.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.path.startswith(UNSCOPED_PREFIXES):
            request.organization = None
            with scopes_disabled():
                return self.get_response(request)
        organization = organization_for_host(request.get_host())
        if organization is None or not organization.is_active:
            from usdoctors.http_errors import is_api_request, json_error

            if is_api_request(request):
                return json_error(404, UNKNOWN_ORGANIZATION, "unknown_organization")
            return HttpResponseNotFound(
                render_to_string("errors/unknown_organization.html", request=request)
            )
        request.organization = organization
        with scope(organization=organization), request_origin(request, organization):
            return self.get_response(request)


# Memberships are accounts' model, and the kernel sits below accounts (STYLE §1): accounts
# hands the kernel its lookup in AccountsConfig.ready() instead of the kernel importing it.
MembershipLookup = Callable[[Any, Any], Any]  # (organization, user) -> Membership | None
_membership_lookup: MembershipLookup | None = None


def register_membership_lookup(lookup: MembershipLookup) -> None:
    """Called once by accounts at start-up: how to find a user's membership."""
    global _membership_lookup
    _membership_lookup = lookup


def current_membership(request: HttpRequest):
    """The signed-in user's membership in the request's organization, or None.

    Read on demand (not in middleware) because DRF authenticates token clients
    inside the view. Cached per request and user.
    """
    user = getattr(request, "user", None)
    organization = getattr(request, "organization", None)
    if organization is None or user is None or not user.is_authenticated:
        return None
    cached = getattr(request, "_membership_cache", None)
    if cached is not None and cached[0] == user.pk:
        return cached[1]
    if _membership_lookup is None:
        raise ImproperlyConfigured(
            "No membership lookup registered: accounts registers it in AccountsConfig.ready()."
        )
    membership = _membership_lookup(organization, user)
    request._membership_cache = (user.pk, membership)
    return membership


@contextmanager
def organization_scope(organization_id: int):
    """Enter one organization's scope from a task or command that only has its id."""
    from usdoctors.models import Organization

    with scopes_disabled():
        organization = Organization.objects.get(pk=organization_id)
    with scope(organization=organization):
        yield organization


def active_organizations():
    """All active organizations: the one deliberate cross-tenant read sweeps start from."""
    from usdoctors.models import Organization

    with scopes_disabled():
        return list(Organization.objects.filter(is_active=True).order_by("pk"))


def sweep_each_organization(sweep: Callable[[Any], T]) -> list[T]:
    """Run ``sweep(organization)`` for each active organization inside its scope: how
    periodic sweeps fan out. One organization's error is logged and never stops the
    others' sweeps (DESIGN §9); the results of those that finished are returned."""
    results = []
    for organization in active_organizations():
        try:
            with organization_scope(organization.pk) as scoped:
                results.append(sweep(scoped))
        except Exception:
            logger.exception(
                "Sweep %s failed for organization %s (id %s); the other organizations go on.",
                getattr(sweep, "__qualname__", sweep),
                organization.slug,
                organization.pk,
            )
    return results


# Keys about global things, shared by every organization's site and the API: sign-in
# rate-limit counts guard accounts (users are global) and client addresses, and a used
# two-factor code must not work again on another organization's site.
GLOBAL_CACHE_KEYS = ("allauth:rl:", "allauth.mfa.totp.used")


def cache_key(key: str, key_prefix: str, version: int) -> str:
    """Cache keys carry the active organization, so tenants never share an entry
    (except the few ``GLOBAL_CACHE_KEYS``)."""
    if key.startswith(GLOBAL_CACHE_KEYS):
        return f"{key_prefix}:{version}:global:{key}"
    organization = (get_scope() or {}).get("organization")
    tenant = getattr(organization, "pk", organization) or "-"
    return f"{key_prefix}:{version}:org{tenant}:{key}"


def tenant_context(request: HttpRequest) -> dict:
    """Template context: the organization and the visitor's membership."""
    return {
        "organization": getattr(request, "organization", None),
        "membership": current_membership(request),
    }
