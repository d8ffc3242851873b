"""Two-factor sign-in (issue 10): allauth's TOTP and recovery codes, open to everyone,
required for organization admins and platform staff before any page or API call."""

import re

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client
from django_scopes import scopes_disabled
from rest_framework.authtoken.models import Token

from accounts.models import Membership
from tests import factories
from tests.conftest import host_of

pytestmark = pytest.mark.django_db

ACTIVATE_URL = "/accounts/2fa/totp/activate/"


@pytest.fixture
def bare_admin(demo):
    """An admin of the demo organization who has not set up an authenticator app."""
    with scopes_disabled():
        return factories.MembershipFactory(
            organization=demo["org"], role="admin", second_factor=False
        )


@pytest.fixture
def bare_staff(world):
    with scopes_disabled():
        return factories.UserFactory(is_staff=True, is_superuser=True, second_factor=False)


def profile_id(membership) -> int:
    with scopes_disabled():
        return membership.profile.pk


def has_totp(user) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def token_client(membership) -> Client:
    token, _ = Token.objects.get_or_create(user=membership.user)
    return Client(
        HTTP_HOST=host_of(membership.organization), HTTP_AUTHORIZATION=f"Token {token.key}"
    )


def activate_totp_through_the_pages(client: Client, password: str = factories.PASSWORD) -> None:
    """What a person does: confirm the password, read the key, type the app's code."""
    first = client.get(ACTIVATE_URL)
    assert first.status_code == 302 and first["Location"].startswith("/accounts/reauthenticate/")
    reauthenticated = client.post(first["Location"], {"password": password})
    assert reauthenticated.status_code == 302
    page = client.get(ACTIVATE_URL)
    assert page.status_code == 200
    secret = page.context["form"].secret
    activated = client.post(ACTIVATE_URL, {"code": factories.totp_code(secret)})
    assert activated.status_code == 302, activated.content.decode()


# --- Admins and staff without a second factor ---------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/dashboard/",
        "/manage/verification/",
        "/manage/verification/{profile}/",
        "/manage/attendings/",
        "/support/",
    ],
)
def test_an_admin_without_a_second_factor_is_sent_to_set_one_up(demo, bare_admin, client_for, path):
    client = client_for(bare_admin)

    response = client.get(path.format(profile=profile_id(demo["pending"])))

    assert response.status_code == 302
    assert response["Location"] == ACTIVATE_URL
    followed = client.get(ACTIVATE_URL, follow=True)
    assert "Admins must use two-factor sign-in" in followed.content.decode()


def test_an_admin_without_a_second_factor_cannot_decide_on_a_profile(demo, bare_admin, client_for):
    pending = demo["pending"]

    page = client_for(bare_admin).post(f"/manage/verification/{profile_id(pending)}/verify/")
    api = client_for(bare_admin).post(f"/api/v1/admin/profiles/{profile_id(pending)}/verify")
    with scopes_disabled():
        token_api = token_client(bare_admin).post(
            f"/api/v1/admin/profiles/{profile_id(pending)}/verify"
        )

    assert page.status_code == 302 and page["Location"] == ACTIVATE_URL
    assert api.status_code == 403 and token_api.status_code == 403
    with scopes_disabled():
        assert Membership.objects.get(pk=pending.pk).verification_status == "pending"


@pytest.mark.parametrize(
    "path", ["/api/v1/admin/verification-queue", "/api/v1/me", "/api/v1/tickets"]
)
def test_an_admin_without_a_second_factor_reaches_no_api_call(demo, bare_admin, client_for, path):
    with scopes_disabled():
        by_token = token_client(bare_admin).get(path)
    by_session = client_for(bare_admin).get(path)

    for response in (by_session, by_token):
        assert response.status_code == 403
        body = response.json()
        assert body["code"] == "mfa_required"
        assert "two-factor sign-in" in body["detail"]


