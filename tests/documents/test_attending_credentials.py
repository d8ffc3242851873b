"""§15: attendings upload a licence and a board certification; admins verify them in the
documents review queue; students see each as verified, with its date, on the attending's
page and in search — and never a rejected or unreviewed one."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_scopes import scopes_disabled

from documents.models import AttendingCredential
from notifications.models import OutboundEmail
from rotations.models import AttendingProfile
from tests import factories
from tests.conftest import MINIMAL_PDF

pytestmark = pytest.mark.django_db

LICENCE_VERIFIED = "Medical licence verified by admins on"
BOARD_VERIFIED = "Board certification verified by admins on"


@pytest.fixture
def doctor(demo):
    with scopes_disabled():
        return factories.AttendingProfileFactory(
            organization=demo["org"], membership=demo["attending"], display_name="Dr. Lee Park"
        )


def today():
    return timezone.localdate()


def upload_form(kind: str, *, content=MINIMAL_PDF, **fields) -> dict:
    data = {
        f"{kind}-file": SimpleUploadedFile("scan.pdf", content),
        f"{kind}-issuer": "Texas Medical Board, licence Q1234",
        f"{kind}-issued_on": (today() - timedelta(days=400)).isoformat(),
        f"{kind}-expires_on": (today() + timedelta(days=300)).isoformat(),
    }
    data.update({f"{kind}-{name}": value for name, value in fields.items()})
    return data


def credentials_of(doctor) -> dict[str, AttendingCredential]:
    with scopes_disabled():
        return {c.kind: c for c in AttendingCredential.objects.filter(attending=doctor)}


def reload(doctor) -> AttendingProfile:
    with scopes_disabled():
        return AttendingProfile.objects.get(pk=doctor.pk)


def credential_files() -> set[str]:
    root = Path(django_settings.STORAGES["default"]["OPTIONS"]["location"])
    return {str(path) for path in root.rglob("*") if path.is_file()}


def student_sees(client_for, demo, doctor) -> list[str]:
    """The attending's page and the search results, as a student reads them."""
    student = client_for(demo["student"])
    return [
        student.get(f"/attendings/{doctor.pk}/").content.decode(),
        student.get("/attendings/").content.decode(),
    ]


def test_upload_approve_and_students_see_it_verified_with_its_date(demo, doctor, client_for):
    attending = client_for(demo["attending"])
    page = attending.get("/documents/credentials/").content.decode()
    assert "Medical licence" in page and "Board certification" in page
    assert 'href="/documents/credentials/"' in page  # in the attending's navigation
    for kind in ("medical_licence", "board_certification"):
        response = attending.post(f"/documents/credentials/{kind}/upload/", upload_form(kind))
        assert response.status_code == 302
    assert {c.status for c in credentials_of(doctor).values()} == {"submitted"}
    for html in student_sees(client_for, demo, doctor):  # waiting for review: not verified
        assert LICENCE_VERIFIED not in html and BOARD_VERIFIED not in html
        assert "Medical licence not verified yet" in html

    admin = client_for(demo["admin"])
    queue = admin.get("/documents/review/").content.decode()
    assert 'Medical licence <span class="muted">of</span> Dr. Lee Park' in queue
    assert "Texas Medical Board, licence Q1234" in queue
    for credential in credentials_of(doctor).values():
        response = admin.post(f"/documents/review/credentials/{credential.pk}/approve/")
        assert response.status_code == 302

    doctor = reload(doctor)
    assert doctor.licence_verified_at and doctor.board_certification_verified_at
    date = f"{today():%b} {today().day}, {today().year}"
    for html in student_sees(client_for, demo, doctor):
        assert f'{LICENCE_VERIFIED} <time datetime="{today():%Y-%m-%d}">{date}</time>' in html
        assert BOARD_VERIFIED in html
    body = client_for(demo["student"]).get(f"/api/v1/attendings/{doctor.pk}").json()
    assert body["licence_verified_at"] and body["board_certification_verified_at"]
    assert (
        "No licence or board certification waiting"
        in admin.get("/documents/review/").content.decode()
    )


def test_a_rejected_licence_is_not_shown_as_verified_and_the_attending_is_told(
    demo, doctor, client_for
):
    attending = client_for(demo["attending"])
    attending.post("/documents/credentials/medical_licence/upload/", upload_form("medical_licence"))
    licence = credentials_of(doctor)["medical_licence"]
    admin = client_for(demo["admin"])

    refused = admin.post(
        f"/documents/review/credentials/{licence.pk}/reject/",
        {f"reject-credential-{licence.pk}-reason": "  "},
    )
    assert refused.status_code == 400
    assert "Say why the document is rejected; the attending sees it." in refused.content.decode()
    assert credentials_of(doctor)["medical_licence"].status == "submitted"

    admin.post(
        f"/documents/review/credentials/{licence.pk}/reject/",
        {f"reject-credential-{licence.pk}-reason": "The scan is unreadable."},
    )
    licence = credentials_of(doctor)["medical_licence"]
    assert licence.status == "rejected" and licence.rejection_reason == "The scan is unreadable."
    assert reload(doctor).licence_verified_at is None
    for html in student_sees(client_for, demo, doctor):
        assert LICENCE_VERIFIED not in html and "Medical licence not verified yet" in html
    with scopes_disabled():
        email = OutboundEmail.objects.get(template="credential_rejected")
    assert email.recipient == demo["attending"].user.email
    assert email.context["reason"] == "The scan is unreadable."
    assert "The scan is unreadable." in attending.get("/documents/credentials/").content.decode()
    again = admin.post(f"/documents/review/credentials/{licence.pk}/approve/", follow=True)
    assert "already rejected" in again.content.decode()
    assert reload(doctor).licence_verified_at is None


