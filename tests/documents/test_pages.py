"""Documents in the browser (DESIGN §7, issue 8): the student's page with its uploads,
the file under the §3 rule, the admins' review queue, the required sets, the dashboards,
the rotation page's checklist and the staff console. Forms work without JavaScript; a
refusal is shown next to its field and stores nothing."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from documents.models import Document, DocumentType, RequiredDocumentType
from documents.review import approve_document, reject_document
from documents.uploads import upload_document
from notifications.models import OutboundEmail
from tests import factories
from tests.conftest import MINIMAL_PDF
from tests.test_audit_trail import submitted_form

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


def doc_type(code: str) -> DocumentType:
    return DocumentType.objects.get(code=code)


def today():
    return timezone.localdate()


def stored_files() -> set[str]:
    root = Path(django_settings.STORAGES["default"]["OPTIONS"]["location"])
    return {str(path) for path in root.rglob("*") if path.is_file() and "documents" in path.parts}


def give(student, code, *, issued_on=None, expires_on=None, approve_by=None, content=MINIMAL_PDF):
    """A document of ``code`` for ``student`` through the real upload service."""
    with scope(organization=student.organization_id):
        document = upload_document(
            student,
            doc_type(code),
            SimpleUploadedFile("record.pdf", content),
            issued_on=issued_on or today() - timedelta(days=30),
            expires_on=expires_on,
        )
        if approve_by is not None:
            document = approve_document(document, by=approve_by)
    return document


def booked(world, *, status="approved", weeks_ahead=4, attending=None, student=None):
    with scopes_disabled():
        return factories.RotationFactory(
            organization=world["org"],
            student=student or world["student"],
            attending=attending or factories.AttendingProfileFactory(organization=world["org"]),
            status=status,
            start=factories.next_monday(weeks_ahead),
        )


def form_data(code: str, *, issued_on=None, expires_on=None, file=None) -> dict:
    data = {f"{code}-issued_on": (issued_on or today() - timedelta(days=10)).isoformat()}
    if expires_on is not None:
        data[f"{code}-expires_on"] = expires_on.isoformat()
    if file is not None:
        data[f"{code}-file"] = file
    return data


def upload_url(code: str) -> str:
    return f"/documents/types/{code}/upload/"


# --- /documents/: the student's page ----------------------------------------------------


def test_student_sees_each_needed_type_and_each_rotations_missing_items_by_its_start(
    demo, northside, client_for
):
    rotation = booked(demo)
    booked(northside)
    give(northside["student"], "tb_test_immunizations")
    response = client_for(demo["student"]).get("/documents/")
    assert response.status_code == 200
    page = response.content.decode()
    for name in (
        "Letter of good standing",
        "TB test and immunization report",
        "Medical liability insurance",
        "Passport with visa or immigration status",
    ):
        assert name in page
    # The USMLE score report is asked only of students who report a Step.
    assert "USMLE score report" not in page
    # Each upcoming rotation: what is missing, by its start date.
    assert f'Still to do before <strong><time datetime="{rotation.start:%Y-%m-%d}">' in page
    assert "Upload your Medical liability insurance." in page
    # Expiry is marked required for the types valid through the rotation's end.
    assert 'id="id_liability_insurance-expires_on"' in page
    assert "Required: it must be valid through the end of the rotation." in page
    # One upload form per type, posting to that type's URL, working without JavaScript.
    assert f'action="{upload_url("tb_test_immunizations")}" enctype="multipart/form-data"' in page


def test_student_page_shows_the_document_with_its_dates_status_and_the_rejection_reason(
    demo, client_for
):
    booked(demo)
    document = give(
        demo["student"], "liability_insurance", expires_on=today() + timedelta(days=400)
    )
    with scope(organization=demo["org"]):
        reject_document(document, by=demo["admin"], reason="The policy number is not readable.")
    page = client_for(demo["student"]).get("/documents/").content.decode()
    assert "An admin rejected it:</strong> The policy number is not readable." in page
    assert f"{document.issued_on:%B} {document.issued_on.day}, {document.issued_on.year}" in page
    assert f'href="/documents/{document.pk}/file/"' in page
    assert f'action="/documents/{document.pk}/delete/"' in page
    assert "by you" in page


@pytest.mark.parametrize("role", ["admin", "attending"])
def test_only_students_have_a_documents_page(demo, client_for, role):
    response = client_for(demo[role]).get("/documents/")
    assert response.status_code == 403
    assert "This page is for students." in response.content.decode()


def test_the_documents_page_asks_strangers_to_sign_in_and_other_tenants_get_404(
    demo, northside, client_for
):
    anonymous = Client(HTTP_HOST="demo.localhost").get("/documents/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    outsider = client_for(northside["student"], host="demo.localhost").get("/documents/")
    assert outsider.status_code == 404


def test_a_good_upload_through_the_page_stores_the_document_under_our_name(demo, client_for):
    client = client_for(demo["student"])
    response = client.post(
        upload_url("tb_test_immunizations"),
        form_data(
            "tb_test_immunizations",
            file=SimpleUploadedFile("../../my tb test.pdf", MINIMAL_PDF, "application/pdf"),
        ),
        follow=True,
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/documents/#type-tb_test_immunizations"
    assert "Your TB test and immunization report is uploaded. It waits for an admin" in (
        response.content.decode()
    )
    with scopes_disabled():
        document = Document.objects.get()
    assert document.student == demo["student"]
    assert document.status == "submitted"
    assert document.content_type == "application/pdf"
    assert "tb" not in Path(document.file.name).name and ".." not in document.file.name
    assert document.file.name.startswith(f"org{demo['org'].pk}/documents/")


def test_replacing_says_so_and_keeps_one_document(demo, client_for):
    first = give(demo["student"], "tb_test_immunizations")
    response = client_for(demo["student"]).post(
        upload_url("tb_test_immunizations"),
        form_data("tb_test_immunizations", file=SimpleUploadedFile("b.png", PNG)),
        follow=True,
    )
    assert "Your TB test and immunization report is replaced." in response.content.decode()
    with scopes_disabled():
        [document] = Document.objects.all()
    assert document.pk == first.pk and document.content_type == "image/png"


@pytest.mark.parametrize(
    "upload, message",
    [
        (("setup.pdf", b"MZ\x90\x00" + b"\x00" * 200), "The file must be a PDF"),
        (("empty.pdf", b""), "The file is empty."),
        (
            ("page.png", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
            "The file must be a PDF",
        ),
    ],
)
def test_a_bad_file_is_refused_next_to_the_file_field_and_nothing_is_stored(
    demo, client_for, upload, message
):
    before = stored_files()
    issued = today() - timedelta(days=12)
    response = client_for(demo["student"]).post(
        upload_url("tb_test_immunizations"),
        form_data("tb_test_immunizations", issued_on=issued, file=SimpleUploadedFile(*upload)),
    )
    assert response.status_code == 400
    page = response.content.decode()
    error = page.split('id="id_tb_test_immunizations-file_error"', 1)[1][:200]
    assert message in error
    # The page keeps what was typed.
    assert f'value="{issued:%Y-%m-%d}"' in page
    with scopes_disabled():
        assert not Document.objects.exists()
    assert stored_files() == before


def test_a_type_valid_through_the_end_needs_its_expiry_date_next_to_that_field(demo, client_for):
    response = client_for(demo["student"]).post(
        upload_url("liability_insurance"),
        form_data("liability_insurance", file=SimpleUploadedFile("policy.pdf", MINIMAL_PDF)),
    )
    assert response.status_code == 400
    error = response.content.decode().split('id="id_liability_insurance-expires_on_error"', 1)[1]
    assert "Enter the expiry date of your Medical liability insurance" in error[:300]
    with scopes_disabled():
        assert not Document.objects.exists()


def test_a_file_too_large_is_refused(demo, client_for, big_file):
    response = client_for(demo["student"]).post(
        upload_url("tb_test_immunizations"),
        form_data("tb_test_immunizations", file=big_file()),
    )
    assert response.status_code == 400
    assert "files may be at most 10 MB" in response.content.decode()
    with scopes_disabled():
        assert not Document.objects.exists()


def test_the_student_deletes_a_document_and_its_file(
    demo, client_for, django_capture_on_commit_callbacks
):
    document = give(demo["student"], "drug_test")
    path = Path(document.file.path)
    # The file leaves the disk when the deletion commits.
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(demo["student"]).post(
            f"/documents/{document.pk}/delete/", follow=True
        )
    assert "Your 9-panel drug test is deleted." in response.content.decode()
    with scopes_disabled():
        assert not Document.objects.exists()
    assert not path.exists()


def test_nobody_deletes_another_students_document(demo, client_for):
    other = factories.StudentFactory(organization=demo["org"])
    document = give(other, "drug_test")
    response = client_for(demo["student"]).post(f"/documents/{document.pk}/delete/")
    assert response.status_code == 404
    with scopes_disabled():
        assert Document.objects.filter(pk=document.pk).exists()


# --- /documents/<id>/file/ --------------------------------------------------------------


def test_the_file_is_a_private_download_under_our_name(demo, client_for):
    document = give(demo["student"], "tb_test_immunizations")
    response = client_for(demo["student"]).get(f"/documents/{document.pk}/file/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == MINIMAL_PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="tb_test_immunizations-{document.pk}.pdf"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


def test_the_file_follows_the_privacy_rule(demo, northside, client_for):
    student = demo["student"]
    document = give(student, "tb_test_immunizations")
    path = f"/documents/{document.pk}/file/"
    with scopes_disabled():
        current = factories.AttendingProfileFactory(organization=demo["org"])
        requested = factories.AttendingProfileFactory(organization=demo["org"])
    booked(demo, status="approved", attending=current)
    booked(demo, status="requested", attending=requested, weeks_ahead=8)
    assert client_for(student).get(path).status_code == 200
    assert client_for(demo["admin"]).get(path).status_code == 200
    assert client_for(current.membership).get(path).status_code == 200
    for stranger in (
        demo["attending"],  # no rotation with the student
        requested.membership,  # the request waits: the CV only, never documents
        factories.StudentFactory(organization=demo["org"]),
    ):
        assert client_for(stranger).get(path).status_code == 404, stranger
    # Another organization's admin, on either host.
    assert client_for(northside["admin"]).get(path).status_code == 404
    assert client_for(northside["admin"], host="demo.localhost").get(path).status_code == 404
    assert client_for(demo["student"]).get("/documents/999999/file/").status_code == 404


# --- /documents/review/ -----------------------------------------------------------------


def test_the_review_queue_lists_submitted_documents_oldest_first_for_admins(
    demo, northside, client_for
):
    first = give(demo["student"], "tb_test_immunizations")
    second = give(factories.StudentFactory(organization=demo["org"]), "drug_test")
    give(demo["student"], "background_check", approve_by=demo["admin"])  # reviewed already
    give(northside["student"], "drug_test")  # another tenant's
    with scopes_disabled():
        Document.objects.filter(pk=first.pk).update(uploaded_at=timezone.now() - timedelta(days=3))
    response = client_for(demo["admin"]).get("/documents/review/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index(f'data-testid="review-{first.pk}"') < page.index(
        f'data-testid="review-{second.pk}"'
    )
    assert page.count('data-testid="review-') == 2
    assert "waiting 3\xa0days" in page
    assert f'href="/documents/{first.pk}/file/"' in page
    assert f'action="/documents/review/{first.pk}/approve/"' in page
    assert f'action="/documents/review/{first.pk}/reject/"' in page


@pytest.mark.parametrize("role", ["student", "attending"])
def test_only_admins_review(demo, client_for, role):
    document = give(demo["student"], "drug_test")
    client = client_for(demo[role])
    assert client.get("/documents/review/").status_code == 403
    assert client.post(f"/documents/review/{document.pk}/approve/").status_code == 403
    assert (
        client.post(
            f"/documents/review/{document.pk}/reject/", {f"reject-{document.pk}-reason": "x"}
        ).status_code
        == 403
    )
    with scopes_disabled():
        assert Document.objects.get().status == "submitted"


def test_the_admin_approves_a_document(demo, client_for):
    document = give(demo["student"], "drug_test")
    response = client_for(demo["admin"]).post(
        f"/documents/review/{document.pk}/approve/", follow=True
    )
    assert response.redirect_chain[-1][0] == "/documents/review/"
    assert f"Approved {demo['student'].display_name}" in response.content.decode()
    with scopes_disabled():
        document.refresh_from_db()
    assert document.status == "approved"
    assert document.reviewed_by == demo["admin"]


def test_another_organizations_admin_cannot_review(demo, northside, client_for):
    document = give(demo["student"], "drug_test")
    response = client_for(northside["admin"], host="demo.localhost").post(
        f"/documents/review/{document.pk}/approve/"
    )
    assert response.status_code == 404
    response = client_for(northside["admin"]).post(f"/documents/review/{document.pk}/approve/")
    assert response.status_code == 404
    with scopes_disabled():
        assert Document.objects.get().status == "submitted"


def test_rejecting_needs_a_reason_shown_next_to_it(demo, client_for):
    document = give(demo["student"], "drug_test")
    response = client_for(demo["admin"]).post(
        f"/documents/review/{document.pk}/reject/", {f"reject-{document.pk}-reason": "  "}
    )
    assert response.status_code == 400
    error = response.content.decode().split(f'id="id_reject-{document.pk}-reason_error"', 1)[1]
    assert "Say why the document is rejected; the student sees it." in error[:200]
    with scopes_disabled():
        assert Document.objects.get().status == "submitted"
        assert not OutboundEmail.objects.filter(template="document_rejected").exists()


def test_the_admin_rejects_with_a_reason_the_student_is_emailed_and_sees(demo, client_for):
    document = give(demo["student"], "drug_test")
    response = client_for(demo["admin"]).post(
        f"/documents/review/{document.pk}/reject/",
        {f"reject-{document.pk}-reason": "The lab's stamp is missing."},
        follow=True,
    )
    assert "we emailed them the reason" in response.content.decode()
    with scopes_disabled():
        document.refresh_from_db()
        email = OutboundEmail.objects.get(template="document_rejected")
    assert document.status == "rejected"
    assert email.recipient == demo["student"].user.email
    assert email.context["reason"] == "The lab's stamp is missing."
    assert email.context["documents_url"].endswith("/documents/")
    page = client_for(demo["student"]).get("/documents/").content.decode()
    assert "The lab&#x27;s stamp is missing." in page


def test_approving_twice_says_it_is_already_reviewed(demo, client_for):
    document = give(demo["student"], "drug_test", approve_by=demo["admin"])
    response = client_for(demo["admin"]).post(
        f"/documents/review/{document.pk}/approve/", follow=True
    )
    assert "already approved" in response.content.decode()


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def test_the_review_queue_costs_the_same_queries_for_many_rows(
    demo, client_for, django_assert_max_num_queries
):
    client = client_for(demo["admin"])
    give(demo["student"], "drug_test")
    few = _queries(client, "/documents/review/")
    for _ in range(8):
        student = factories.StudentFactory(organization=demo["org"])
        give(student, "drug_test")
        give(student, "background_check")
    with django_assert_max_num_queries(few):
        response = client.get("/documents/review/")
    assert response.content.decode().count('data-testid="review-') == 17


def test_the_documents_page_costs_the_same_queries_for_many_rotations_and_documents(
    demo, client_for, django_assert_max_num_queries
):
    client = client_for(demo["student"])
    booked(demo)
    few = _queries(client, "/documents/")
    for weeks_ahead in (8, 12, 16, 20):
        booked(demo, weeks_ahead=weeks_ahead)
    for code in ("tb_test_immunizations", "drug_test", "background_check", "state_id"):
        give(
            demo["student"],
            code,
            expires_on=today() + timedelta(days=900) if code == "state_id" else None,
        )
    with django_assert_max_num_queries(few):
        response = client.get("/documents/")
    assert response.content.decode().count('data-testid="rotation-checklist-') == 5


# --- The required sets ------------------------------------------------------------------


def test_admins_choose_the_organizations_required_set(demo, northside, client_for):
    client = client_for(demo["admin"])
    page = client.get("/documents/settings/")
    assert page.status_code == 200
    assert "Must be issued within 1 year before the rotation starts." in page.content.decode()
    wanted = [doc_type("letter_of_good_standing").pk, doc_type("drug_test").pk]
    response = client.post("/documents/settings/", {"document_types": wanted}, follow=True)
    assert "Saved: every rotation" in response.content.decode()
    with scopes_disabled():
        chosen = set(
            RequiredDocumentType.objects.filter(
                organization=demo["org"], attending__isnull=True
            ).values_list("document_type_id", flat=True)
        )
        northside_count = RequiredDocumentType.objects.filter(organization=northside["org"]).count()
    assert chosen == set(wanted)
    assert northside_count == DocumentType.objects.filter(required_by_default=True).count()
    # The page shows the saved choice checked.
    page = client.get("/documents/settings/").content.decode()
    assert (
        f'value="{wanted[1]}" id="type-drug_test" aria-describedby="rule-drug_test" checked' in page
    )


def test_a_type_not_in_the_catalog_is_refused_and_nothing_changes(demo, client_for):
    with scopes_disabled():
        before = RequiredDocumentType.objects.filter(organization=demo["org"]).count()
    response = client_for(demo["admin"]).post("/documents/settings/", {"document_types": [99999]})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    with scopes_disabled():
        assert RequiredDocumentType.objects.filter(organization=demo["org"]).count() == before


@pytest.mark.parametrize("role", ["student", "attending"])
def test_only_admins_choose_the_organizations_set(demo, client_for, role):
    assert client_for(demo[role]).get("/documents/settings/").status_code == 403
    response = client_for(demo[role]).post(
        "/documents/settings/", {"document_types": [doc_type("drug_test").pk]}
    )
    assert response.status_code == 403
    with scopes_disabled():
        assert not RequiredDocumentType.objects.filter(
            organization=demo["org"], document_type__code="drug_test"
        ).exists()


def test_an_attending_adds_types_for_rotations_with_them(demo, client_for):
    with scopes_disabled():
        profile = factories.AttendingProfileFactory(
            organization=demo["org"], membership=demo["attending"]
        )
    rotation = booked(demo, attending=profile)
    client = client_for(demo["attending"])
    page = client.get("/documents/my-requirements/").content.decode()
    assert "already required by" in page
    insurance = doc_type("liability_insurance")  # required by the organization already
    drug_test = doc_type("drug_test")
    response = client.post(
        "/documents/my-requirements/", {"document_types": [drug_test.pk, insurance.pk]}, follow=True
    )
    assert "Saved: rotations with you also ask for these types." in response.content.decode()
    with scopes_disabled():
        added = set(
            RequiredDocumentType.objects.filter(attending=demo["attending"]).values_list(
                "document_type__code", flat=True
            )
        )
    assert added == {"drug_test"}
    # The rotation's checklist now asks for it; another attending's does not.
    other = booked(demo, weeks_ahead=10)
    student_page = client_for(demo["student"]).get("/documents/").content.decode()
    assert f'data-testid="rotation-checklist-{rotation.pk}"' in student_page
    mine = student_page.split(f'data-testid="rotation-checklist-{rotation.pk}"', 1)[1]
    mine = mine.split('data-testid="rotation-checklist-', 1)[0]
    assert "Upload your 9-panel drug test." in mine
    theirs = student_page.split(f'data-testid="rotation-checklist-{other.pk}"', 1)[1]
    assert "9-panel drug test." not in theirs.split("</div>", 1)[0]


@pytest.mark.parametrize("role", ["student", "admin"])
def test_only_attendings_have_their_requirements_page(demo, client_for, role):
    assert client_for(demo[role]).get("/documents/my-requirements/").status_code == 403


# --- Dashboards and the rotation page ---------------------------------------------------


def test_the_students_dashboard_shows_what_is_missing_and_by_when(demo, client_for):
    later = booked(demo, weeks_ahead=12)
    sooner = booked(demo, weeks_ahead=5)
    page = client_for(demo["student"]).get("/dashboard/").content.decode()
    section = page.split('data-testid="dashboard-documents"', 1)[1]
    sooner_day = f"{sooner.start:%A, %B} {sooner.start.day}, {sooner.start.year}"
    later_day = f"{later.start:%A, %B} {later.start.day}, {later.start.year}"
    assert sooner_day in section and later_day in section
    assert section.index(sooner_day) < section.index(later_day)  # soonest first
    assert "Upload your TB test and immunization report." in section
    assert 'href="/documents/"' in section


def test_the_admins_dashboard_counts_documents_waiting(demo, northside, client_for):
    give(demo["student"], "drug_test")
    give(factories.StudentFactory(organization=demo["org"]), "drug_test")
    give(northside["student"], "drug_test")
    page = client_for(demo["admin"]).get("/dashboard/").content.decode()
    assert '<strong data-testid="documents-waiting">2</strong> documents waiting' in page
    assert 'href="/documents/review/"' in page


def test_the_rotation_page_shows_the_checklist_and_complete_when_all_approved(demo, client_for):
    rotation = booked(demo)
    client = client_for(demo["student"])
    page = client.get(f"/rotations/{rotation.pk}/").content.decode()
    assert 'data-testid="checklist-incomplete"' in page
    assert "Upload your Medical liability insurance." in page
    with scopes_disabled():
        rotation.refresh_from_db()
        codes = [
            t.code
            for t in DocumentType.objects.filter(
                pk__in=RequiredDocumentType.objects.filter(organization=demo["org"]).values(
                    "document_type_id"
                )
            )
            if t.code != "usmle_score_report"
        ]
    for code in codes:
        expires = rotation.end + timedelta(days=30) if doc_type(code).needs_expiry else None
        give(demo["student"], code, expires_on=expires, approve_by=demo["admin"])
    page = client.get(f"/rotations/{rotation.pk}/").content.decode()
    assert 'data-testid="checklist-complete"' in page


def test_the_requested_attending_sees_states_but_no_file_links(demo, client_for):
    with scopes_disabled():
        profile = factories.AttendingProfileFactory(
            organization=demo["org"], membership=demo["attending"]
        )
    rotation = booked(demo, status="requested", attending=profile)
    document = give(demo["student"], "tb_test_immunizations")
    page = client_for(demo["attending"]).get(f"/rotations/{rotation.pk}/").content.decode()
    assert 'data-testid="checklist-tb_test_immunizations"' in page
    assert f"/documents/{document.pk}/file/" not in page
    with scopes_disabled():
        rotation.status = "approved"
        rotation.save(update_fields=["status"])
    page = client_for(demo["attending"]).get(f"/rotations/{rotation.pk}/").content.decode()
    assert f"/documents/{document.pk}/file/" in page


# --- The staff console ------------------------------------------------------------------


@pytest.fixture
def staff_client(world):
    staff = factories.UserFactory(is_staff=True, is_superuser=True)
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)
    return client


def test_staff_edit_the_catalog_and_filter_documents(staff_client, demo):
    document = give(demo["student"], "drug_test")
    assert staff_client.get("/admin/documents/documenttype/").status_code == 200
    listing = staff_client.get("/admin/documents/document/?status__exact=submitted")
    assert listing.status_code == 200
    assert f"/admin/documents/document/{document.pk}/change/" in listing.content.decode()
    assert (
        f"/admin/documents/document/{document.pk}/change/"
        not in staff_client.get(
            "/admin/documents/document/?status__exact=approved"
        ).content.decode()
    )
    change = staff_client.get(f"/admin/documents/document/{document.pk}/change/").content.decode()
    assert document.file.name in change
    assert 'name="file"' not in change  # the stored name is read-only
    drug_test = doc_type("drug_test")
    path = f"/admin/documents/documenttype/{drug_test.pk}/change/"
    data = submitted_form(staff_client.get(path).content.decode())
    data.pop("csrfmiddlewaretoken", None)
    data["description"] = "Taken within 30 days of the start."
    assert staff_client.post(path, data).status_code == 302
    drug_test.refresh_from_db()
    assert drug_test.description == "Taken within 30 days of the start."


def test_the_organizations_required_set_is_a_choice_of_types_in_the_console(staff_client, demo):
    path = f"/admin/usdoctors/organization/{demo['org'].pk}/change/"
    page = staff_client.get(path).content.decode()
    assert "Required document types" in page
    assert 'name="required_document_types"' not in page  # the old JSON box is gone
    data = submitted_form(page)
    data.pop("csrfmiddlewaretoken", None)
    prefix = "required_types"
    assert f'<select name="{prefix}-0-document_type"' in page
    total = int(data[f"{prefix}-TOTAL_FORMS"])
    with scopes_disabled():
        assert (
            total
            == RequiredDocumentType.objects.filter(
                organization=demo["org"], attending__isnull=True
            ).count()
        )
    data[f"{prefix}-TOTAL_FORMS"] = str(total + 1)
    data[f"{prefix}-{total}-document_type"] = str(doc_type("drug_test").pk)
    data[f"{prefix}-{total}-organization"] = str(demo["org"].pk)
    response = staff_client.post(path, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    with scopes_disabled():
        assert RequiredDocumentType.objects.filter(
            organization=demo["org"], attending__isnull=True, document_type__code="drug_test"
        ).exists()
    # Choosing a type twice is refused, and nothing changes.
    data = submitted_form(staff_client.get(path).content.decode())
    data.pop("csrfmiddlewaretoken", None)
    total = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(total + 1)
    data[f"{prefix}-{total}-document_type"] = str(doc_type("drug_test").pk)
    response = staff_client.post(path, data)
    assert response.status_code == 200
    assert "is chosen twice" in response.content.decode()
    with scopes_disabled():
        assert (
            RequiredDocumentType.objects.filter(
                organization=demo["org"], document_type__code="drug_test"
            ).count()
            == 1
        )
    # A new organization gets the defaults on its first save, not typed rows.
    assert staff_client.get("/admin/usdoctors/organization/add/").status_code == 200
