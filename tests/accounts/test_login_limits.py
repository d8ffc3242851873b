"""Password guessing is limited per account and per client address, in the store every
process shares (hardening; accounts.login_limits)."""

import time

import pytest
import time_machine
from allauth.account import app_settings as account_settings
from allauth.core.internal.ratelimit import get_cache_key, parse_rates
from django.core.cache import cache
from django.test import Client, RequestFactory

from accounts.login_limits import ACTION, attempts_key
from tests import factories
from tests.conftest import host_of
from tests.factories import PASSWORD

TOKEN = "/api/v1/auth/token"
LOGIN = "/accounts/login/"
WRONG = "not-the-password"


@pytest.fixture
def student(demo):
    return demo["student"]


def token_call(client, email, password, **extra):
    return client.post(
        TOKEN, {"email": email, "password": password}, content_type="application/json", **extra
    )


def login_page(client, email, password):
    return client.post(LOGIN, {"login": email, "password": password})


def client_for_org(organization, address="127.0.0.1"):
    return Client(HTTP_HOST=host_of(organization), REMOTE_ADDR=address)


def test_the_sixth_wrong_password_on_the_api_is_a_429_and_the_right_one_waits(student):
    client = client_for_org(student.organization)
    email = student.user.email
    for _ in range(5):
        response = token_call(client, email, WRONG)
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_credentials"

    refused = token_call(client, email, WRONG)
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert "Too many failed sign-in attempts" in refused.json()["detail"]
    assert 1 <= int(refused["Retry-After"]) <= 300

    right = token_call(client, email, PASSWORD)
    assert right.status_code == 429  # the right password waits too

    with time_machine.travel(time.time() + 301, tick=False):
        assert token_call(client, email, PASSWORD).status_code == 200


def test_the_sixth_wrong_password_on_the_login_page_is_a_429_with_a_clear_message(student):
    client = client_for_org(student.organization)
    email = student.user.email
    for _ in range(5):
        assert login_page(client, email, WRONG).status_code == 200  # the form, with its error

    refused = login_page(client, email, WRONG)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 300
    assert "Too many failed sign-in attempts" in refused.content.decode()

    right = login_page(client, email, PASSWORD)
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_page_and_the_api_and_every_site_count_against_one_account(world):
    student = world["demo"]["student"]
    email = student.user.email
    demo_site = client_for_org(world["demo"]["org"])
    other_site = client_for_org(world["northside"]["org"])
    for _ in range(2):
        login_page(demo_site, email, WRONG)
    for _ in range(2):
        token_call(demo_site, email, WRONG)
    token_call(other_site, email, WRONG)

    assert token_call(demo_site, email, PASSWORD).status_code == 429


def test_other_accounts_are_not_locked_by_one_accounts_failures(demo):
    victim, other = demo["student"], demo["attending"]
    client = client_for_org(victim.organization, address="10.0.0.1")
    for _ in range(6):
        token_call(client, victim.user.email, WRONG)

    elsewhere = client_for_org(victim.organization, address="10.0.0.2")
    assert token_call(elsewhere, other.user.email, PASSWORD).status_code == 200


def test_one_address_trying_many_accounts_is_limited(demo):
    organization = demo["org"]
    client = client_for_org(organization, address="10.9.9.9")
    for _ in range(10):
        user = factories.UserFactory()
        assert token_call(client, user.email, WRONG).status_code == 400

    fresh = factories.MembershipFactory(organization=organization, role="attending")
    assert token_call(client, fresh.user.email, PASSWORD).status_code == 429
    # The same account from another address is fine.
    assert (
        token_call(client_for_org(organization, "10.9.9.8"), fresh.user.email, PASSWORD).status_code
        == 200
    )


def test_a_successful_sign_in_does_not_use_up_attempts(student):
    client = client_for_org(student.organization)
    for _ in range(8):
        assert token_call(client, student.user.email, PASSWORD).status_code == 200


def test_the_counts_live_in_the_shared_redis_cache(student, settings):
    """Not in this process's memory: a separate connection to Redis sees them."""
    import redis

    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    client = client_for_org(student.organization, address="10.1.1.1")
    for _ in range(3):
        token_call(client, student.user.email, WRONG)

    request = RequestFactory().get("/", REMOTE_ADDR="10.1.1.1")
    rates = parse_rates(account_settings.RATE_LIMITS[ACTION])
    per_account = next(rate for rate in rates if rate.per == "key")
    per_address = next(rate for rate in rates if rate.per == "ip")
    location = settings.CACHES["default"]["LOCATION"]
    outside = redis.Redis.from_url(location if isinstance(location, str) else location[0])
    for rate in (per_account, per_address):
        raw = get_cache_key(
            request,
            app="allauth.account",
            action=ACTION,
            rate=rate,
            key=attempts_key(student.user.email),
        )
        assert outside.exists(cache.make_key(raw)), rate


# --- The token API asks for the second factor too ---------------------------------------


def test_an_account_with_two_factor_needs_its_code_for_an_api_token(world):
    admin = world["demo"]["admin"]  # the factories give admins an authenticator app
    client = client_for_org(admin.organization)
    email = admin.user.email

    missing = token_call(client, email, PASSWORD)
    assert missing.status_code == 400
    assert missing.json()["code"] == "mfa_code_required"

    wrong = client.post(
        TOKEN,
        {"email": email, "password": PASSWORD, "code": "000000"},
        content_type="application/json",
    )
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "invalid_mfa_code"

    code = factories.totp_code()
    right = client.post(
        TOKEN,
        {"email": email, "password": PASSWORD, "code": code},
        content_type="application/json",
    )
    assert right.status_code == 200
    assert right.json()["token"]


def test_a_used_code_does_not_work_again_on_another_organizations_site(world):
    user = factories.UserFactory()
    demo_admin = factories.MembershipFactory(
        organization=world["demo"]["org"], user=user, role="admin"
    )
    factories.MembershipFactory(organization=world["northside"]["org"], user=user, role="admin")
    code = factories.totp_code()
    body = {"email": user.email, "password": PASSWORD, "code": code}

    first = client_for_org(demo_admin.organization).post(
        TOKEN, body, content_type="application/json"
    )
    assert first.status_code == 200
    again = client_for_org(world["northside"]["org"]).post(
        TOKEN, body, content_type="application/json"
    )
    assert again.status_code == 400
    assert again.json()["code"] == "invalid_mfa_code"


def test_wrong_codes_count_as_failed_sign_ins(world):
    admin = world["demo"]["admin"]
    client = client_for_org(admin.organization, address="10.3.3.3")
    body = {"email": admin.user.email, "password": PASSWORD, "code": "000000"}
    statuses = [
        client.post(TOKEN, body, content_type="application/json").status_code for _ in range(6)
    ]
    assert statuses[:5] == [400] * 5
    assert statuses[5] == 429