def test_a_new_upload_takes_the_mark_off_until_it_is_approved(
    demo, doctor, client_for, django_capture_on_commit_callbacks
):
    attending = client_for(demo["attending"])
    attending.post("/documents/credentials/medical_licence/upload/", upload_form("medical_licence"))
    licence = credentials_of(doctor)["medical_licence"]
    client_for(demo["admin"]).post(f"/documents/review/credentials/{licence.pk}/approve/")
    assert reload(doctor).licence_verified_at is not None
    old_file = licence.file.path

    with django_capture_on_commit_callbacks(execute=True):  # the old file goes after commit
        attending.post(
            "/documents/credentials/medical_licence/upload/", upload_form("medical_licence")
        )

    assert reload(doctor).licence_verified_at is None
    renewed = credentials_of(doctor)["medical_licence"]
    assert renewed.pk == licence.pk and renewed.status == "submitted"
    assert not Path(old_file).exists()


@pytest.mark.parametrize(
    ("kind", "fields", "field", "message"),
    [
        ("medical_licence", {"content": b"not a pdf"}, "file", "PDF, PNG or JPEG"),
        ("medical_licence", {"expires_on": ""}, "expires_on", "Enter the expiry date"),
        (
            "medical_licence",
            {"expires_on": "2001-01-01", "issued_on": "2000-01-01"},
            "expires_on",
            "has expired",
        ),
        ("board_certification", {"issuer": ""}, "issuer", "Say who issued it"),
        (
            "board_certification",
            {"issued_on": "2999-01-01"},
            "issued_on",
            "cannot be in the future",
        ),
    ],
    ids=["not-a-document", "licence-without-expiry", "expired", "no-issuer", "future"],
)
def test_a_bad_upload_is_refused_with_its_reason_and_stores_nothing(
    demo, doctor, client_for, kind, fields, field, message
):
    before = credential_files()
    content = fields.pop("content", MINIMAL_PDF)
    response = client_for(demo["attending"]).post(
        f"/documents/credentials/{kind}/upload/", upload_form(kind, content=content, **fields)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert credentials_of(doctor) == {}
    assert credential_files() == before


def test_only_the_attending_uploads_and_only_they_and_admins_read_the_file(
    demo, northside, doctor, client_for
):
    for member in ("student", "admin"):
        response = client_for(demo[member]).post(
            "/documents/credentials/medical_licence/upload/", upload_form("medical_licence")
        )
        assert response.status_code == 403
    unknown = client_for(demo["attending"]).post(
        "/documents/credentials/diploma/upload/", upload_form("diploma")
    )
    assert unknown.status_code == 404
    assert credentials_of(doctor) == {}

    client_for(demo["attending"]).post(
        "/documents/credentials/medical_licence/upload/", upload_form("medical_licence")
    )
    licence = credentials_of(doctor)["medical_licence"]
    path = f"/documents/credentials/{licence.pk}/file/"
    assert client_for(demo["attending"]).get(path).status_code == 200
    assert client_for(demo["admin"]).get(path).status_code == 200
    assert client_for(demo["student"]).get(path).status_code == 404
    assert client_for(northside["admin"]).get(path).status_code == 404
    for member in ("student", "attending"):
        review = client_for(demo[member]).post(
            f"/documents/review/credentials/{licence.pk}/approve/"
        )
        assert review.status_code == 403
    other_admin = client_for(northside["admin"]).post(
        f"/documents/review/credentials/{licence.pk}/approve/"
    )
    assert other_admin.status_code == 404
    assert credentials_of(doctor)["medical_licence"].status == "submitted"
    assert reload(doctor).licence_verified_at is None


def test_search_shows_the_marks_at_no_extra_query(demo, client_for, django_assert_max_num_queries):
    now = timezone.now()
    with scopes_disabled():
        for number in range(25):
            factories.AttendingProfileFactory(
                organization=demo["org"],
                display_name=f"Dr. Marked {number}",
                licence_verified_at=now,
                board_certification_verified_at=now,
                npi="1234567893",
                npi_verified_at=now,
                npi_verified_by="registry",
            )
    client = client_for(demo["student"])
    with django_assert_max_num_queries(8):
        html = client.get("/attendings/").content.decode()
    assert html.count(LICENCE_VERIFIED) == 20 and html.count(BOARD_VERIFIED) == 20
    assert html.count("NPI verified against the NPPES registry on") == 20
