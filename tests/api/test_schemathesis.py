"""Schemathesis over the whole OpenAPI schema (DESIGN §12).

Every operation is called with generated input as a verified student, as an
organization admin, anonymously and with a token that does not exist, on the demo
organization's host, with rows in both organizations. Each response must not be a
server error, must have a status code, content type and body the schema documents for
that operation, and must be JSON: errors as ``{"detail": str, "code": str}``, a 401
with ``WWW-Authenticate``. Path ids are sometimes real ones (of this organization or
the other), so the calls reach past the 404 too.

The run is bounded: the examples and fuzzing phases with ``max_examples`` per
operation and role, and no coverage phase (it sends every boundary case the schema
allows, several thousand calls per role, without a bound).
"""

from datetime import timedelta

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.utils import timezone
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.config import SchemathesisConfig

from accounts.models import StudentProfile, SupportTicket
from documents.models import Document, DocumentType
from documents.uploads import upload_document
from lor.models import Letter
from rotations.models import AttendingProfile, AvailabilityWeek, DateChange, Message, Rotation
from tests import factories
from tests.conftest import host_of, pdf_upload
from usdoctors.wsgi import application

# schemathesis 4.32 reads and rewrites the running test's ``_nodeid`` to name the operation
# in reports; pytest 9.2 keeps the id elsewhere (``_id``). Reading falls back to the
# node id and renaming is skipped: reports still name each operation in their subtest.
if not hasattr(pytest.Function, "_nodeid"):
    pytest.Function._nodeid = property(lambda node: node.nodeid, lambda node, value: None)

CONFIG = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
EXAMPLES = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)


@schemathesis.check
def json_on_every_response(ctx, response, case):
    """Every answer under /api/ is JSON; an error is ``{"detail": str, "code": str}``."""
    if response.status_code == 204:  # No Content: no body to be JSON
        return None
    if response.status_code == 200 and case.operation.path == "/api/v1/documents/{id}/file":
        return None  # the document's bytes (PDF, PNG or JPEG, as the schema says)
    content_type = (response.headers.get("content-type") or [""])[0]
    assert content_type.split(";")[0].strip() == "application/json", (
        f"{response.status_code} answered with Content-Type {content_type!r}, not JSON"
    )
    body = response.json()
    if response.status_code >= 400:
        assert isinstance(body, dict), f"error body is not an object: {body!r}"
        assert isinstance(body.get("detail"), str), f"error body has no detail: {body!r}"
        assert isinstance(body.get("code"), str), f"error body has no code: {body!r}"
    return None


@schemathesis.check
def unauthorized_names_the_scheme(ctx, response, case):
    """No or bad credentials: 401 with ``WWW-Authenticate`` (§12)."""
    if response.status_code == 401:
        assert response.headers.get("www-authenticate"), "401 without WWW-Authenticate"
    return None


CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    json_on_every_response,
    unauthorized_names_the_scheme,
]


