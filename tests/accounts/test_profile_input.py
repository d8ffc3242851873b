"""Bad profile input (DESIGN §3, §7): refused with a clear message next to the field and
nothing saved, through the API and the browser form alike."""

import pytest
from django.contrib.auth import authenticate
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import model_to_dict
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.utils import timezone
from django.utils.html import escape
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from accounts.models import Membership, StudentProfile, User
from notifications.models import OutboundEmail
from tests import factories
from tests.conftest import MINIMAL_PDF

pytestmark = pytest.mark.django_db

EARLIEST_YEAR = 1960
LATEST_YEAR = timezone.now().year + 8
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
NEW_PDF = MINIMAL_PDF + b"% a newer CV\n"

PROFILE_FORM = {
    "full_name": "Asha Karki",
    "kind": "img",
    "medical_school": "B.P. Koirala Institute of Health Sciences",
    "country": "NP",
    "graduation_year": "2023",
    "school_contact_email": "dean@bpkihs.test",
    "step1_result": "pass",
    "step1_date": "2024-06-01",
    "step2ck_score": "245",
    "step2ck_date": "2025-01-15",
    "toefl_score": "110",
    "visa_status": "b1_b2",
    "specialty_interests": ["internal_medicine"],
    "phone": "+977 98 1234 5678",
}

YEAR_MESSAGE = f"Enter a graduation year between {EARLIEST_YEAR} and {LATEST_YEAR}."

# (field, API value, form value, message the student reads)
BAD_VALUES = [
    (
        "school_contact_email",
        "registrar(at)school",
        "registrar(at)school",
        "Enter a valid email address.",
    ),
    ("graduation_year", 1959, "1959", YEAR_MESSAGE),
    ("graduation_year", LATEST_YEAR + 1, str(LATEST_YEAR + 1), YEAR_MESSAGE),
    ("step2ck_score", 301, "301", "Ensure this value is less than or equal to 300."),
    ("toefl_score", 121, "121", "Ensure this value is less than or equal to 120."),
]
BAD_VALUE_IDS = ["email", "year-1959", "year-now+9", "step2ck-301", "toefl-121"]


# --- helpers ------------------------------------------------------------------------


def saved_profile(student) -> dict:
    """The stored profile, CV bytes included, to prove a refusal saved nothing."""
    with scopes_disabled():
        profile = StudentProfile.objects.get(membership=student)
        data = model_to_dict(profile, exclude=["cv"])
        data["updated_at"] = profile.updated_at
        data["cv_name"] = profile.cv.name
        with profile.cv.open("rb") as stored:
            data["cv_bytes"] = stored.read()
        return data


def patch_json(client, data: dict):
    return client.patch("/api/v1/profile", data, content_type="application/json")


def patch_multipart(client, data: dict):
    return client.patch(
        "/api/v1/profile", encode_multipart(BOUNDARY, data), content_type=MULTIPART_CONTENT
    )


def error_next_to(field: str, message: str) -> str:
    """How includes/field.html renders an error right under its field."""
    return f'<p class="error" id="id_{field}_error">{escape(message)}</p>'


@pytest.fixture
def student(world):
    """A student still filling in the profile (editable), CV already uploaded."""
    with scopes_disabled():
        return factories.StudentFactory(
            organization=world["demo"]["org"], verification_status="incomplete"
        )


@pytest.fixture
def api(student, client_for):
    return client_for(student)


@pytest.fixture
def browser(student, client_for):
    return client_for(student)


# --- Sign-up ------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", [str, str.upper], ids=["same", "upper-case"])
def test_duplicate_signup_email_creates_no_second_account(world, spelling):
    """Email verification is mandatory and allauth prevents account enumeration: a
    duplicate address gets the same "check your inbox" answer as a new one, no account is
    made, and the address's owner is emailed that they already have an account."""
    existing = world["demo"]["student"]
    with scopes_disabled():
        email = existing.user.email
        users_before = User.objects.count()
        memberships_before = Membership.objects.count()
    client = Client(HTTP_HOST="demo.localhost")
    password = "a-New-passw0rd-for-signup"

    response = client.post(
        "/accounts/signup/",
        {"email": spelling(email), "password1": password, "password2": password},
    )

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    with scopes_disabled():
        assert User.objects.count() == users_before
        assert Membership.objects.count() == memberships_before
        [notice] = OutboundEmail.objects.filter(template="allauth_message")
    assert notice.recipient == email
    assert notice.context["kind"] == "account_already_exists"
    assert notice.organization_id == world["demo"]["org"].pk
    assert authenticate(email=email, password=password) is None  # the old password stands
    assert authenticate(email=email, password=factories.PASSWORD) is not None


# --- API PATCH /profile -------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "_form_value", "message"), BAD_VALUES, ids=BAD_VALUE_IDS
)
def test_api_refuses_bad_value_with_message_and_saves_nothing(
    student, api, field, value, _form_value, message
):
    before = saved_profile(student)

    response = patch_json(api, {"full_name": "Changed Name", field: value})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"] == f"{field}: {message}"
    assert message in body["errors"][field]
    assert saved_profile(student) == before


