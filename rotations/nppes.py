"""Our small client of the public NPPES NPI registry over ``requests`` (DESIGN §15).

CMS's registry API answers ``GET <base>?version=2.1&number=<npi>`` with JSON, no
credentials needed:

    {"result_count": 1,
     "results": [{"number": "1234567893", "enumeration_type": "NPI-1",
                  "basic": {"first_name": "JANE", "last_name": "SMITH",
                            "credential": "M.D.", "status": "A", ...},
                  "taxonomies": [{"code": "207R00000X", "desc": "Internal Medicine",
                                  "primary": true, "state": "TX", "license": "..."}],
                  ...}]}

An unknown number answers ``{"result_count": 0, "results": []}``; a malformed request
answers 200 with ``{"Errors": [{"description": ..., "field": ..., "number": ...}]}``.
Both are answers (the caller judges them); ``RegistryUnreachable`` is raised only
when there is no usable answer at all: no connection, a timeout, an HTTP error status,
or a body that is not the registry's JSON. Retried a few times with a short pause.

The base URL is the setting ``NPPES_BASE_URL`` (tests point it at a fake registry). Like
payments.paypal, the client refuses to run inside a database transaction: a slow
registry must never hold a transaction or its row locks open.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import requests
from django.conf import settings

from usdoctors.external import refuse_inside_transaction

logger = logging.getLogger(__name__)

API_VERSION = "2.1"
DEFAULT_TIMEOUT = (3.05, 10)  # (connect, read) seconds
ATTEMPTS = 3
RETRY_DELAY = 0.5  # seconds, doubled after each failed attempt


class RegistryUnreachable(Exception):
    """The registry gave no usable answer after every attempt (``detail`` says why)."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


def lookup(
    npi: str,
    *,
    base_url: str | None = None,
    timeout=DEFAULT_TIMEOUT,
    attempts: int | None = None,
    retry_delay: float | None = None,
    session: requests.Session | None = None,
) -> dict[str, Any]:
    """The registry's JSON answer for ``npi`` (a dict with ``result_count`` and
    ``results``, or with ``Errors``); ``RegistryUnreachable`` when there is none."""
    refuse_inside_transaction("The NPPES registry", "DESIGN §15")
    url = base_url or settings.NPPES_BASE_URL
    params = {"version": API_VERSION, "number": npi}
    http = session or requests
    attempts = ATTEMPTS if attempts is None else attempts
    retry_delay = RETRY_DELAY if retry_delay is None else retry_delay
    detail = ""
    for attempt in range(attempts):
        if attempt:
            time.sleep(retry_delay * 2 ** (attempt - 1))
        try:
            response = http.get(
                url, params=params, timeout=timeout, headers={"Accept": "application/json"}
            )
        except requests.RequestException as error:
            detail = f"no answer ({error.__class__.__name__})"
            continue
        if response.status_code != 200:
            detail = f"HTTP {response.status_code}"
            if response.status_code < 500 and response.status_code != 429:
                break  # the registry refused us: asking again will not help
            continue
        try:
            body = response.json()
        except ValueError:
            detail = "an answer that is not JSON"
            continue
        if isinstance(body, dict) and ("results" in body or "Errors" in body):
            return body
        detail = "an answer without results"
    logger.warning("NPPES registry unreachable for NPI %s: %s", npi, detail)
    raise RegistryUnreachable(detail)