def test_an_admin_without_a_second_factor_cannot_mark_an_npi(demo, bare_admin):
    with scopes_disabled():
        attending = factories.AttendingProfileFactory(organization=demo["org"], npi="1234567893")
        response = token_client(bare_admin).post(f"/api/v1/attendings/{attending.pk}/verify-npi")
        attending.refresh_from_db()

    assert response.status_code == 403 and response.json()["code"] == "mfa_required"
    assert attending.npi_verified_at is None


@pytest.mark.parametrize("path", ["/admin/", "/admin/accounts/membership/", "/admin/auditlog/"])
def test_staff_without_a_second_factor_do_not_reach_the_platform_console(bare_staff, path):
    client = Client(HTTP_HOST="localhost")
    client.force_login(bare_staff)

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == ACTIVATE_URL
    followed = client.get(ACTIVATE_URL, follow=True)
    assert "Platform staff accounts must use two-factor sign-in" in followed.content.decode()


def test_staff_without_a_second_factor_are_held_on_every_organization_site(
    demo, bare_staff, client_for
):
    with scopes_disabled():
        factories.StudentFactory(organization=demo["org"], user=bare_staff)
    client = Client(HTTP_HOST=host_of(demo["org"]))
    client.force_login(bare_staff)

    assert client.get("/dashboard/")["Location"] == ACTIVATE_URL
    assert client.get("/api/v1/me").json()["code"] == "mfa_required"


def test_the_setup_pages_and_logging_out_stay_open(bare_admin, client_for):
    client = client_for(bare_admin)

    index = client.get("/accounts/2fa/")
    activate = client.get(ACTIVATE_URL)
    logout = client.post("/accounts/logout/")

    assert index.status_code == 200
    assert "Two-factor sign-in" in index.content.decode()  # our layout's menu
    assert activate.status_code == 302
    assert activate["Location"].startswith("/accounts/reauthenticate/")
    assert logout.status_code == 302
    assert "_auth_user_id" not in client.session


# --- Setting it up opens the doors --------------------------------------------------


def test_after_activating_totp_an_admin_reaches_admin_pages_and_the_api(
    demo, bare_admin, client_for
):
    client = client_for(bare_admin)
    assert client.get("/manage/verification/").status_code == 302

    activate_totp_through_the_pages(client)

    assert has_totp(bare_admin.user)
    assert client.get("/manage/verification/").status_code == 200
    assert client.get("/api/v1/admin/verification-queue").status_code == 200
    with scopes_disabled():
        assert token_client(bare_admin).get("/api/v1/admin/verification-queue").status_code == 200
    verified = client.post(f"/manage/verification/{profile_id(demo['pending'])}/verify/")
    assert verified.status_code == 302 and verified["Location"] == "/manage/verification/"


def test_after_activating_totp_staff_reach_the_platform_console(bare_staff):
    client = Client(HTTP_HOST="localhost")
    client.force_login(bare_staff)

    activate_totp_through_the_pages(client)

    response = client.get("/admin/")
    assert response.status_code == 200
    assert "USDoctors platform console" in response.content.decode()


def test_activation_also_makes_recovery_codes(bare_admin, client_for):
    client = client_for(bare_admin)

    activate_totp_through_the_pages(client)

    codes = client.get("/accounts/2fa/recovery-codes/")
    assert codes.status_code == 200
    assert len(re.findall(r"\b\d{8}\b", codes.content.decode())) >= 10


# --- Everyone else may, and is never forced -----------------------------------------


def test_a_student_is_not_forced(demo, client_for):
    client = client_for(demo["student"])

    assert client.get("/dashboard/").status_code == 200
    assert client.get("/api/v1/me").status_code == 200
    with scopes_disabled():
        assert token_client(demo["student"]).get("/api/v1/me").status_code == 200


def test_an_attending_is_not_forced(demo, client_for):
    assert client_for(demo["attending"]).get("/dashboard/").status_code == 200


