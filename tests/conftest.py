"""Shared fixtures. Every test module gets two organizations with data in both, so a
missing tenant filter fails a test instead of passing silently (STYLE §3)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_scopes import scopes_disabled

from tests import factories

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def pdf_upload(name="cv.pdf", content=MINIMAL_PDF, content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture(scope="session", autouse=True)
def _empty_test_broker():
    """Start from an empty test broker: tasks queued by an earlier run's committed
    transactions would otherwise wait there for any worker that comes along."""
    from usdoctors.celery import app

    with app.connection_for_write() as connection:
        connection.default_channel.client.flushdb()
    yield


@pytest.fixture
def org(db):
    with scopes_disabled():
        return factories.OrganizationFactory(slug="demo", name="Demo Rotations")


@pytest.fixture
def other_org(db):
    with scopes_disabled():
        return factories.OrganizationFactory(slug="northside", name="Northside Program")


@pytest.fixture
def world(org, other_org):
    """Both organizations populated: an admin, an attending and students in each."""
    with scopes_disabled():
        data = {}
        for key, organization in (("demo", org), ("northside", other_org)):
            data[key] = {
                "org": organization,
                "admin": factories.MembershipFactory(organization=organization, role="admin"),
                "attending": factories.MembershipFactory(
                    organization=organization, role="attending"
                ),
                "student": factories.StudentFactory(organization=organization),
                "pending": factories.StudentFactory(organization=organization, pending=True),
            }
        return data


@pytest.fixture
def demo(world):
    return world["demo"]


@pytest.fixture
def northside(world):
    return world["northside"]


def host_of(organization) -> str:
    return f"{organization.slug}.localhost"


@pytest.fixture
def client_for():
    """A Django test client signed in as ``membership`` on its organization's host
    (or on ``host`` when given, to knock on another tenant's door)."""

    def make(membership=None, host=None):
        organization = membership.organization if membership else None
        client = Client(HTTP_HOST=host or (host_of(organization) if organization else "localhost"))
        if membership is not None:
            client.force_login(membership.user)
        return client

    return make


@pytest.fixture
def pdf():
    return pdf_upload


@pytest.fixture
def big_file():
    return lambda size=10 * 1024 * 1024 + 1: SimpleUploadedFile(
        "big.pdf", b"%PDF-1.4\n" + b"0" * size, content_type="application/pdf"
    )
