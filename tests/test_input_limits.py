"""Input limits (hardening): bodies have a maximum length, names refuse text-direction
controls, a replaced CV leaves the disk, and the size error reads right."""

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scopes_disabled

from accounts.models import StudentProfile, SupportTicket, TicketReply
from rotations.models import AttendingProfile, Message
from tests import factories
from tests.accounts.test_profile_input import patch_multipart
from tests.conftest import MINIMAL_PDF
from usdoctors.text import LONG_TEXT_MAX

TOO_LONG = "x" * (LONG_TEXT_MAX + 1)
LENGTH_MESSAGE = f"Ensure this field has no more than {LONG_TEXT_MAX} characters."  # API
PAGE_LENGTH_MESSAGE = f"Ensure this value has at most {LONG_TEXT_MAX} characters"
OVERRIDE = "Dr. Ann\u202eeilrahc"  # renders as "Dr. Ann charlie"-like reversed text


def count(model) -> int:
    with scopes_disabled():
        return model.objects.count()


# --- Maximum lengths -------------------------------------------------------------------


def test_an_eleven_megabyte_ticket_is_refused_and_not_stored(demo, client_for):
    response = client_for(demo["student"]).post(
        "/api/v1/tickets",
        {"category": "general", "subject": "Huge", "message": "x" * (11 * 1024 * 1024)},
        content_type="application/json",
    )
    assert response.status_code in (400, 413)
    assert count(SupportTicket) == 0


def test_a_ticket_over_the_limit_is_refused_with_its_field_named(demo, client_for):
    client = client_for(demo["student"])
    response = client.post(
        "/api/v1/tickets",
        {"category": "general", "subject": "Long", "message": TOO_LONG},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["message"] == [LENGTH_MESSAGE]
    page = client.post(
        "/support/new/", {"category": "general", "subject": "Long", "message": TOO_LONG}
    )
    assert page.status_code in (200, 400)
    assert PAGE_LENGTH_MESSAGE in page.content.decode()
    assert count(SupportTicket) == 0

    at_limit = client.post(
        "/api/v1/tickets",
        {"category": "general", "subject": "Just fits", "message": "x" * LONG_TEXT_MAX},
        content_type="application/json",
    )
    assert at_limit.status_code == 201


def test_a_reply_over_the_limit_is_refused(demo, client_for):
    with scopes_disabled():
        ticket = SupportTicket.objects.create(
            organization=demo["org"],
            author=demo["student"],
            category="general",
            subject="Question",
            message="Hello",
        )
    client = client_for(demo["admin"])
    response = client.post(
        f"/api/v1/tickets/{ticket.pk}/replies",
        {"message": TOO_LONG},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "message" in response.json()["errors"]
    page = client_for(demo["student"]).post(f"/support/{ticket.pk}/", {"message": TOO_LONG})
    assert PAGE_LENGTH_MESSAGE in page.content.decode()
    assert count(TicketReply) == 0


@pytest.fixture
def rotation(demo):
    with scopes_disabled():
        attending = factories.AttendingProfileFactory(
            organization=demo["org"], membership=demo["attending"]
        )
        return factories.RotationFactory(
            attending=attending, student=demo["student"], status="approved"
        )


def test_a_thread_message_over_the_limit_is_refused(demo, client_for, rotation):
    client = client_for(demo["student"])
    response = client.post(
        f"/api/v1/rotations/{rotation.pk}/messages",
        {"body": TOO_LONG},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "body" in response.json()["errors"]
    page = client.post(f"/rotations/{rotation.pk}/messages/", {"message-body": TOO_LONG})
    assert page.status_code == 400
    assert PAGE_LENGTH_MESSAGE in page.content.decode()
    assert count(Message) == 0


# --- Names refuse bidirectional overrides ---------------------------------------------


@pytest.mark.parametrize("field", ["full_name", "medical_school"])
def test_student_names_refuse_text_direction_controls(world, client_for, field):
    with scopes_disabled():
        student = factories.StudentFactory(
            organization=world["demo"]["org"], verification_status="incomplete"
        )
        before = getattr(StudentProfile.objects.get(membership=student), field)
    response = client_for(student).patch(
        "/api/v1/profile", {field: OVERRIDE}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "text-direction" in response.json()["errors"][field][0]
    with scopes_disabled():
        assert getattr(StudentProfile.objects.get(membership=student), field) == before


@pytest.mark.parametrize(
    "character",
    ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"],
)
def test_every_override_and_isolate_control_is_refused_in_an_attending_name(
    demo, client_for, character
):
    with scopes_disabled():
        profile = factories.AttendingProfileFactory(
            organization=demo["org"], membership=demo["attending"]
        )
    response = client_for(demo["attending"]).patch(
        "/api/v1/attending/profile",
        {"display_name": f"Dr. Ann{character}Lee"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "display_name" in response.json()["errors"]
    with scopes_disabled():
        assert AttendingProfile.objects.get(pk=profile.pk).display_name == profile.display_name


def test_names_in_other_scripts_are_welcome(world, client_for):
    with scopes_disabled():
        student = factories.StudentFactory(
            organization=world["demo"]["org"], verification_status="incomplete"
        )
    response = client_for(student).patch(
        "/api/v1/profile", {"full_name": "مريم الحسن"}, content_type="application/json"
    )
    assert response.status_code == 200


# --- Files -----------------------------------------------------------------------------


def stored_path(student) -> str:
    with scopes_disabled():
        profile = StudentProfile.objects.get(membership=student)
        return profile.cv.path


def test_replacing_a_cv_deletes_the_old_file(world, client_for, django_capture_on_commit_callbacks):
    with scopes_disabled():
        student = factories.StudentFactory(
            organization=world["demo"]["org"], verification_status="incomplete"
        )
    old = stored_path(student)
    assert os.path.exists(old)

    with django_capture_on_commit_callbacks(execute=True):
        response = patch_multipart(
            client_for(student),
            {"cv": SimpleUploadedFile("new.pdf", MINIMAL_PDF, content_type="application/pdf")},
        )
    assert response.status_code == 200, response.content
    new = stored_path(student)
    assert new != old
    assert os.path.exists(new)
    assert not os.path.exists(old)


def test_replacing_a_cv_from_the_profile_page_deletes_the_old_file(
    world, client_for, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        student = factories.StudentFactory(
            organization=world["demo"]["org"], verification_status="incomplete"
        )
        profile = StudentProfile.objects.get(membership=student)
        data = {
            name: getattr(profile, name)
            for name in StudentProfile.EDITABLE_FIELDS
            if name not in ("cv", "specialty_interests") and getattr(profile, name) is not None
        }
    old = stored_path(student)
    data["cv"] = SimpleUploadedFile("again.pdf", MINIMAL_PDF, content_type="application/pdf")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(student).post("/profile/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not os.path.exists(old)
    assert os.path.exists(stored_path(student))


def test_a_file_just_over_ten_megabytes_does_not_read_as_ten(world, client_for, big_file):
    with scopes_disabled():
        student = factories.StudentFactory(
            organization=world["demo"]["org"], verification_status="incomplete"
        )
    response = patch_multipart(client_for(student), {"cv": big_file()})
    assert response.status_code == 400
    message = response.json()["errors"]["cv"][0]
    assert message == "The CV is 10.01 MB; files may be at most 10 MB."
