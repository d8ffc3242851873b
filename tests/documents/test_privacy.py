"""Who gets a document's bytes (DESIGN §3, §7): the student, the organization's admins,
and attendings with an ``approved`` or ``in_progress`` rotation with the student.
Everyone else gets 404 — another student, an attending with no such rotation, the
attending a request waits on, a member of another organization — on both doors, the API
(``/api/v1/documents/{id}/file``) and its browser twin (``/documents/{id}/file/``).
Anonymous callers get 401 (API) or the sign-in page (browser).

The requested attending sees the student's profile and CV (the CV lives on the profile,
``/students/{profile}/cv/``), never another document; a decline ends even that."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from documents.access import can_read
from documents.models import DocumentType
from documents.uploads import upload_document
from tests import factories
from tests.conftest import MINIMAL_PDF, host_of

pytestmark = pytest.mark.django_db

TB_REPORT = b"%PDF-1.4\n% the student's TB test report\ntrailer<<>>\n%%EOF\n"
PASSPORT = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
)


def upload(student, code: str, content: bytes, **dates):
    with scope(organization=student.organization_id):
        return upload_document(
            student,
            DocumentType.objects.get(code=code),
            SimpleUploadedFile("scan", content),
            issued_on=dates.get("issued_on", timezone.localdate() - timedelta(days=30)),
            expires_on=dates.get("expires_on"),
        )


@pytest.fixture
def documents(demo):
    """The demo student's TB report (PDF) and passport (PNG)."""
    return {
        "tb": upload(demo["student"], "tb_test_immunizations", TB_REPORT),
        "passport": upload(
            demo["student"],
            "passport_visa",
            PASSPORT,
            expires_on=timezone.localdate() + timedelta(days=3 * 365),
        ),
    }


@pytest.fixture
def attending_with(demo):
    """A new attending of the demo organization with a rotation of ``status`` with the
    demo student."""

    def make(status):
        with scopes_disabled():
            rotation = factories.RotationFactory(
                organization=demo["org"], student=demo["student"], status=status
            )
            return rotation.attending.membership

    return make


def doors(document) -> dict[str, str]:
    return {
        "api": f"/api/v1/documents/{document.pk}/file",
        "page": f"/documents/{document.pk}/file/",
    }


def fetch_both(client, document) -> dict:
    return {door: client.get(url) for door, url in doors(document).items()}


def assert_not_found(client, documents_by_name: dict, *, detail: str = "Not found.") -> None:
    for name, document in documents_by_name.items():
        answers = fetch_both(client, document)
        assert {door: answer.status_code for door, answer in answers.items()} == {
            "api": 404,
            "page": 404,
        }, name
        assert answers["api"].json() == {"detail": detail, "code": "not_found"}
        for answer in answers.values():
            assert TB_REPORT not in answer.content and PASSPORT not in answer.content


def assert_gets_the_bytes(client, documents_by_name: dict) -> None:
    expected = {"tb": (TB_REPORT, "application/pdf"), "passport": (PASSPORT, "image/png")}
    for name, document in documents_by_name.items():
        content, content_type = expected[name]
        for door, answer in fetch_both(client, document).items():
            assert answer.status_code == 200, (name, door)
            assert b"".join(answer.streaming_content) == content
            assert answer["Content-Type"] == content_type
            extension = "pdf" if content_type == "application/pdf" else "png"
            assert answer["Content-Disposition"] == (
                f'attachment; filename="{document.document_type.code}-{document.pk}.{extension}"'
            )
            assert answer["X-Content-Type-Options"] == "nosniff"
            assert "no-store" in answer["Cache-Control"] and "private" in answer["Cache-Control"]


# --- Who gets the bytes ---------------------------------------------------------------------


def test_the_student_gets_their_own_files(demo, documents, client_for):
    assert_gets_the_bytes(client_for(demo["student"]), documents)


def test_the_organizations_admin_gets_the_files(demo, documents, client_for):
    assert_gets_the_bytes(client_for(demo["admin"]), documents)


@pytest.mark.parametrize("status", ["approved", "in_progress"])
def test_the_attending_of_an_approved_or_in_progress_rotation_gets_the_files(
    status, documents, attending_with, client_for
):
    assert_gets_the_bytes(client_for(attending_with(status)), documents)


# --- Who gets 404 ---------------------------------------------------------------------------


