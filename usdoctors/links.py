"""Absolute links to an organization's site, for emails and pages (DESIGN §2).

What a link's scheme, host and port are:

- While a request is answered (``TenantMiddleware`` wraps each in ``request_origin``),
  links to the request's own organization use the address the user is on: its scheme,
  host and port, so a site run on any port (``runserver 8001``) or a custom domain links
  back to itself. Links to another organization use ``<slug>.<SITE_DOMAIN>`` with the
  request's scheme and port: one deployment serves every organization on one port.
- Outside a request (Celery tasks, the beat sweeps, commands) the settings decide:
  ``SITE_SCHEME://<slug>.<SITE_DOMAIN>[:SITE_PORT]``. ``SITE_PORT`` defaults to 8000 on
  localhost (``make run`` sets it to the port it serves, ``PORT``) and to none elsewhere.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.http.request import split_domain_port


@dataclass(frozen=True)
class Origin:
    organization_id: int
    scheme: str
    host: str  # with its port, as the browser sent it
    port: str


_request_origin: ContextVar[Origin | None] = ContextVar("request_origin", default=None)


@contextmanager
def request_origin(request, organization):
    """Links written while answering ``request`` (of ``organization``'s site) point where
    the user is: its scheme, host and port."""
    host = request.get_host()
    _domain, port = split_domain_port(host)
    token = _request_origin.set(
        Origin(organization_id=organization.pk, scheme=request.scheme, host=host, port=port)
    )
    try:
        yield
    finally:
        _request_origin.reset(token)


def organization_url(organization, path: str = "/") -> str:
    """``<scheme>://<host>[:port]<path>`` of ``organization``'s site (module docstring)."""
    origin = _request_origin.get()
    if origin is not None and origin.organization_id == organization.pk:
        return f"{origin.scheme}://{origin.host}{path}"
    if origin is not None:
        scheme, port = origin.scheme, origin.port
    else:
        scheme, port = settings.SITE_SCHEME, settings.SITE_PORT
    port = f":{port}" if port else ""
    return f"{scheme}://{organization.slug}.{settings.SITE_DOMAIN}{port}{path}"
