"""Settings, all read from the environment (the README has the table).

With nothing set the platform runs on one machine with only Python: SQLite,
background jobs executed in-process, emails written to ``var/emails/``,
simulated payments.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("USDOCTORS_VAR_DIR", BASE_DIR / "var"))


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DJANGO_DEBUG", False)
DEVELOPMENT_SECRET_KEY = "insecure-local-development-key-change-me-in-production"
SECRET_KEY = env("DJANGO_SECRET_KEY", DEVELOPMENT_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    # Sessions, password resets and signed school links would be forgeable by anyone.
    raise ImproperlyConfigured(
        "DEBUG is off and DJANGO_SECRET_KEY is not set: refusing to start with the "
        "development key. Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=1 for local work)."
    )

# --- Tenancy (DESIGN §2) -------------------------------------------------------------
# Organizations live at <slug>.<SITE_DOMAIN> or a custom domain; localhost and
# 127.0.0.1 map to DEFAULT_ORGANIZATION, and <slug>.localhost works in browsers.
SITE_DOMAIN = env("SITE_DOMAIN", "localhost")
DEFAULT_ORGANIZATION = env("DEFAULT_ORGANIZATION", "demo")
# How emails link back to an organization's site: <scheme>://<slug>.<SITE_DOMAIN>:<port>
SITE_SCHEME = env("SITE_SCHEME", "http" if SITE_DOMAIN == "localhost" else "https")
SITE_PORT = env("SITE_PORT", "8000" if SITE_DOMAIN == "localhost" else "")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]", "testserver")
ALLOWED_HOSTS = [f".{SITE_DOMAIN}", ".localhost", *LOCAL_HOSTS] + [
    host for host in env("EXTRA_ALLOWED_HOSTS").split(",") if host
]
CSRF_TRUSTED_ORIGINS = [f"https://*.{SITE_DOMAIN}", f"http://*.{SITE_DOMAIN}"] + [
    origin for origin in env("EXTRA_CSRF_TRUSTED_ORIGINS").split(",") if origin
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "auditlog",
    "django_countries",
    "usdoctors",
    "notifications",
    "accounts",
    "rotations",
    "payments",
    "documents",
    "lor",
    "reviews",
    # On top of every app: the dashboard and seed_demo (STYLE §1; pyproject's layers).
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "usdoctors.http_errors.ErrorResponseMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Audit entries name the signed-in user (token API clients too) as the actor.
    "accounts.audit.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "usdoctors.tenancy.TenantMiddleware",
    # After the tenant: being an admin depends on the organization the host names.
    "accounts.mfa.RequireSecondFactorMiddleware",
]

ROOT_URLCONF = "usdoctors.urls"
WSGI_APPLICATION = "usdoctors.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "usdoctors.tenancy.tenant_context",
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite ignores select_for_update; IMMEDIATE transactions serialise writers instead.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    # Pages run short queries: PostgreSQL's JIT would spend seconds compiling the search
    # query (its planner overestimates the look-up branch it never takes) to save none.
    # Our data is in memory (or on SSD), where a random page costs about what a
    # sequential one does: with the default (4, for spinning disks) the planner prefers
    # reading every heap row to a covering index three times quicker (search's count off
    # listed_by_runs).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off -c random_page_cost=1.1"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ----------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[USDoctors] "
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
# Password guessing (accounts.login_limits): per client address, and per account across
# every site and the API. Counts live in the cache: set CACHE_URL (Redis) whenever more
# than one process serves, so every process shares them.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,100/h/ip,5/5m/key"}
# Proxies we run in front of the web processes: the client address is the one they add.
ALLAUTH_TRUSTED_PROXY_COUNT = int(env("ALLAUTH_TRUSTED_PROXY_COUNT", "0"))
# Two-factor sign-in (allauth's MFA, pages under /accounts/2fa/): open to everyone,
# required for organization admins and platform staff (accounts.mfa).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "USDoctors"
# Accept the previous and next 30-second code too: phone clocks drift, people type slowly.
MFA_TOTP_TOLERANCE = 1

# --- Audit trail (issue 10) ----------------------------------------------------------
# django-auditlog records who changed organization settings, roles, verification
# decisions and NPI marks, with old and new values (registered in each app's ready()).
# The base manager reads the old row: tenant models' ScopedManager would raise outside
# a scope, and the write being audited has already picked its row.
AUDITLOG_USE_BASE_MANAGER = True

# --- Internationalisation ------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "America/New_York"
USE_I18N = True
USE_TZ = True

# --- Static and private files --------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    # Uploads (CVs, documents) are never served publicly: only through views that
    # apply the privacy rule (DESIGN §3, §7). There is deliberately no MEDIA_URL route.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env("PRIVATE_FILES_ROOT", str(VAR_DIR / "private"))},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# --- Email (DESIGN §9) ---------------------------------------------------------------
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "USDoctors <no-reply@usdoctors.test>")
if env("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env("EMAIL_HOST")
    EMAIL_PORT = int(env("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = env("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", str(VAR_DIR / "emails"))

# --- Background jobs (DESIGN §9) -----------------------------------------------------
# No broker configured: tasks run in-process, right after the transaction commits.
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must fail fast when the broker is down: the outbox row waits for the sweep.
# max_retries=0: otherwise kombu keeps reconnecting for broker_connection_timeout (~6 s
# per email) before giving up, holding the web request that wrote the row.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "max_retries": 0,
}
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "send-due-installments": {
        "task": "payments.tasks.send_due_installments",
        "schedule": 15 * 60.0,
    },
    "retry-unsent-emails": {
        "task": "notifications.tasks.retry_unsent_emails",
        "schedule": 60.0,
    },
    "escalate-overdue-verifications": {
        "task": "accounts.tasks.escalate_overdue_verifications",
        "schedule": 15 * 60.0,
    },
    "request-reminders-and-expiry": {
        "task": "rotations.tasks.remind_and_expire_requests",
        "schedule": 15 * 60.0,
    },
    "start-date-readiness": {
        "task": "rotations.tasks.start_due_rotations",
        "schedule": 60 * 60.0,
    },
    "payment-reminders": {
        "task": "payments.tasks.send_payment_reminders",
        "schedule": 60 * 60.0,
    },
    "school-confirmation-deadline": {
        "task": "payments.school_tasks.charge_unanswered_schools",
        "schedule": 60 * 60.0,
    },
    "document-reminders": {
        "task": "documents.tasks.send_document_reminders",
        "schedule": 60 * 60.0,
    },
    "refresh-next-free-weeks": {
        "task": "rotations.tasks.refresh_stale_next_free_weeks",
        "schedule": 60 * 60.0,
    },
    "letter-reminders": {
        "task": "lor.tasks.send_letter_reminders",
        "schedule": 60 * 60.0,
    },
    # Daily: it asks the registry again about NPIs last settled more than a year ago
    # (rotations.npi_checks), and retries those the registry could not answer.
    "recheck-stale-npis": {
        "task": "rotations.tasks.recheck_stale_npis",
        "schedule": 24 * 60 * 60.0,
    },
}
# `make run` has no beat process: a thread in the web process runs the schedule instead.
INPROCESS_BEAT = env_bool("USDOCTORS_INPROCESS_BEAT", False)

# --- Cache: keys carry the active organization (DESIGN §2) ---------------------------
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache"
        if env("CACHE_URL")
        else "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": env("CACHE_URL", "usdoctors"),
        "KEY_FUNCTION": "usdoctors.tenancy.cache_key",
    }
}

# --- Payments (DESIGN §6) ------------------------------------------------------------
# Gateway and PayPal credentials are per organization (Organization fields, edited in
# /admin/); organizations without complete credentials use the simulated gateway.
# Empty: each organization's sandbox/live choice picks PayPal's URL; set, it overrides
# them all (tests point it at the fake PayPal).
PAYPAL_BASE_URL = env("PAYPAL_BASE_URL")
# Fernet key(s) encrypting the organizations' PayPal secrets at rest (usdoctors.encryption);
# comma-separated to rotate (the first encrypts). DEBUG runs without one use a dev key.
PAYMENT_SECRETS_KEY = env("PAYMENT_SECRETS_KEY")
# Sending installments to the gateway: Celery retries a failed send with exponential
# backoff (seconds), at most this many times; the due-installment sweep picks up the rest.
PAYMENT_SEND_MAX_RETRIES = int(env("PAYMENT_SEND_MAX_RETRIES", "8"))

# --- The NPPES NPI registry (DESIGN §15) ---------------------------------------------
# The public CMS registry API (rotations.nppes); tests point it at a fake registry.
NPPES_BASE_URL = env("NPPES_BASE_URL", "https://npiregistry.cms.hhs.gov/api/")

# --- API (DESIGN §12) ----------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes "no or bad credentials" a 401 (§12).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "usdoctors.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "usdoctors.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "usdoctors.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "USDoctors API",
    "DESCRIPTION": (
        "Clinical rotations for international medical students and graduates. "
        "The organization (tenant) is taken from the request host; another "
        "organization's object ids answer 404. Errors are JSON "
        '`{"detail": "...", "code": "..."}`. Organization admins and platform staff '
        "must have set up two-factor sign-in (an authenticator app, on the site under "
        "/accounts/2fa/) first: until then every call answers 403 with code "
        "`mfa_required`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and Redoc assets ship in a package: no CDN, machines here are offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Security for deployments --------------------------------------------------------
# HTTPS is on wherever the sites are served over https (SITE_SCHEME): plain-http requests
# are redirected, cookies are sent only over HTTPS, and browsers are told (HSTS) to never
# use plain http for the domain and the organizations' subdomains again.
HTTPS = env_bool("USDOCTORS_HTTPS", SITE_SCHEME == "https")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the load balancer's probe speaks plain http
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", str(365 * 24 * 3600))) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts and styles only from our own static files,
# never inline. htmx is told not to inject its indicator <style> nor eval attributes
# (the htmx-config meta tag in base.html); /api/docs/ loads its start-up script as a file.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
}

# Pending outbox rows younger than this are left to the task enqueued at commit.
OUTBOX_RETRY_AFTER_SECONDS = int(env("OUTBOX_RETRY_AFTER_SECONDS", "60"))
