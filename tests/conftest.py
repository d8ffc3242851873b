"""Shared fixtures. Every test module gets two organizations with data in both, so a
missing tenant filter fails a test instead of passing silently (STYLE §3)."""

import re
import shutil

import pytest
import redis
from django.conf import settings as django_settings
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


def redis_urls() -> set[str]:
    """Where this process's broker and cache keys live (the same Redis unless the
    environment points the broker elsewhere)."""
    urls = {django_settings.CELERY_BROKER_URL}
    cache = django_settings.CACHES["default"]
    if cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        urls.add(cache["LOCATION"])
    return urls


def delete_keys_with_prefix(client, prefix: str) -> int:
    """Delete the keys starting with ``prefix`` (SCAN, never KEYS or FLUSHDB): a Redis
    database is shared with other test runs and other workers of this one."""
    if not prefix:
        raise ValueError("Refusing to delete every key: give a prefix.")
    pattern = re.sub(r"([\\*?\[\]])", r"\\\1", prefix) + "*"
    deleted = 0
    batch: list = []
    for key in client.scan_iter(match=pattern, count=1000):
        batch.append(key)
        if len(batch) == 1000:
            deleted += client.delete(*batch)
            batch = []
    if batch:
        deleted += client.delete(*batch)
    return deleted


def delete_this_process_keys() -> int:
    """Remove every broker and cache key of this process's namespace."""
    deleted = 0
    for url in redis_urls():
        with redis.Redis.from_url(url) as client:
            deleted += delete_keys_with_prefix(client, django_settings.TEST_REDIS_PREFIX)
    return deleted


@pytest.fixture(scope="session", autouse=True)
def _private_redis_namespace():
    """Start from an empty namespace and leave none behind: tasks queued by committed
    transactions (or left by an earlier run that had this process id) would otherwise
    wait there for any worker that comes along. Only this process's keys: other runs
    and other xdist workers share the Redis database."""
    delete_this_process_keys()
    yield
    delete_this_process_keys()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache, as if alone: sign-in counters are per client
    address, so one test's wrong passwords from 127.0.0.1 (schemathesis sends hundreds)
    would lock a later test's browser out of signing in."""
    cache = django_settings.CACHES["default"]
    if cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        with redis.Redis.from_url(cache["LOCATION"]) as client:
            delete_keys_with_prefix(client, f"{cache['KEY_PREFIX']}:")
    else:
        from django.core.cache import cache as local_cache

        local_cache.clear()  # a local-memory cache belongs to this process alone


@pytest.fixture(scope="session", autouse=True)
def _private_var_dir():
    """Uploaded files (CVs, documents) and static files go to this process's temporary
    folder (tests/settings.py), removed when the session ends."""
    yield
    shutil.rmtree(django_settings.TEST_VAR_DIR, ignore_errors=True)


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
def api(client_for):
    """``api(membership)`` → a client whose ``post``/``get``/``put``/``patch``/``delete``
    send JSON on the membership's organization host (or ``host=``)."""

    class JsonClient:
        def __init__(self, membership, host=None):
            self.client = client_for(membership, host=host)

        def get(self, path, params=None):
            return self.client.get(path, params or {})

        def post(self, path, body=None):
            return self.client.post(path, body or {}, content_type="application/json")

        def put(self, path, body=None):
            return self.client.put(path, body or {}, content_type="application/json")

        def patch(self, path, body=None):
            return self.client.patch(path, body or {}, content_type="application/json")

        def delete(self, path):
            return self.client.delete(path)

    return JsonClient


@pytest.fixture
def pdf():
    return pdf_upload


@pytest.fixture
def big_file():
    return lambda size=10 * 1024 * 1024 + 1: SimpleUploadedFile(
        "big.pdf", b"%PDF-1.4\n" + b"0" * size, content_type="application/pdf"
    )
