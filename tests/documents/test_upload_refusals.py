"""Refused uploads (DESIGN §7, issue 8): PDF, PNG or JPEG only, checked by content, at
most 10 MB, never empty, with sane dates; the CV is kept on the profile. Each refusal
answers a clear message naming the field and writes nothing: no Document row and no new
file anywhere under the storage root. A hostile file name is never used: the file is
stored under our generated name inside the organization's folder.

Both doors are tested: ``POST /api/v1/documents`` and the service every door calls
(documents.uploads.upload_document)."""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from documents.models import Document, DocumentType
from documents.uploads import upload_document
from usdoctors.errors import Invalid

pytestmark = pytest.mark.django_db

DOCUMENTS = "/api/v1/documents"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
# A Windows executable's first bytes (the "MZ" DOS header), saved under a .pdf name.
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
TEN_MB_AND_ONE_BYTE = 10 * 1024 * 1024 + 1


def today():
    return timezone.localdate()


def storage_root() -> Path:
    return Path(settings.STORAGES["default"]["OPTIONS"]["location"])


def stored_files() -> set[str]:
    """Every file under the storage root, as paths relative to it."""
    root = storage_root()
    found = set()
    for folder, _dirs, files in os.walk(root):
        for name in files:
            found.add(str((Path(folder) / name).relative_to(root)))
    return found


def document_count() -> int:
    with scopes_disabled():
        return Document.objects.count()


def over_ten_megabytes() -> bytes:
    body = PDF + b"0" * TEN_MB_AND_ONE_BYTE
    return body[:TEN_MB_AND_ONE_BYTE]


# Each refused upload: (what is sent, expected field, expected code, words in the message).
# ``type`` is the catalog code; dates are days from today (None: left out).
REFUSALS = {
    "exe_renamed_pdf": (
        {"name": "setup.pdf", "content": EXE, "mime": "application/pdf"},
        "file",
        "file_type",
        "must be a PDF, PNG or JPEG file",
    ),
    "pdf_of_10_mb_and_1_byte": (
        {"name": "big.pdf", "content": over_ten_megabytes(), "mime": "application/pdf"},
        "file",
        "file_too_large",
        "at most 10 MB",
    ),
    "html_posing_as_png": (
        {"name": "photo.png", "content": HTML, "mime": "image/png"},
        "file",
        "file_type",
        "must be a PDF, PNG or JPEG file",
    ),
    "empty_file": (
        {"name": "empty.pdf", "content": b"", "mime": "application/pdf"},
        "file",
        "empty_file",
        "is empty",
    ),
    "future_issue_date": (
        {"issued": 1},
        "issued_on",
        "issued_in_future",
        "cannot be in the future",
    ),
    "expiry_before_issue": (
        {"issued": -30, "expires": -31},
        "expires_on",
        "expires_before_issue",
        "cannot be before the issue date",
    ),
    "insurance_without_expiry": (
        {"type": "liability_insurance", "expires": None},
        "expires_on",
        "expiry_required",
        "expiry date",
    ),
    "cv_is_kept_on_the_profile": (
        {"type": "cv"},
        "document_type",
        "kept_on_profile",
        "part of your profile",
    ),
}


def upload_fields(case: dict) -> dict:
    """The upload ``case`` describes, filled in with a valid PDF of a TB test issued a
    month ago (and, for types that need one, an expiry a year ahead)."""
    document_type = case.get("type", "tb_test_immunizations")
    expires = case.get("expires", 365 if document_type == "liability_insurance" else None)
    return {
        "document_type": document_type,
        "file": SimpleUploadedFile(
            case.get("name", "report.pdf"), case.get("content", PDF), case.get("mime", "")
        ),
        "issued_on": today() + timedelta(days=case.get("issued", -30)),
        "expires_on": None if expires is None else today() + timedelta(days=expires),
    }


def as_form(fields: dict) -> dict:
    form = {"document_type": fields["document_type"], "file": fields["file"]}
    form["issued_on"] = fields["issued_on"].isoformat()
    if fields["expires_on"] is not None:
        form["expires_on"] = fields["expires_on"].isoformat()
    return form


# --- The API --------------------------------------------------------------------------------


@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
def test_the_api_refuses_the_upload_with_a_clear_message_and_stores_nothing(case, demo, client_for):
    sent, field, code, words = REFUSALS[case]
    client = client_for(demo["student"])
    files_before, rows_before = stored_files(), document_count()

    response = client.post(DOCUMENTS, as_form(upload_fields(sent)))

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == code
    assert words in body["detail"]
    assert words in body["errors"][field][0]
    assert document_count() == rows_before
    assert stored_files() == files_before


def test_the_api_refuses_an_upload_without_an_issue_date(demo, client_for):
    form = as_form(upload_fields({}))
    del form["issued_on"]
    files_before, rows_before = stored_files(), document_count()

    response = client_for(demo["student"]).post(DOCUMENTS, form)

    assert response.status_code == 400
    assert response.json()["errors"]["issued_on"] == ["This field is required."]
    assert response.json()["detail"] == "issued_on: This field is required."
    assert (document_count(), stored_files()) == (rows_before, files_before)


