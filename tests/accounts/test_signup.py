"""DESIGN §3 end to end with the test client: sign-up on an organization's site, the
verification link read from the outbox, incomplete → pending → verified."""

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django_scopes import scopes_disabled

from accounts.models import Membership, User
from notifications.models import OutboundEmail
from tests.conftest import pdf_upload

PASSWORD = "a-long-and-unusual-passphrase"


def sign_up(client: Client, email: str):
    return client.post(
        "/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    )


@pytest.mark.django_db
def test_sign_up_verify_email_submit_and_admin_verifies(world, client_for):
    demo = world["demo"]["org"]
    student_client = Client(HTTP_HOST="demo.localhost")

    response = sign_up(student_client, "new.student@example.test")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"

    with scopes_disabled():
        user = User.objects.get(email="new.student@example.test")
        membership = Membership.objects.get(user=user)
        assert (membership.organization, membership.role) == (demo, "student")
        assert membership.verification_status == "incomplete"
        email = OutboundEmail.objects.get(recipient=user.email, template="allauth_message")
    assert email.organization == demo
    link = email.context["link"]
    assert link.startswith("http://demo.localhost/accounts/confirm-email/")
    assert link in email.context["text"]

    # Unverified: the login is refused until the link is followed.
    assert not EmailAddress.objects.get(user=user).verified
    path = link.removeprefix("http://demo.localhost")
    assert student_client.post(path).status_code == 302
    assert EmailAddress.objects.get(user=user).verified

    profile_fields = {
        "full_name": "Ana Souza",
        "kind": "ims",
        "medical_school": "Universidade de São Paulo",
        "country": "BR",
        "graduation_year": 2027,
        "school_contact_email": "dean@usp.test",
        "visa_status": "none",
        "step1_result": "pass",
        "cv": pdf_upload(),
    }
    response = student_client.post("/profile/", {**profile_fields, "submit": "1"})
    assert response.status_code == 302, response.content
    membership.refresh_from_db()
    assert membership.verification_status == "pending"
    assert membership.submitted_at is not None

    with scopes_disabled():
        profile_id = membership.profile.pk
    admin_client = client_for(world["demo"]["admin"])
    assert admin_client.post(f"/api/v1/admin/profiles/{profile_id}/verify").status_code == 200
    membership.refresh_from_db()
    assert membership.verification_status == "verified"
    assert "Verified" in student_client.get("/dashboard/").content.decode()


@pytest.mark.django_db
def test_sign_up_is_refused_on_an_unknown_host(world):
    response = sign_up(Client(HTTP_HOST="ghost.localhost"), "lost@example.test")
    assert response.status_code == 404
    with scopes_disabled():
        assert not User.objects.filter(email="lost@example.test").exists()


@pytest.mark.django_db
def test_api_token_for_a_verified_member_only(world):
    client = Client(HTTP_HOST="demo.localhost")
    student = world["demo"]["student"]
    response = client.post(
        "/api/v1/auth/token",
        {"email": student.user.email, "password": "correct-horse-battery"},
        content_type="application/json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    me = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {token}")
    assert me.status_code == 200
    assert me.json()["email"] == student.user.email
    assert me.json()["verification_status"] == "verified"

    wrong = client.post(
        "/api/v1/auth/token",
        {"email": student.user.email, "password": "wrong"},
        content_type="application/json",
    )
    assert wrong.status_code == 400
    assert wrong.json() == {
        "detail": "Email or password is not right.",
        "code": "invalid_credentials",
    }

    # A northside member asking demo's site for a token learns nothing more.
    outsider = world["northside"]["student"]
    other = client.post(
        "/api/v1/auth/token",
        {"email": outsider.user.email, "password": "correct-horse-battery"},
        content_type="application/json",
    )
    assert other.status_code == 400
    assert other.json()["code"] == "invalid_credentials"
