"""Joining another organization (DESIGN §2, §3): users are global, memberships per
organization. Logging in where the account is not a member says where it belongs and
offers to join as a student; joining makes an ``incomplete`` student membership verified
here like any other; a member is refused with 409 and nothing changes; platform staff get
a staff page; a sign-up with an existing address is told to log in and join."""

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django_scopes import scopes_disabled

from accounts.models import Membership, StudentProfile, User
from accounts.services import join_organization
from notifications.models import OutboundEmail
from tests import factories
from tests.conftest import host_of
from usdoctors.errors import Conflict, NotAllowed

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-and-unusual-passphrase"


def log_in(client: Client, email: str, password: str = factories.PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


def memberships_of(user) -> list[tuple[str, str, str]]:
    with scopes_disabled():
        return sorted(
            Membership.objects.filter(user=user).values_list(
                "organization__slug", "role", "verification_status"
            )
        )


def test_login_where_not_a_member_lands_on_the_join_offer(world):
    outsider = world["northside"]["student"]
    client = Client(HTTP_HOST="demo.localhost")
    response = log_in(client, outsider.user.email)
    assert response.status_code == 302
    assert response["Location"] == "/join/"

    page = client.get("/join/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "This account is not a member of Demo Rotations" in text
    assert "Northside Program</a>: student (verified)" in text
    assert "Join Demo Rotations as a student" in text
    # Logged in, not "successfully signed in" and then "not a member".
    assert [str(m) for m in page.context["messages"]] == [f"Logged in as {outsider.user.email}."]
    # The start page sends them to the same offer.
    assert client.get("/")["Location"] == "/join/"


def test_member_pages_answer_404_with_the_join_offer_not_a_bare_404(world):
    client = Client(HTTP_HOST="demo.localhost")
    client.force_login(world["northside"]["student"].user)
    response = client.get("/dashboard/")
    assert response.status_code == 404
    text = response.content.decode()
    assert "You are not a member of Demo Rotations" in text
    assert 'href="/join/"' in text


def test_joining_makes_an_incomplete_student_verified_here_like_any_other(world, client_for):
    outsider = world["northside"]["student"]
    client = Client(HTTP_HOST="demo.localhost")
    client.force_login(outsider.user)

    response = client.post("/join/")
    assert response.status_code == 302
    assert response["Location"] == "/profile/"
    assert memberships_of(outsider.user) == [
        ("demo", "student", "incomplete"),
        ("northside", "student", "verified"),
    ]
    with scopes_disabled():
        joined = Membership.objects.get(user=outsider.user, organization=world["demo"]["org"])
        profile = joined.profile
    # Nothing is copied from the other organization: demo verifies its own students.
    assert profile.full_name == "" and not profile.cv
    assert client.get("/dashboard/").status_code == 200

    fields = {
        "full_name": "Sita Sharma",
        "kind": "img",
        "medical_school": "Manipal College of Medical Sciences",
        "country": "NP",
        "graduation_year": 2024,
        "school_contact_email": "registrar@school.test",
        "visa_status": "b1_b2",
        "step1_result": "pass",
    }
    from tests.conftest import pdf_upload

    response = client.post("/profile/", {**fields, "cv": pdf_upload(), "submit": "1"})
    assert response.status_code == 302, response.content
    with scopes_disabled():
        profile_id = joined.profile.pk
    admin = client_for(world["demo"]["admin"])
    assert admin.post(f"/manage/verification/{profile_id}/verify/").status_code == 302
    assert memberships_of(outsider.user) == [
        ("demo", "student", "verified"),
        ("northside", "student", "verified"),
    ]


@pytest.mark.parametrize("role", ["student", "pending", "attending", "admin"])
def test_join_is_refused_for_a_member_and_nothing_changes(world, client_for, role):
    member = world["demo"][role]
    before = memberships_of(member.user)
    with scopes_disabled():
        profiles = StudentProfile.objects.count()
    response = client_for(member).post("/join/")
    assert response.status_code == 409
    assert "You are already a member of Demo Rotations" in response.content.decode()
    assert memberships_of(member.user) == before
    with scopes_disabled():
        assert StudentProfile.objects.count() == profiles
        with pytest.raises(Conflict) as refused:
            join_organization(member.user, world["demo"]["org"])
    assert refused.value.code == "already_member"


def test_joining_twice_is_refused_the_second_time(world):
    outsider = world["northside"]["attending"]
    client = Client(HTTP_HOST="demo.localhost")
    client.force_login(outsider.user)
    assert client.post("/join/").status_code == 302
    after_first = memberships_of(outsider.user)
    assert client.post("/join/").status_code == 409
    assert (
        memberships_of(outsider.user)
        == after_first
        == [
            ("demo", "student", "incomplete"),
            ("northside", "attending", ""),
        ]
    )


def test_join_needs_a_login(world):
    response = Client(HTTP_HOST="demo.localhost").post("/join/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_staff_without_membership_get_the_staff_page(world):
    with scopes_disabled():
        staff = factories.UserFactory(is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST="demo.localhost")
    client.force_login(staff)
    assert client.get("/")["Location"] == "/join/"
    assert client.get("/join/")["Location"] == "/staff/"
    page = client.get("/staff/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "platform staff" in text and 'href="/admin/"' in text
    assert "Northside Program" in text and "Demo Rotations" in text
    assert "not a member" not in text
    # Staff work in the console: the join is refused and nothing changes.
    assert client.post("/join/").status_code == 403
    assert memberships_of(staff) == []


def test_staff_log_in_lands_on_the_staff_page(world):
    with scopes_disabled():
        staff = factories.UserFactory(is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST="demo.localhost")
    response = log_in(client, staff.email)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/")
    response = client.post(response["Location"], {"code": factories.totp_code()})
    assert response.status_code == 302
    assert response["Location"] == "/staff/"


def test_staff_page_is_for_staff_only(world, client_for):
    assert client_for(world["demo"]["student"]).get("/staff/").status_code == 404


def test_service_refuses_staff(world):
    with scopes_disabled():
        staff = factories.UserFactory(is_staff=True)
        with pytest.raises(NotAllowed):
            join_organization(staff, world["demo"]["org"])


def test_sign_up_with_an_existing_email_leads_to_login_and_join(world):
    outsider = world["northside"]["student"]
    client = Client(HTTP_HOST="demo.localhost")
    response = client.post(
        "/accounts/signup/",
        {"email": outsider.user.email, "password1": PASSWORD, "password2": PASSWORD},
    )
    # Same answer as a new address (allauth's enumeration guard); the page says what to do.
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert "log in with that account</a> and join Demo Rotations as a student" in (
        page.content.decode()
    )
    assert memberships_of(outsider.user) == [("northside", "student", "verified")]
    with scopes_disabled():
        assert User.objects.filter(email__iexact=outsider.user.email).count() == 1
        email = OutboundEmail.objects.get(recipient=outsider.user.email)
    assert email.context["kind"] == "account_already_exists"
    link = email.context["link"]
    assert link == "http://demo.localhost/accounts/login/?next=%2Fjoin%2F"
    assert "join Demo Rotations as a student" in email.context["text"]
    assert link in email.context["text"]

    # Following it: log in, land on the join offer, join.
    response = client.post(
        "/accounts/login/?next=%2Fjoin%2F",
        {"login": outsider.user.email, "password": factories.PASSWORD, "next": "/join/"},
    )
    assert response["Location"] == "/join/"
    assert client.post("/join/")["Location"] == "/profile/"
    assert ("demo", "student", "incomplete") in memberships_of(outsider.user)


def test_sign_up_with_an_email_already_member_here_says_log_in(world):
    member = world["demo"]["student"]
    Client(HTTP_HOST="demo.localhost").post(
        "/accounts/signup/",
        {"email": member.user.email, "password1": PASSWORD, "password2": PASSWORD},
    )
    with scopes_disabled():
        email = OutboundEmail.objects.get(recipient=member.user.email)
    assert "already a member of Demo Rotations" in email.context["text"]


# --- Email confirmation logs in (issue 11) -------------------------------------------------


def confirmation_path(email: str) -> str:
    with scopes_disabled():
        row = OutboundEmail.objects.filter(recipient=email, template="allauth_message").latest(
            "created_at"
        )
    return row.context["link"].removeprefix("http://demo.localhost")


def test_confirming_logs_in_in_another_browser_and_goes_to_the_profile(world):
    Client(HTTP_HOST="demo.localhost").post(
        "/accounts/signup/",
        {"email": "new.student@example.test", "password1": PASSWORD, "password2": PASSWORD},
    )
    other_browser = Client(HTTP_HOST="demo.localhost")
    path = confirmation_path("new.student@example.test")
    response = other_browser.post(path)
    assert response.status_code == 302
    assert response["Location"] == "/profile/"
    page = other_browser.get("/profile/")
    assert page.status_code == 200
    assert page.context["user"].email == "new.student@example.test"

    # The link works once: a second browser is not logged in by it.
    third = Client(HTTP_HOST="demo.localhost")
    third.post(path)
    assert third.get("/profile/").status_code == 302


def test_confirming_in_the_same_browser_goes_to_the_profile(world):
    client = Client(HTTP_HOST="demo.localhost")
    client.post(
        "/accounts/signup/",
        {"email": "same.browser@example.test", "password1": PASSWORD, "password2": PASSWORD},
    )
    response = client.post(confirmation_path("same.browser@example.test"))
    assert response["Location"] == "/profile/"
    assert client.get("/profile/").status_code == 200


def test_confirming_does_not_log_in_an_account_that_logged_in_before(world):
    """An email change's confirmation (an existing account) never logs in by link."""
    with scopes_disabled():
        member = world["demo"]["student"]
        client = Client(HTTP_HOST="demo.localhost")
        assert log_in(client, member.user.email).status_code == 302
        address = EmailAddress.objects.create(
            user=member.user, email="second@example.test", verified=False
        )
    from allauth.account.models import EmailConfirmationHMAC

    key = EmailConfirmationHMAC(address).key
    stranger = Client(HTTP_HOST="demo.localhost")
    response = stranger.post(f"/accounts/confirm-email/{key}/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert stranger.get("/dashboard/").status_code == 302  # still anonymous


# --- The account page --------------------------------------------------------------------


def test_account_page_lists_memberships_with_links_to_their_sites(
    world, client_for, django_assert_max_num_queries
):
    student = world["demo"]["student"]
    with scopes_disabled():
        factories.MembershipFactory(
            organization=world["northside"]["org"], user=student.user, role="attending"
        )
    client = client_for(student)
    with django_assert_max_num_queries(10) as few:
        page = client.get("/account/")
    queries_for_two = len(few.captured_queries)  # the next request resets Django's log
    assert page.status_code == 200
    text = page.content.decode()
    assert 'href="/accounts/password/change/"' in text
    assert 'href="/accounts/email/"' in text
    rows = [
        (row["membership"].organization.name, row["membership"].role, row["url"])
        for row in page.context["memberships"]
    ]
    assert rows == [
        ("Demo Rotations", "student", "http://demo.localhost/dashboard/"),
        ("Northside Program", "attending", "http://northside.localhost/dashboard/"),
    ]
    assert "Attending physician" in text and ">Verified<" in text
    # The navigation leads here.
    assert 'href="/account/"' in client.get("/dashboard/").content.decode()

    with scopes_disabled():
        for organization in factories.OrganizationFactory.create_batch(5):
            factories.StudentFactory(organization=organization, user=student.user)
    with django_assert_max_num_queries(queries_for_two):
        assert len(client.get("/account/").context["memberships"]) == 7


def test_account_page_of_a_non_member_offers_to_join(world):
    client = Client(HTTP_HOST="demo.localhost")
    client.force_login(world["northside"]["admin"].user)
    page = client.get("/account/")
    assert page.status_code == 200
    assert 'href="/join/"' in page.content.decode()


def test_account_page_needs_a_login(world):
    response = Client(HTTP_HOST=host_of(world["demo"]["org"])).get("/account/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# --- Profile labels and the country list (issue 11) ---------------------------------------


def test_profile_pages_show_labels_and_a_back_link(world, client_for):
    student = world["demo"]["student"]
    with scopes_disabled():
        profile = student.profile
        profile.specialty_interests = ["internal_medicine", "ob_gyn"]
        profile.save()
    admin_page = client_for(world["demo"]["admin"]).get(f"/students/{profile.pk}/")
    text = admin_page.content.decode()
    assert "Internal medicine, OB/GYN" in text and "internal_medicine" not in text
    assert "Current student or graduate</dt><dd>Graduate of a medical school (IMG)" in text
    assert "Manipal College of Medical Sciences, Nepal" in text
    assert 'data-testid="back-link"' in text
    assert 'data-testid="back-link"' in client_for(student).get("/profile/").content.decode()


@pytest.fixture
def incomplete_student(world):
    with scopes_disabled():
        return factories.StudentFactory(
            organization=world["demo"]["org"], verification_status="incomplete"
        )


def test_country_must_come_from_the_list_on_the_page(incomplete_student, client_for):
    form = client_for(incomplete_student).get("/profile/").context["form"]
    assert ("NP", "Nepal") in list(form.fields["country"].choices)
    response = client_for(incomplete_student).post(
        "/profile/", {"full_name": "Sita Sharma", "country": "Narnia", "save": ""}
    )
    assert response.status_code == 200
    assert "Select a valid choice. Narnia is not one of the available choices." in (
        response.content.decode()
    )
    with scopes_disabled():
        profile = StudentProfile.objects.get(membership=incomplete_student)
    assert (profile.full_name, profile.country.code) != ("Sita Sharma", "Narnia")
    assert profile.country.code == "NP"


def test_country_must_come_from_the_list_in_the_api(incomplete_student, client_for):
    client = client_for(incomplete_student)
    bad = client.patch("/api/v1/profile", {"country": "XX"}, content_type="application/json")
    assert bad.status_code == 400
    assert "country" in bad.json()["errors"]
    with scopes_disabled():
        assert StudentProfile.objects.get(membership=incomplete_student).country.code == "NP"
    good = client.patch("/api/v1/profile", {"country": "BR"}, content_type="application/json")
    assert good.status_code == 200 and good.json()["country"] == "BR"


def test_the_migration_maps_free_text_countries_to_codes():
    from importlib import import_module

    migration = import_module("accounts.migrations.0005_profile_country_list_and_kind_labels")
    assert migration.country_code("Nepal") == "NP"
    assert migration.country_code("  nepal ") == "NP"
    assert migration.country_code("NPL") == "NP"
    assert migration.country_code("United States") == "US"
    assert migration.country_code("UK") == "GB"
    assert migration.country_code("Russia") == "RU"
    assert migration.country_code("Atlantis") == ""


# --- Links in emails use the site's real address (issue 11) ------------------------------


def test_email_links_outside_a_request_use_the_configured_port(world, settings):
    from usdoctors.links import organization_url

    settings.SITE_PORT = "8123"
    assert organization_url(world["demo"]["org"], "/profile/") == (
        "http://demo.localhost:8123/profile/"
    )
    settings.SITE_PORT = ""
    settings.SITE_SCHEME = "https"
    settings.SITE_DOMAIN = "usdoctors.example"
    assert organization_url(world["demo"]["org"]) == "https://demo.usdoctors.example/"


def test_email_links_written_in_a_request_use_its_host_and_port(world, client_for):
    with scopes_disabled():
        student = factories.StudentFactory(
            organization=world["demo"]["org"], verification_status="incomplete"
        )
    client = client_for(student, host="demo.localhost:8765")
    assert client.post("/api/v1/profile/submit").status_code == 200
    with scopes_disabled():
        email = OutboundEmail.objects.get(recipient=student.user.email)
    assert email.context["profile_url"] == "http://demo.localhost:8765/profile/"
    # Another organization's links keep the request's scheme and port.
    with scopes_disabled():
        factories.MembershipFactory(
            organization=world["northside"]["org"], user=student.user, role="attending"
        )
    urls = [row["url"] for row in client.get("/account/").context["memberships"]]
    assert urls == [
        "http://demo.localhost:8765/dashboard/",
        "http://northside.localhost:8765/dashboard/",
    ]


def test_favicon_ico_redirects_to_the_static_svg_on_any_host(world):
    for host in ("demo.localhost", "ghost.localhost"):
        response = Client(HTTP_HOST=host).get("/favicon.ico")
        assert response.status_code == 301
        assert response["Location"] == "/static/favicon.svg"
    page = Client(HTTP_HOST="demo.localhost").get("/")
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in (
        page.content.decode()
    )


# --- Wording and the start page (issue 11) -------------------------------------------------


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/", "/"])
def test_pages_say_log_in_and_sign_up_never_sign_in(world, path):
    text = Client(HTTP_HOST="demo.localhost").get(path).content.decode()
    assert "Log in" in text
    for wrong in ("Sign In", "Sign in", "sign in", "Sign Up", "Signup"):
        assert wrong not in text, wrong


def test_logging_out_says_logged_out(world, client_for):
    client = client_for(world["demo"]["student"])
    page = client.post("/accounts/logout/", follow=True)
    assert [str(m) for m in page.context["messages"]] == ["You have logged out."]


def test_start_page_describes_what_each_role_can_do_today(world):
    text = Client(HTTP_HOST="demo.localhost").get("/").content.decode()
    assert "Request, pay and upload documents" not in text
    for promise in (
        "Request the weeks you want",
        "Pay once approved",
        "Upload the documents",
        "Ask for a letter of recommendation",
        "Attendings publish their free weeks",
        "admins verify profiles",
    ):
        assert promise in text, promise
