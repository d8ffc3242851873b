"""Test settings: real PostgreSQL and Redis on localhost (DEVELOPERS: never mock our own
database or queue). Override with TEST_DATABASE_URL / TEST_REDIS_URL.

Every pytest process (each pytest-xdist worker imports this module itself) gets its own
test database, its own Redis namespace (broker and cache keys under ``TEST_REDIS_PREFIX``)
and its own temporary folder for uploads and static files, so parallel workers and
parallel runs on one machine never see each other's rows, tasks, counters or files.
tests/conftest.py deletes the namespace's keys and the folder when the session ends."""

import atexit
import os
import shutil
import tempfile

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# Broker keys ("<prefix>celery:...") and cache keys ("<prefix>cache:...") of this process.
TEST_REDIS_PREFIX = f"usdoctors-test-{os.getpid()}:"
# Always a fresh folder: a worker inherits the controller's environment, so setdefault
# would hand every worker the same one.
TEST_VAR_DIR = tempfile.mkdtemp(prefix=f"usdoctors-test-{os.getpid()}-")
# Removed when the process exits, however the session ended (the session fixture in
# tests/conftest.py removes it too, in case a worker is torn down without atexit).
atexit.register(shutil.rmtree, TEST_VAR_DIR, ignore_errors=True)

os.environ.setdefault(
    "DATABASE_URL",
    os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/usdoctors"),
)
os.environ.setdefault("CELERY_BROKER_URL", TEST_REDIS_URL)
os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key")
# A Fernet key for the organizations' PayPal secrets (tests only).
os.environ.setdefault("PAYMENT_SECRETS_KEY", "dGVzdHMtb25seS1wYXltZW50LXNlY3JldHMta2V5ISE=")
os.environ["USDOCTORS_VAR_DIR"] = TEST_VAR_DIR
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop + ORM in tests

from usdoctors.settings import *  # noqa: E402,F403

DEBUG = False
SECRET_KEY = "tests-only-secret-key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
EMAIL_FILE_PATH = str(VAR_DIR / "emails")  # noqa: F405
# Uploads (CVs, documents) land in this process's temporary folder, never where a
# PRIVATE_FILES_ROOT from the environment points.
STORAGES["default"] = {  # noqa: F405
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": str(VAR_DIR / "private")},  # noqa: F405
}
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
STATIC_URL = "/static/"
# The sign-in limits are the production ones (accounts.login_limits tests them); allauth's
# other per-address limits would only make many tests from 127.0.0.1 collide.
ACCOUNT_RATE_LIMITS = {
    **{action: None for action in ("signup", "login", "confirm_email", "reset_password")},
    "login_failed": ACCOUNT_RATE_LIMITS["login_failed"],  # noqa: F405
}
CELERY_TASK_ALWAYS_EAGER = False
INPROCESS_BEAT = False
SITE_PORT = ""
WHITENOISE_USE_FINDERS = True
# Never the real registry from tests: the discard port refuses at once; tests that check
# NPIs point this at the fake registry (tests/fakes/nppes_server.py).
NPPES_BASE_URL = "http://127.0.0.1:9/api/"
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = VAR_DIR / "static"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# One test database per pytest process, so parallel runs on one machine never collide.
DATABASES["default"]["TEST"] = {"NAME": f"test_usdoctors_{os.getpid()}"}  # noqa: F405
# Celery's Redis transport puts every key it writes (queues, bindings, unacked messages)
# under this process's prefix; the real-worker tests in tests/notifications consume from it.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
    "global_keyprefix": f"{TEST_REDIS_PREFIX}celery:",
}
# The shared store, as in production: sign-in rate-limit counters must live in Redis.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": TEST_REDIS_URL,
        "KEY_PREFIX": f"{TEST_REDIS_PREFIX}cache",
        "KEY_FUNCTION": "usdoctors.tenancy.cache_key",
    }
}
