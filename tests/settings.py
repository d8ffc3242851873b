"""Test settings: real PostgreSQL and Redis on localhost (DEVELOPERS: never mock our own
database or queue). Override with TEST_DATABASE_URL / TEST_REDIS_URL."""

import os

os.environ.setdefault(
    "DATABASE_URL",
    os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/usdoctors"),
)
os.environ.setdefault(
    "CELERY_BROKER_URL", os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
)
os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key")
os.environ.setdefault("USDOCTORS_VAR_DIR", "/tmp/usdoctors-test-var")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop + ORM in tests

from usdoctors.settings import *  # noqa: E402,F403

DEBUG = False
SECRET_KEY = "tests-only-secret-key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
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
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = VAR_DIR / "static"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# One test database per pytest process, so parallel runs on one machine never collide.
DATABASES["default"]["TEST"] = {"NAME": f"test_usdoctors_{os.getpid()}"}  # noqa: F405
