"""Absolute links to an organization's site, for emails written outside a request."""

from django.conf import settings


def organization_url(organization, path: str = "/") -> str:
    """``<scheme>://<slug>.<SITE_DOMAIN>[:port]<path>`` (DESIGN §2)."""
    port = f":{settings.SITE_PORT}" if settings.SITE_PORT else ""
    return f"{settings.SITE_SCHEME}://{organization.slug}.{settings.SITE_DOMAIN}{port}{path}"
