"""The school's upload link in the browser (DESIGN §7, §10, issue 8): the link emailed to
the school contact when the rotation is requested opens without an account, takes each
school-issued document once and shows what was received. A second upload of the same
type, a tampered link, an expired link and a payment link each get a clear page and
change nothing."""

from datetime import datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from documents.models import Document
from notifications.models import OutboundEmail
from rotations.services import request_rotation, withdraw_rotation
from tests import factories
from tests.conftest import MINIMAL_PDF
from usdoctors import signed_links
from usdoctors.models import UsedLink

pytestmark = pytest.mark.django_db

LETTER = "letter_of_good_standing"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


def requested(world, *, weeks_ahead=4):
    """A rotation of the world's student, requested through the real service (which
    emails the school contact its upload link)."""
    start = factories.next_monday(weeks_ahead)
    with scopes_disabled():
        attending = factories.AttendingProfileFactory(organization=world["org"])
        factories.publish(attending, start, 2)
    with scope(organization=world["org"]):
        return request_rotation(
            world["student"],
            attending=attending,
            rotation_type="clerkship",
            mode="in_person",
            start=start,
            weeks=2,
        )


def school_email(rotation) -> OutboundEmail:
    with scopes_disabled():
        return OutboundEmail.objects.get(
            template="school_documents_request", context__rotation_id=rotation.pk
        )


def link_path(rotation) -> str:
    url = school_email(rotation).context["upload_url"]
    return url[url.index("/school/documents/") :]


def school_client(world) -> Client:
    """Nobody signed in: the school contact has no account."""
    return Client(HTTP_HOST=f"{world['org'].slug}.localhost")


def letter(content=MINIMAL_PDF, name="letter.pdf", issued_on=None) -> dict:
    issued_on = issued_on or timezone.localdate() - timedelta(days=5)
    return {
        "document_type": LETTER,
        f"{LETTER}-issued_on": issued_on.isoformat(),
        f"{LETTER}-file": SimpleUploadedFile(name, content),
    }


def stored_files() -> set[str]:
    root = Path(django_settings.STORAGES["default"]["OPTIONS"]["location"])
    return {str(path) for path in root.rglob("*") if path.is_file() and "documents" in path.parts}


def snapshot() -> dict:
    with scopes_disabled():
        return {
            "documents": sorted(
                Document.objects.values_list("pk", "file", "status", "uploaded_at", "issued_on")
            ),
            "used": UsedLink.objects.count(),
            "files": stored_files(),
        }


@pytest.fixture
def rotation(demo, northside):
    requested(northside)  # another tenant's link and rows exist too
    return requested(demo)


def test_the_request_emails_the_school_contact_a_link_with_what_is_needed(demo, rotation):
    email = school_email(rotation)
    assert email.recipient == "registrar@school.test"
    assert email.context["document_names"] == ["Letter of good standing"]
    start = rotation.start
    assert email.context["upload_by"] == f"{start:%B} {start.day}, {start.year}"
    assert link_path(rotation).startswith("/school/documents/")


def test_the_emailed_link_opens_without_an_account(demo, rotation):
    response = school_client(demo).get(link_path(rotation))
    assert response.status_code == 200
    page = response.content.decode()
    assert demo["student"].display_name in page
    start = rotation.start
    assert f"{start:%B} {start.day}, {start.year}" in page
    assert "Letter of good standing" in page
    assert 'name="letter_of_good_standing-file"' in page
    assert 'enctype="multipart/form-data"' in page
    assert 'data-testid="received"' not in page