def test_another_student_gets_404(demo, documents, client_for):
    with scopes_disabled():
        classmate = factories.StudentFactory(organization=demo["org"])
    assert_not_found(client_for(classmate), documents)


def test_an_attending_without_a_rotation_with_the_student_gets_404(demo, documents, client_for):
    assert_not_found(client_for(demo["attending"]), documents)


@pytest.mark.parametrize("status", ["on_hold", "completed", "declined", "cancelled"])
def test_an_attending_whose_rotation_is_not_active_gets_404(
    status, documents, attending_with, client_for
):
    assert_not_found(client_for(attending_with(status)), documents)


def test_the_attending_of_another_students_rotation_gets_404(demo, documents, client_for):
    with scopes_disabled():
        rotation = factories.RotationFactory(organization=demo["org"], status="approved")
    assert_not_found(client_for(rotation.attending.membership), documents)


def test_the_requested_attending_gets_404_for_every_document(
    demo, documents, attending_with, client_for
):
    requested_attending = attending_with("requested")

    assert_not_found(client_for(requested_attending), documents)
    with scope(organization=demo["org"].pk):
        assert not any(can_read(requested_attending, doc) for doc in documents.values())


def test_members_of_another_organization_get_404_on_either_host(
    demo, northside, documents, client_for
):
    for outsider in (northside["admin"], northside["student"], northside["attending"]):
        assert_not_found(client_for(outsider), documents)  # on their own site
        # On ours, where they are not members: the same 404 as every call there (§2).
        assert_not_found(
            client_for(outsider, host=host_of(demo["org"])),
            documents,
            detail="You are not a member of this organization.",
        )


def test_anonymous_callers_get_401_or_the_sign_in_page(documents, client_for):
    client = client_for(None, host=host_of(documents["tb"].organization))
    answers = fetch_both(client, documents["tb"])

    assert answers["api"].status_code == 401
    assert answers["api"]["WWW-Authenticate"]
    assert answers["page"].status_code == 302
    assert "/accounts/login/" in answers["page"]["Location"]
    assert TB_REPORT not in answers["api"].content + answers["page"].content


def test_a_missing_id_and_another_organizations_id_look_the_same(
    demo, northside, documents, client_for
):
    theirs = upload(northside["student"], "tb_test_immunizations", TB_REPORT)
    client = client_for(demo["admin"])
    for pk in (theirs.pk, 987_654_321):
        answer = client.get(f"/api/v1/documents/{pk}/file")
        assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
        assert client.get(f"/documents/{pk}/file/").status_code == 404


# --- The requested attending sees the profile and CV, nothing more -------------------------


def profile_doors(student) -> dict[str, str]:
    with scopes_disabled():
        pk = student.profile.pk
    return {
        "profile_api": f"/api/v1/students/{pk}",
        "profile_page": f"/students/{pk}/",
        "cv": f"/students/{pk}/cv/",
    }


def test_the_requested_attending_gets_the_profile_and_the_cv(
    demo, documents, attending_with, client_for
):
    client = client_for(attending_with("requested"))
    answers = {door: client.get(url) for door, url in profile_doors(demo["student"]).items()}

    assert {door: answer.status_code for door, answer in answers.items()} == {
        "profile_api": 200,
        "profile_page": 200,
        "cv": 200,
    }
    assert answers["cv"]["Content-Type"] == "application/pdf"
    assert b"".join(answers["cv"].streaming_content) == MINIMAL_PDF  # the factory's CV
    # The profile names no other document.
    assert f"/documents/{documents['tb'].pk}/" not in answers["profile_page"].content.decode()


@pytest.mark.parametrize("ending", ["declined", "withdrawn", "expired"])
def test_the_requested_attending_loses_the_profile_and_cv_when_the_request_ends(
    ending, demo, attending_with, client_for
):
    attending = attending_with("requested")
    with scopes_disabled():
        rotation = attending.attending_profile.rotations.get()
        rotation.status = ending
        rotation.save(update_fields=["status"])
    client = client_for(attending)

    for url in profile_doors(demo["student"]).values():
        assert client.get(url).status_code == 404


def test_a_request_to_another_attending_opens_nothing_to_this_one(demo, attending_with, client_for):
    attending_with("requested")  # a request to someone else
    client = client_for(demo["attending"])
    for url in profile_doors(demo["student"]).values():
        assert client.get(url).status_code == 404
