"""Browser journeys: Debian's Chromium, headless, driven by Playwright against Django's
live server. Never a downloaded browser (RECIPES: Browser tests)."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django_scopes import scopes_disabled

from tests import factories

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--headless",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture
def site(live_server, transactional_db):
    """The demo organization's site on the live server, as ``demo.localhost:<port>``."""
    with scopes_disabled():
        organization = factories.OrganizationFactory(slug="demo", name="Demo Rotations")
        factories.OrganizationFactory(slug="northside", name="Northside Program")
    port = live_server.url.rsplit(":", 1)[1]
    return {"org": organization, "url": f"http://demo.localhost:{port}"}


SERIOUS = {"serious", "critical"}


@pytest.fixture
def assert_accessible():
    """axe-core (bundled, no network) finds no serious or critical violation."""
    axe = Axe()

    def check(page, what: str):
        results = axe.run(page)
        violations = [
            violation
            for violation in results.response["violations"]
            if violation["impact"] in SERIOUS
        ]
        report = "\n".join(
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in violations
        )
        assert not violations, f"axe on {what}:\n{report}"
        return results

    return check


def log_in(
    page, base_url: str, email: str, password: str = factories.PASSWORD, totp_secret: str = ""
) -> None:
    """Sign in through the page; admins and staff then type their authenticator app's
    code (``totp_secret``: the factories give them ``factories.TOTP_SECRET``)."""
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    if totp_secret:
        page.wait_for_url(f"{base_url}/accounts/2fa/authenticate/")
        page.get_by_label("Code").fill(factories.totp_code(totp_secret))
        page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/dashboard/")


@pytest.fixture
def page(page):
    """Every journey also proves the Content-Security-Policy holds: the browser reports
    no refused script, style or eval on any page it visits."""
    refused = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    assert not refused, "CSP violations:\n" + "\n".join(refused)