def test_the_school_uploads_the_letter_once_and_the_page_shows_it_received(demo, rotation):
    client = school_client(demo)
    path = link_path(rotation)
    response = client.post(path, letter(), follow=True)
    assert response.redirect_chain[-1][0] == path
    page = response.content.decode()
    assert "Thank you: we received the Letter of good standing" in page
    assert 'data-testid="received"' in page
    assert 'name="letter_of_good_standing-file"' not in page  # no second upload offered
    with scopes_disabled():
        document = Document.objects.get(document_type__code=LETTER)
    assert document.student == demo["student"]
    assert document.uploaded_by == "school"
    assert document.status == "submitted"
    # The student sees it on their documents page, uploaded by the school.
    student = Client(HTTP_HOST="demo.localhost")
    student.force_login(demo["student"].user)
    assert "by your school" in student.get("/documents/").content.decode()


def test_a_second_upload_of_the_same_type_gets_a_clear_page_and_changes_nothing(demo, rotation):
    client = school_client(demo)
    path = link_path(rotation)
    client.post(path, letter())
    before = snapshot()
    response = client.post(path, letter(content=PNG, name="again.png"))
    assert response.status_code == 409
    page = response.content.decode()
    assert "This link was already used" in page
    assert "The Letter of good standing was already uploaded through this link" in page
    assert "Nothing was changed." in page
    assert snapshot() == before


def test_a_bad_file_is_refused_next_to_the_field_and_the_link_still_works(demo, rotation):
    client = school_client(demo)
    path = link_path(rotation)
    before = snapshot()
    response = client.post(path, letter(content=b"MZ\x90\x00" + b"\x00" * 100, name="x.pdf"))
    assert response.status_code == 400
    error = response.content.decode().split('id="id_letter_of_good_standing-file_error"', 1)[1]
    assert "The file must be a PDF" in error[:200]
    assert snapshot() == before  # no document, no file, the link not spent
    assert client.post(path, letter()).status_code == 302


def test_a_tampered_link_gets_a_clear_400_page_and_changes_nothing(demo, rotation):
    path = link_path(rotation)
    token = path.rstrip("/").rsplit("/", 1)[1]
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    client = school_client(demo)
    before = snapshot()
    for response in (
        client.get(f"/school/documents/{tampered}/"),
        client.post(f"/school/documents/{tampered}/", letter()),
    ):
        assert response.status_code == 400
        assert "This link is not valid" in response.content.decode()
    assert snapshot() == before


def test_an_expired_link_gets_a_clear_410_page_and_changes_nothing(demo, rotation):
    path = link_path(rotation)
    client = school_client(demo)
    before = snapshot()
    after_start = timezone.make_aware(datetime.combine(rotation.start, datetime.min.time()))
    with time_machine.travel(after_start + timedelta(hours=10), tick=False):
        for response in (client.get(path), client.post(path, letter())):
            assert response.status_code == 410
            assert "This link has expired" in response.content.decode()
    assert snapshot() == before


def test_a_payment_link_token_is_not_accepted_here(demo, rotation):
    token = signed_links.make_token(
        demo["org"],
        rotation.pk,
        signed_links.SCHOOL_PAYMENT,
        expires=timezone.now() + timedelta(days=10),
    )
    client = school_client(demo)
    before = snapshot()
    assert client.get(f"/school/documents/{token}/").status_code == 400
    assert client.post(f"/school/documents/{token}/", letter()).status_code == 400
    assert snapshot() == before


def test_the_link_does_not_open_on_another_organizations_site(demo, northside, rotation):
    response = school_client(northside).get(link_path(rotation))
    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()


def test_a_withdrawn_request_voids_the_link(demo, rotation):
    with scope(organization=demo["org"]):
        withdraw_rotation(rotation, by=demo["student"])
    before = snapshot()
    response = school_client(demo).post(link_path(rotation), letter())
    assert response.status_code == 400
    assert "no longer going ahead" in response.content.decode()
    assert snapshot() == before


def test_a_type_the_rotation_does_not_ask_the_school_for_is_refused(demo, rotation):
    before = snapshot()
    data = letter()
    data["document_type"] = "drug_test"
    response = school_client(demo).post(link_path(rotation), data)
    assert response.status_code == 400
    assert "Choose one of the documents this page asks for." in response.content.decode()
    assert snapshot() == before
