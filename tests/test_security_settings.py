"""Security headers and deployment settings (hardening): a Content-Security-Policy with no
inline script, HSTS and HTTPS redirects when HTTPS is on, no start with the development
secret, and a clean ``check --deploy`` with production settings."""

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.conftest import host_of

MANAGE = [sys.executable, str(django_settings.BASE_DIR / "manage.py")]
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "usdoctors.settings",
    "DJANGO_SECRET_KEY": "k3y-" + "x7Qp!m2Z" * 8,
    "SITE_DOMAIN": "usdoctors.example",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/usdoctors",
    "CACHE_URL": "redis://127.0.0.1:6379/0",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
}


def run_manage(*args, env: dict) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "USDOCTORS_"))}
    return subprocess.run(
        [*MANAGE, *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=django_settings.BASE_DIR,
    )


def test_check_deploy_with_production_settings_prints_no_warnings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_refuses_to_start_with_debug_off_and_the_development_secret():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "refusing to start with the development key" in result.stderr


def test_local_development_still_starts_with_the_development_secret():
    result = run_manage(
        "check", env={"DJANGO_DEBUG": "1", "USDOCTORS_VAR_DIR": "/tmp/usdoctors-check"}
    )
    assert result.returncode == 0, result.stderr


# --- Headers ------------------------------------------------------------------------------


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        part.split()[0]: part.split()[1:]
        for part in (piece.strip() for piece in header.split(";"))
        if part
    }


PAGES = [
    ("student", "/dashboard/"),
    ("student", "/attendings/"),
    ("student", "/profile/"),
    ("student", "/rotations/"),
    ("student", "/support/new/"),
    ("admin", "/manage/verification/"),
    (None, "/accounts/login/"),
    (None, "/accounts/signup/"),
]


@pytest.mark.parametrize("role, path", PAGES)
def test_pages_carry_a_csp_without_inline_script_and_have_none(demo, client_for, role, path):
    response = client_for(demo[role] if role else None, host=host_of(demo["org"])).get(path)
    assert response.status_code == 200, path
    directives = csp_directives(response)
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    html = response.content.decode()
    # Every <script> loads a file; no inline code, style blocks or event attributes.
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag, tag
    assert "<style" not in html
    assert not re.search(r"\son[a-z]+\s*=", html)
    assert 'name="htmx-config"' in html and '"allowEval": false' in html


def test_api_docs_work_under_the_csp(demo, client_for):
    client = client_for(demo["student"])
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all("src=" in tag for tag in scripts)
    start_up = client.get("/api/docs/?script=")
    assert start_up.status_code == 200
    assert "SwaggerUIBundle" in start_up.content.decode()


def test_https_on_redirects_plain_http_and_sends_hsts(db, org, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    client = Client(HTTP_HOST=host_of(org))

    plain = client.get("/accounts/login/")
    assert plain.status_code == 301
    assert plain["Location"] == f"https://{host_of(org)}/accounts/login/"

    secure = client.get("/accounts/login/", secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"

    assert client.get("/healthz").status_code == 200  # the load balancer's probe


def test_https_settings_follow_the_site_scheme():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0)",
        env=PRODUCTION_ENV,
    )
    assert result.stdout.strip().splitlines()[-1].split() == ["True"] * 4, result.stderr
