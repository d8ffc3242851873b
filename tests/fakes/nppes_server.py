"""A fake NPPES NPI registry for tests: a real HTTP server on 127.0.0.1, in a thread,
served by the fake PayPal's server and handler (tests/fakes/paypal_server.py).

It answers ``GET /api/?version=2.1&number=<npi>`` as CMS's registry API does:
``{"result_count": 1, "results": [{"number", "enumeration_type", "basic": {first_name,
last_name, credential, status, ...}, "taxonomies": [{code, desc, primary, state,
license}], ...}]}`` for a provider it knows (``add_provider``), ``{"result_count": 0,
"results": []}`` for a number it does not, and ``{"Errors": [{description, field,
number}]}`` (HTTP 200, as the registry does) without a version or a 10-digit number.

Test controls: ``requests_received``; ``fail_next(status, times)`` answers the next
calls with that HTTP status (e.g. 503); ``stop()`` makes it unreachable.
"""

from __future__ import annotations

import threading
import traceback

from tests.fakes.paypal_server import Answer, Failure, ReceivedRequest, _Server


class FakeNppes:
    def __init__(self):
        self.providers: dict[str, dict] = {}
        self.requests_received: list[ReceivedRequest] = []
        self.errors: list[str] = []  # tracebacks of the fake's own bugs
        self.timeout_delay = 0.0  # the shared handler reads it
        self._failures: list[Failure] = []
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- Life -------------------------------------------------------------------------

    def start(self) -> FakeNppes:
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread:
            self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        """The API's base URL, as ``NPPES_BASE_URL`` takes it."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/"

    # --- Test controls ------------------------------------------------------------------

    def add_provider(
        self,
        npi: str,
        *,
        first_name: str,
        last_name: str,
        credential: str = "M.D.",
        taxonomies: list[tuple[str, str]] = (("207R00000X", "Internal Medicine"),),
        enumeration_type: str = "NPI-1",
        status: str = "A",
        state: str = "TX",
    ) -> dict:
        """Register an individual provider; the first taxonomy is the primary one."""
        record = {
            "created_epoch": "1137974400000",
            "enumeration_type": enumeration_type,
            "last_updated_epoch": "1406160000000",
            "number": npi,
            "addresses": [
                {
                    "country_code": "US",
                    "country_name": "United States",
                    "address_purpose": "LOCATION",
                    "address_type": "DOM",
                    "address_1": "1 MAIN ST",
                    "city": "HOUSTON",
                    "state": state,
                    "postal_code": "770301234",
                    "telephone_number": "713-555-0100",
                }
            ],
            "practiceLocations": [],
            "basic": {
                "first_name": first_name.upper(),
                "last_name": last_name.upper(),
                "credential": credential,
                "sole_proprietor": "NO",
                "sex": "F",
                "enumeration_date": "2006-01-23",
                "last_updated": "2014-07-28",
                "status": status,
                "name_prefix": "Dr.",
            },
            "taxonomies": [
                {
                    "code": code,
                    "taxonomy_group": "",
                    "desc": desc,
                    "state": state,
                    "license": "Q1234",
                    "primary": index == 0,
                }
                for index, (code, desc) in enumerate(taxonomies)
            ],
            "identifiers": [],
            "endpoints": [],
            "other_names": [],
        }
        with self._lock:
            self.providers[npi] = record
        return record

    def fail_next(self, status: int | str = 503, times: int = 1) -> None:
        with self._lock:
            self._failures.append(Failure("/", status, times))

    # --- Answers ------------------------------------------------------------------------

    def handle(self, request: ReceivedRequest) -> tuple[Answer, Failure | None]:
        with self._lock:
            self.requests_received.append(request)
            if self._failures:
                failure = self._failures[0]
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.pop(0)
                return Answer(int(failure.status), {"message": "Service Unavailable"}), None
            try:
                return self._answer(request), None
            except Exception:
                self.errors.append(traceback.format_exc())
                return Answer(500, {"message": "fake bug"}), None

    def _answer(self, request: ReceivedRequest) -> Answer:
        if request.method != "GET" or request.path.rstrip("/") != "/api":
            return Answer(404, {"message": "Not found"})
        version = (request.query.get("version") or [""])[0]
        number = (request.query.get("number") or [""])[0]
        if version != "2.1":
            return Answer(200, {"Errors": [{"description": "Invalid version", "field": "version"}]})
        if not (len(number) == 10 and number.isdigit()):
            return Answer(
                200,
                {
                    "Errors": [
                        {
                            "description": "Field number requires 10 digits",
                            "field": "number",
                            "number": "02",
                        }
                    ]
                },
            )
        record = self.providers.get(number)
        if record is None:
            return Answer(200, {"result_count": 0, "results": []})
        return Answer(200, {"result_count": 1, "results": [record]})