def test_a_student_finds_two_factor_sign_in_in_the_menu_and_turns_it_on(demo, client_for):
    client = client_for(demo["student"])

    dashboard = client.get("/dashboard/").content.decode()
    assert '<a href="/accounts/2fa/">Two-factor sign-in</a>' in dashboard
    index = client.get("/accounts/2fa/")
    assert index.status_code == 200
    assert "An authenticator app is not active." in index.content.decode()

    activate_totp_through_the_pages(client)

    assert has_totp(demo["student"].user)
    assert "Authentication using an authenticator app is active." in (
        client.get("/accounts/2fa/").content.decode()
    )


def test_an_admin_of_one_organization_is_a_plain_student_on_another(demo, northside, bare_admin):
    """The admin role belongs to the request's organization (DESIGN §2)."""
    with scopes_disabled():
        factories.StudentFactory(organization=northside["org"], user=bare_admin.user)
    client = Client(HTTP_HOST=host_of(northside["org"]))
    client.force_login(bare_admin.user)

    assert client.get("/dashboard/").status_code == 200


# --- Signing in with the second factor ----------------------------------------------


def log_in_with_password(client: Client, email: str, password: str = factories.PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


def test_login_with_totp_asks_for_the_code(demo):
    admin = demo["admin"]  # the factory gave them an authenticator app
    client = Client(HTTP_HOST=host_of(demo["org"]))

    after_password = log_in_with_password(client, admin.user.email)

    assert after_password.status_code == 302
    assert after_password["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/dashboard/").status_code == 302  # not signed in yet
    assert "_auth_user_id" not in client.session
    question = client.get("/accounts/2fa/authenticate/")
    assert question.status_code == 200
    assert "enter an authenticator code" in question.content.decode()

    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200
    assert "_auth_user_id" not in client.session

    right = client.post("/accounts/2fa/authenticate/", {"code": factories.totp_code()})
    assert right.status_code == 302 and right["Location"] == "/dashboard/"
    assert client.get("/manage/verification/").status_code == 200


def test_a_recovery_code_signs_in_when_the_phone_is_lost(bare_admin, client_for):
    client = client_for(bare_admin)
    activate_totp_through_the_pages(client)
    codes = re.findall(r"\b\d{8}\b", client.get("/accounts/2fa/recovery-codes/").content.decode())
    client.post("/accounts/logout/")

    log_in_with_password(client, bare_admin.user.email)
    response = client.post("/accounts/2fa/authenticate/", {"code": codes[0]})

    assert response.status_code == 302 and response["Location"] == "/dashboard/"


def test_a_student_without_totp_signs_in_with_the_password_alone(demo):
    client = Client(HTTP_HOST=host_of(demo["org"]))

    response = log_in_with_password(client, demo["student"].user.email)

    assert response.status_code == 302 and response["Location"] == "/dashboard/"


def test_the_django_admin_password_form_is_not_a_way_around_the_second_factor(world):
    staff = factories.UserFactory(is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST="localhost")

    form = client.get("/admin/login/?next=/admin/auditlog/")
    posted = client.post(
        "/admin/login/?next=/admin/", {"username": staff.email, "password": factories.PASSWORD}
    )

    assert form.status_code == 302
    assert form["Location"] == "/accounts/login/?next=%2Fadmin%2Fauditlog%2F"
    assert posted.status_code == 302 and posted["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_staff_sign_in_on_the_site_with_their_code_and_land_in_the_console(world):
    staff = factories.UserFactory(is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST="localhost")

    after_password = client.post(
        "/accounts/login/?next=/admin/", {"login": staff.email, "password": factories.PASSWORD}
    )
    assert after_password["Location"] == "/accounts/2fa/authenticate/"
    signed_in = client.post("/accounts/2fa/authenticate/", {"code": factories.totp_code()})

    assert signed_in.status_code == 302 and signed_in["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