@pytest.fixture
def api_world(world):
    """The ``world`` of both organizations, plus in each: an attending profile with
    published weeks, a requested and an approved rotation (with an open date change
    and a message), two tickets (one an email change) and the student's TB report."""
    with scopes_disabled():
        for data in world.values():
            organization = data["org"]
            attending = factories.AttendingProfileFactory(
                organization=organization, membership=data["attending"]
            )
            weeks = factories.publish(attending, factories.next_monday(2), 8)
            for week in weeks[4:6]:
                week.booked = 1
                week.save(update_fields=["booked"])
            factories.RotationFactory(attending=attending, student=data["student"])
            approved = factories.RotationFactory(
                attending=attending,
                student=data["student"],
                start=factories.next_monday(6),
                status="approved",
            )
            DateChange.objects.create(
                organization=organization,
                rotation=approved,
                proposed_start=approved.start + timedelta(weeks=1),
                proposed_by=data["student"],
            )
            Message.objects.create(
                organization=organization,
                rotation=approved,
                author=data["student"],
                body="When should I arrive?",
            )
            for category, new_email in (
                ("email_change", "new.address@example.test"),
                ("general", ""),
            ):
                SupportTicket.objects.create(
                    organization=organization,
                    author=data["student"],
                    category=category,
                    subject="Help",
                    message="Please help.",
                    new_email=new_email,
                )
            # Letters (§8): a requested one from a completed rotation with the attending,
            # and another writer of a completed rotation the student has not asked yet.
            factories.LetterFactory(
                rotation=factories.completed_rotation(attending=attending, student=data["student"])
            )
            factories.completed_rotation(
                attending=factories.AttendingProfileFactory(organization=organization),
                student=data["student"],
            )
            upload_document(
                data["student"],
                DocumentType.objects.get(code="tb_test_immunizations"),
                pdf_upload("tb.pdf"),
                issued_on=timezone.localdate() - timedelta(days=30),
            )
            data["token"] = {
                role: Token.objects.create(user=data[role].user).key
                for role in ("student", "admin")
            }
    return world


def _ids(model) -> list[int]:
    with scopes_disabled():
        return list(model.objects.order_by("pk").values_list("pk", flat=True))


@pytest.fixture
def wsgi_app():
    """The project's WSGI application, kept from closing the test's database connection
    at the end of each request (Django's test client does the same)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield application
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(api_world, wsgi_app):
    demo = api_world["demo"]
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", wsgi_app, config=CONFIG, headers={"Host": host_of(demo["org"])}
    )
    real_ids = {
        "/admin/profiles/": _ids(StudentProfile),
        "/students/": _ids(StudentProfile),
        "/attendings/": _ids(AttendingProfile),
        "/availability/": _ids(AvailabilityWeek),
        "/rotations/": _ids(Rotation),
        "/date-changes/": _ids(DateChange),
        "/tickets/": _ids(SupportTicket),
        "/documents/": _ids(Document),
        "/letters/": _ids(Letter),
    }

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        """Half of the time the path's id is a real row's, of either organization."""
        path = context.operation.path
        ids = next((ids for prefix, ids in real_ids.items() if prefix in path), None)
        if not ids or "id" not in path_parameters:
            return st.just(path_parameters)
        return st.one_of(
            st.just(path_parameters),
            st.sampled_from(ids).map(lambda pk: {**path_parameters, "id": pk}),
        )

    @schema.hook
    def flatmap_body(context, body):
        """POST /auth/token sometimes gets a member's real email and password."""
        if context.operation.path != "/api/v1/auth/token":
            return st.just(body)
        members = [demo[role].user.email for role in ("student", "admin", "pending")]
        real = st.sampled_from(members).map(
            lambda email: {"email": email, "password": factories.PASSWORD}
        )
        return st.one_of(st.just(body), real)

    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


def _call(case, world, token=None):
    headers = {"Authorization": f"Token {token}"} if token else {}
    case.call_and_validate(
        base_url=f"http://{host_of(world['demo']['org'])}",
        headers=headers,
        checks=CHECKS,
        # Werkzeug's client sends no client address; every WSGI server does, and the
        # sign-in limits count attempts per address.
        environ_overrides={"REMOTE_ADDR": "127.0.0.1"},
    )


@pytest.mark.django_db
@EXAMPLES
@schema.parametrize()
def test_api_as_verified_student(case, api_world):
    _call(case, api_world, api_world["demo"]["token"]["student"])


@pytest.mark.django_db
@EXAMPLES
@schema.parametrize()
def test_api_as_organization_admin(case, api_world):
    _call(case, api_world, api_world["demo"]["token"]["admin"])


@pytest.mark.django_db
@settings(EXAMPLES, max_examples=3)
@schema.parametrize()
def test_api_without_valid_credentials(case, api_world):
    _call(case, api_world)
    _call(case, api_world, token="0" * 40)  # no such token