def test_api_refuses_unknown_specialty_and_saves_nothing(student, api):
    before = saved_profile(student)

    response = patch_json(api, {"specialty_interests": ["cardiology", "astrology"]})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"] == 'specialty_interests: 1: "astrology" is not a valid choice.'
    assert saved_profile(student) == before


def test_api_refuses_cv_over_10_mb_and_saves_nothing(student, api, big_file):
    before = saved_profile(student)

    response = patch_multipart(api, {"cv": big_file(), "full_name": "Changed Name"})

    assert response.status_code == 400
    assert response.json()["detail"] == "cv: The CV is 10.01 MB; files may be at most 10 MB."
    assert saved_profile(student) == before


def test_api_refuses_png_named_pdf_as_cv(student, api):
    before = saved_profile(student)
    png = SimpleUploadedFile("cv.pdf", PNG, content_type="application/pdf")

    response = patch_multipart(api, {"cv": png})

    assert response.status_code == 400
    assert response.json()["detail"] == "cv: The CV must be a PDF file."
    assert response.json()["errors"] == {"cv": ["The CV must be a PDF file."]}
    assert saved_profile(student) == before


def test_api_accepts_pdf_content_whatever_the_file_name(student, api):
    before = saved_profile(student)
    named_txt = SimpleUploadedFile("cv.txt", NEW_PDF, content_type="text/plain")

    response = patch_multipart(api, {"cv": named_txt})

    assert response.status_code == 200
    after = saved_profile(student)
    assert after["cv_bytes"] == NEW_PDF
    assert after["cv_name"] != before["cv_name"]
    assert after["cv_name"].endswith(".pdf")
    assert response.json()["cv_url"] == f"/students/{after['id']}/cv/"


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(year=st.one_of(st.integers(EARLIEST_YEAR - 40, LATEST_YEAR + 40), st.integers()))
@example(year=EARLIEST_YEAR - 1)
@example(year=EARLIEST_YEAR)
@example(year=LATEST_YEAR)
@example(year=LATEST_YEAR + 1)
def test_api_accepts_graduation_year_only_within_range(student, api, year):
    before = saved_profile(student)["graduation_year"]

    response = patch_json(api, {"graduation_year": year})

    if EARLIEST_YEAR <= year <= LATEST_YEAR:
        assert response.status_code == 200
        assert saved_profile(student)["graduation_year"] == year
    else:
        assert response.status_code == 400
        assert YEAR_MESSAGE in response.json()["errors"]["graduation_year"]
        assert saved_profile(student)["graduation_year"] == before


# --- The browser form ---------------------------------------------------------------


def test_valid_form_saves(student, browser):
    response = browser.post("/profile/", {**PROFILE_FORM, "save": ""})

    assert response.status_code == 302
    assert saved_profile(student)["medical_school"] == PROFILE_FORM["medical_school"]


@pytest.mark.parametrize(("field", "_api_value", "value", "message"), BAD_VALUES, ids=BAD_VALUE_IDS)
def test_form_shows_error_next_to_field_and_saves_nothing(
    student, browser, field, _api_value, value, message
):
    before = saved_profile(student)

    response = browser.post("/profile/", {**PROFILE_FORM, field: value, "save": ""})

    assert response.status_code == 200
    assert error_next_to(field, message) in response.content.decode()
    assert saved_profile(student) == before


def test_form_refuses_unknown_specialty_and_saves_nothing(student, browser):
    before = saved_profile(student)

    response = browser.post(
        "/profile/",
        {**PROFILE_FORM, "specialty_interests": ["cardiology", "astrology"], "save": ""},
    )

    assert response.status_code == 200
    assert (
        error_next_to(
            "specialty_interests",
            "Select a valid choice. astrology is not one of the available choices.",
        )
        in response.content.decode()
    )
    assert saved_profile(student) == before


def test_form_refuses_cv_over_10_mb_and_saves_nothing(student, browser, big_file):
    before = saved_profile(student)

    response = browser.post("/profile/", {**PROFILE_FORM, "cv": big_file(), "save": ""})

    assert response.status_code == 200
    message = "The CV is 10.01 MB; files may be at most 10 MB."
    assert error_next_to("cv", message) in response.content.decode()
    assert saved_profile(student) == before


def test_form_refuses_png_named_pdf_as_cv(student, browser):
    before = saved_profile(student)
    png = SimpleUploadedFile("cv.pdf", PNG, content_type="application/pdf")

    response = browser.post("/profile/", {**PROFILE_FORM, "cv": png, "save": ""})

    assert response.status_code == 200
    assert error_next_to("cv", "The CV must be a PDF file.") in response.content.decode()
    assert saved_profile(student) == before


def test_form_accepts_pdf_content_whatever_the_file_name(student, browser):
    before = saved_profile(student)
    named_txt = SimpleUploadedFile("cv.txt", NEW_PDF, content_type="text/plain")

    response = browser.post("/profile/", {**PROFILE_FORM, "cv": named_txt, "save": ""})

    assert response.status_code == 302
    after = saved_profile(student)
    assert after["cv_bytes"] == NEW_PDF
    assert after["cv_name"] != before["cv_name"]
    assert after["cv_name"].endswith(".pdf")