def test_a_refused_replacement_keeps_the_current_document_and_its_file(demo, client_for):
    client = client_for(demo["student"])
    first = client.post(DOCUMENTS, as_form(upload_fields({})))
    assert first.status_code == 201
    with scopes_disabled():
        kept = Document.objects.get(pk=first.json()["id"])
    files_before = stored_files()

    response = client.post(DOCUMENTS, as_form(upload_fields(REFUSALS["exe_renamed_pdf"][0])))

    assert response.status_code == 400
    with scopes_disabled():
        after = Document.objects.get(pk=kept.pk)
    assert (after.file.name, after.issued_on, after.uploaded_at) == (
        kept.file.name,
        kept.issued_on,
        kept.uploaded_at,
    )
    assert stored_files() == files_before
    assert (storage_root() / kept.file.name).read_bytes() == PDF


def multipart_with_file_name(file_name: str, content: bytes) -> tuple[bytes, str]:
    """A multipart body carrying ``file_name`` as the browser sent it (Django's test
    client would strip the folders before sending)."""
    boundary = "----usdoctors-test-boundary"
    parts = [
        (b'Content-Disposition: form-data; name="document_type"', b"tb_test_immunizations"),
        (b'Content-Disposition: form-data; name="issued_on"', str(today()).encode()),
        (
            b'Content-Disposition: form-data; name="file"; filename="'
            + file_name.encode()
            + b'"\r\nContent-Type: application/pdf',
            content,
        ),
    ]
    body = b"".join(
        b"--" + boundary.encode() + b"\r\n" + head + b"\r\n\r\n" + value + b"\r\n"
        for head, value in parts
    )
    body += b"--" + boundary.encode() + b"--\r\n"
    return body, f"multipart/form-data; boundary={boundary}"


def assert_stored_under_our_name(document: Document, organization) -> None:
    assert re.fullmatch(rf"org{organization.pk}/documents/[0-9a-f]{{32}}\.pdf", document.file.name)
    assert "passwd" not in document.file.name
    path = (storage_root() / document.file.name).resolve()
    assert path.is_relative_to(storage_root().resolve() / f"org{organization.pk}")
    assert path.read_bytes() == PDF


def test_a_path_traversal_file_name_is_stored_under_our_name_in_the_organizations_folder(
    demo, client_for
):
    body, content_type = multipart_with_file_name("../../etc/passwd.pdf", PDF)
    files_before = stored_files()

    response = client_for(demo["student"]).generic("POST", DOCUMENTS, body, content_type)

    assert response.status_code == 201, response.content
    with scopes_disabled():
        document = Document.objects.get(pk=response.json()["id"])
    assert_stored_under_our_name(document, demo["org"])
    assert stored_files() - files_before == {document.file.name}
    assert not any("passwd" in name for name in stored_files())
    assert not (storage_root().parent / "etc").exists()
    # The download is named by us too.
    download = client_for(demo["student"]).get(response.json()["file_url"])
    assert download["Content-Disposition"] == (
        f'attachment; filename="tb_test_immunizations-{document.pk}.pdf"'
    )


# --- The service ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", REFUSALS, ids=list(REFUSALS))
def test_the_service_refuses_the_upload_and_stores_nothing(case, demo):
    sent, field, code, words = REFUSALS[case]
    fields = upload_fields(sent)
    files_before, rows_before = stored_files(), document_count()

    with scope(organization=demo["org"].pk), pytest.raises(Invalid) as refused:
        upload_document(
            demo["student"],
            DocumentType.objects.get(code=fields["document_type"]),
            fields["file"],
            issued_on=fields["issued_on"],
            expires_on=fields["expires_on"],
        )

    assert (refused.value.code, refused.value.field) == (code, field)
    assert words in refused.value.message
    assert document_count() == rows_before
    assert stored_files() == files_before


def test_the_service_refuses_a_missing_issue_date(demo):
    files_before = stored_files()
    with scope(organization=demo["org"].pk), pytest.raises(Invalid) as refused:
        upload_document(
            demo["student"],
            DocumentType.objects.get(code="tb_test_immunizations"),
            SimpleUploadedFile("report.pdf", PDF),
            issued_on=None,
        )
    assert refused.value.field == "issued_on"
    assert refused.value.message == "Enter the date the document was issued."
    assert document_count() == 0
    assert stored_files() == files_before


def test_the_service_never_uses_the_uploaded_name(demo):
    with scope(organization=demo["org"].pk):
        document = upload_document(
            demo["student"],
            DocumentType.objects.get(code="tb_test_immunizations"),
            SimpleUploadedFile("../../etc/passwd.pdf", PDF),
            issued_on=today(),
        )
    assert_stored_under_our_name(document, demo["org"])
