"""The documents API (DESIGN §7, §12): the catalog, uploads, the lists and the review
queue, review by admins, the per-rotation checklist and the required sets. Every call
is answered within the caller's organization only (another organization's ids are 404)
and lists cost a fixed number of queries however many rows they show."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from documents import review
from documents.models import Document, DocumentType, RequiredDocumentType
from documents.uploads import upload_document
from notifications.models import OutboundEmail
from tests import factories
from tests.conftest import host_of

pytestmark = pytest.mark.django_db

TYPES = "/api/v1/document-types"
DOCUMENTS = "/api/v1/documents"
REQUIREMENTS = "/api/v1/document-requirements"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
NO_SUCH_ID = 987_654_321


def today():
    return timezone.localdate()


def pdf(name="scan.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def upload(student, code="tb_test_immunizations", *, issued_on=None, expires_on=None):
    """Store a document the way every door does (documents.uploads)."""
    with scope(organization=student.organization_id):
        return upload_document(
            student,
            DocumentType.objects.get(code=code),
            pdf(),
            issued_on=issued_on or today() - timedelta(days=30),
            expires_on=expires_on,
        )


def approve(document, admin):
    with scope(organization=admin.organization_id):
        return review.approve_document(document, by=admin)


def reload(document) -> Document | None:
    with scopes_disabled():
        return Document.objects.filter(pk=document.pk).first()


def stored(document) -> bool:
    with scopes_disabled():
        return Document._meta.get_field("file").storage.exists(document.file.name)


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def ids(response) -> list[int]:
    return [row["id"] for row in results(response)]


@pytest.fixture
def api(client_for):
    """``api(membership)``: a client on the membership's host; JSON for PUT and POST
    bodies unless ``multipart`` is asked for."""

    class Api:
        def __init__(self, membership, host=None):
            self.client = client_for(membership, host=host)

        def get(self, path, params=None):
            return self.client.get(path, params or {})

        def post(self, path, body=None):
            return self.client.post(path, body or {}, content_type="application/json")

        def upload(self, **form):
            return self.client.post(DOCUMENTS, form)  # multipart

        def put(self, path, body):
            return self.client.put(path, body, content_type="application/json")

        def delete(self, path):
            return self.client.delete(path)

    return Api


def tb_form(**overrides):
    form = {
        "document_type": "tb_test_immunizations",
        "file": pdf(),
        "issued_on": (today() - timedelta(days=30)).isoformat(),
    }
    form.update(overrides)
    return form


# --- GET /document-types ---------------------------------------------------------------------


def test_the_catalog_lists_each_types_rule_and_whether_the_organization_requires_it(
    demo, northside, api
):
    with scopes_disabled():
        RequiredDocumentType.objects.filter(organization=demo["org"]).delete()
        RequiredDocumentType.objects.create(
            organization=demo["org"], document_type=DocumentType.objects.get(code="drug_test")
        )

    rows = {row["code"]: row for row in results(api(demo["student"]).get(TYPES))}
    theirs = {row["code"]: row for row in results(api(northside["student"]).get(TYPES))}

    with scopes_disabled():
        assert list(rows) == [kind.code for kind in DocumentType.objects.all()]
    assert [code for code, row in rows.items() if row["required"]] == ["drug_test"]
    assert theirs["drug_test"]["required"] is False  # northside keeps the defaults
    assert theirs["tb_test_immunizations"]["required"] is True
    assert rows["letter_of_good_standing"]["school_issued"] is True
    assert rows["tb_test_immunizations"]["validity"] == "issued_within_year"
    assert rows["liability_insurance"] == {
        "code": "liability_insurance",
        "name": "Medical liability insurance",
        "description": "Valid through the last day of the rotation.",
        "school_issued": False,
        "validity": "valid_through_end",
        "needs_expiry": True,
        "kept_on_profile": False,
        "required": False,
    }
    assert rows["cv"]["kept_on_profile"] is True


def test_the_catalog_needs_a_member(demo, northside, api, client_for):
    anonymous = client_for(None, host=host_of(demo["org"])).get(TYPES)
    outsider = api(northside["student"], host=host_of(demo["org"])).get(TYPES)

    assert anonymous.status_code == 401
    assert outsider.status_code == 404


# --- POST /documents -------------------------------------------------------------------------


def test_a_student_uploads_a_document(demo, api):
    response = api(demo["student"]).upload(**tb_form())

    assert response.status_code == 201, response.content
    body = response.json()
    with scopes_disabled():
        document = Document.objects.get(pk=body["id"])
    assert body == {
        "id": document.pk,
        "student": demo["student"].pk,
        "student_name": demo["student"].display_name,
        "document_type": "tb_test_immunizations",
        "document_type_name": "TB test and immunization report",
        "issued_on": (today() - timedelta(days=30)).isoformat(),
        "expires_on": None,
        "status": "submitted",
        "rejection_reason": "",
        "reviewed_at": None,
        "content_type": "application/pdf",
        "size": len(PDF),
        "uploaded_by": "student",
        "uploaded_at": body["uploaded_at"],
        "file_url": f"/api/v1/documents/{document.pk}/file",
    }
    assert document.student == demo["student"] and document.organization == demo["org"]
    assert document.file.read() == PDF


def test_a_new_upload_replaces_the_document_deletes_the_old_file_and_waits_for_review(
    demo, api, django_capture_on_commit_callbacks
):
    first = upload(demo["student"])
    first = approve(first, demo["admin"])

    with django_capture_on_commit_callbacks(execute=True):
        response = api(demo["student"]).upload(**tb_form(issued_on=today().isoformat()))

    assert response.status_code == 201
    assert response.json()["id"] == first.pk  # one current document per type
    assert response.json()["status"] == "submitted"
    assert response.json()["issued_on"] == today().isoformat()
    assert not stored(first)
    assert stored(reload(first))


def test_an_admin_uploads_for_a_student_of_the_organization(demo, api):
    response = api(demo["admin"]).upload(**tb_form(student=demo["student"].pk))

    assert response.status_code == 201, response.content
    assert response.json()["student"] == demo["student"].pk
    assert response.json()["uploaded_by"] == "admin"
    assert response.json()["status"] == "submitted"


@pytest.mark.parametrize(
    ("who", "student", "status", "code"),
    [
        ("admin", None, 400, "student_required"),
        ("admin", "northside_student", 400, "no_such_student"),
        ("admin", "attending", 400, "no_such_student"),
        ("student", "other_student", 403, "not_your_document"),
        ("attending", "student", 403, "permission_denied"),
    ],
)
def test_who_may_upload_for_whom(who, student, status, code, demo, northside, api):
    with scopes_disabled():
        people = {
            "student": demo["student"],
            "attending": demo["attending"],
            "other_student": factories.StudentFactory(organization=demo["org"]),
            "northside_student": northside["student"],
        }
    form = tb_form() if student is None else tb_form(student=people[student].pk)

    response = api(demo[who]).upload(**form)

    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    with scopes_disabled():
        assert not Document.objects.exists()


@pytest.mark.parametrize(
    ("form", "field", "words"),
    [
        (tb_form(document_type="tb_test"), "document_type", "Unknown document type “tb_test”"),
        ({k: v for k, v in tb_form().items() if k != "file"}, "file", "No file was submitted"),
        ({k: v for k, v in tb_form().items() if k != "document_type"}, "document_type", "required"),
        (tb_form(issued_on="yesterday"), "issued_on", "Date has wrong format"),
    ],
    ids=["unknown_type", "no_file", "no_type", "bad_date"],
)
def test_bad_upload_input_is_400_naming_the_field(form, field, words, demo, api):
    form = {key: (pdf() if key == "file" else value) for key, value in form.items()}

    response = api(demo["student"]).upload(**form)

    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{field}: ")
    assert words in response.json()["errors"][field][0]
    with scopes_disabled():
        assert not Document.objects.exists()


def test_an_upload_as_json_is_415(demo, api):
    response = api(demo["student"]).post(DOCUMENTS, {"document_type": "tb_test_immunizations"})

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


# --- GET /documents --------------------------------------------------------------------------


@pytest.fixture
def library(demo, northside):
    """Documents of the demo student (two), a classmate (one) and northside's student."""
    with scopes_disabled():
        classmate = factories.StudentFactory(organization=demo["org"])
    return {
        "classmate": classmate,
        "tb": upload(demo["student"]),
        "drug": upload(demo["student"], "drug_test"),
        "classmate_tb": upload(classmate),
        "northside_tb": upload(northside["student"]),
    }


def test_a_student_lists_their_own_documents_newest_first(demo, library, api):
    seen = ids(api(demo["student"]).get(DOCUMENTS))

    assert seen == [library["drug"].pk, library["tb"].pk]
    # Asking for someone else's finds nothing of theirs.
    classmate = library["classmate"].pk
    assert ids(api(demo["student"]).get(DOCUMENTS, {"student": classmate})) == []


def test_an_admin_lists_the_organizations_documents_and_filters_by_student(demo, library, api):
    client = api(demo["admin"])

    assert set(ids(client.get(DOCUMENTS))) == {
        library["tb"].pk,
        library["drug"].pk,
        library["classmate_tb"].pk,
    }
    mine = ids(client.get(DOCUMENTS, {"student": demo["student"].pk}))
    assert set(mine) == {library["tb"].pk, library["drug"].pk}


def test_the_review_queue_lists_submitted_documents_oldest_first(demo, library, api):
    approve(library["drug"], demo["admin"])
    with scopes_disabled():  # the classmate's was uploaded first
        Document.objects.filter(pk=library["classmate_tb"].pk).update(
            uploaded_at=timezone.now() - timedelta(days=3)
        )

    queue = ids(api(demo["admin"]).get(DOCUMENTS, {"status": "submitted"}))

    assert queue == [library["classmate_tb"].pk, library["tb"].pk]


@pytest.mark.parametrize(
    ("status", "sees_documents"),
    [("approved", True), ("in_progress", True), ("requested", False), ("completed", False)],
)
def test_an_attending_lists_the_documents_of_students_they_are_rotating_with(
    status, sees_documents, demo, library, api
):
    with scopes_disabled():
        rotation = factories.RotationFactory(
            organization=demo["org"], student=demo["student"], status=status
        )

    seen = set(ids(api(rotation.attending.membership).get(DOCUMENTS)))

    assert seen == ({library["tb"].pk, library["drug"].pk} if sees_documents else set())


@pytest.mark.parametrize("params", [{"status": "lost"}, {"student": "me"}, {"student": 2**40}])
def test_a_bad_filter_is_400(params, demo, api):
    response = api(demo["admin"]).get(DOCUMENTS, params)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def add_documents(organization, count: int) -> None:
    with scopes_disabled():
        students = [factories.StudentFactory(organization=organization) for _ in range(count)]
    for student in students:
        upload(student)


@pytest.mark.parametrize("params", [{}, {"status": "submitted"}])
def test_the_list_runs_a_fixed_number_of_queries(
    params, demo, northside, api, django_assert_max_num_queries
):
    client = api(demo["admin"])
    add_documents(demo["org"], 2)
    add_documents(northside["org"], 2)
    with django_assert_max_num_queries(8) as few:
        assert len(ids(client.get(DOCUMENTS, params))) == 2

    add_documents(demo["org"], 10)
    with django_assert_max_num_queries(8) as many:
        assert len(ids(client.get(DOCUMENTS, params))) == 12

    assert len(many.captured_queries) == len(few.captured_queries)


# --- GET and DELETE /documents/{id} ----------------------------------------------------------


def test_the_detail_follows_the_privacy_rule(demo, northside, library, api):
    path = f"{DOCUMENTS}/{library['tb'].pk}"

    assert api(demo["student"]).get(path).json()["id"] == library["tb"].pk
    assert api(demo["admin"]).get(path).status_code == 200
    assert api(library["classmate"]).get(path).status_code == 404
    assert api(demo["attending"]).get(path).status_code == 404
    theirs = f"{DOCUMENTS}/{library['northside_tb'].pk}"
    assert api(northside["admin"]).get(theirs).status_code == 200
    assert api(demo["admin"]).get(theirs).status_code == 404
    assert api(demo["admin"]).get(f"{DOCUMENTS}/{NO_SUCH_ID}").status_code == 404


@pytest.mark.parametrize("who", ["student", "admin"])
def test_the_student_or_an_admin_deletes_a_document_and_its_file(
    who, demo, library, api, django_capture_on_commit_callbacks
):
    document = library["tb"]
    with django_capture_on_commit_callbacks(execute=True):
        response = api(demo[who]).delete(f"{DOCUMENTS}/{document.pk}")

    assert response.status_code == 204
    assert reload(document) is None
    assert not stored(document)


def test_others_cannot_delete_a_document(demo, northside, library, api):
    document = library["tb"]
    with scopes_disabled():
        rotation = factories.RotationFactory(
            organization=demo["org"], student=demo["student"], status="approved"
        )
    path = f"{DOCUMENTS}/{document.pk}"

    reader = api(rotation.attending.membership).delete(path)  # may read it, not delete it
    assert (reader.status_code, reader.json()["code"]) == (403, "not_allowed")
    assert api(library["classmate"]).delete(path).status_code == 404
    assert api(northside["admin"], host=host_of(demo["org"])).delete(path).status_code == 404
    assert reload(document) is not None and stored(document)


# --- Review ----------------------------------------------------------------------------------


def test_an_admin_approves_a_submitted_document(demo, library, api):
    response = api(demo["admin"]).post(f"{DOCUMENTS}/{library['tb'].pk}/approve")

    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    assert response.json()["reviewed_at"] is not None
    document = reload(library["tb"])
    assert (document.status, document.reviewed_by) == ("approved", demo["admin"])


def test_approving_or_rejecting_a_reviewed_document_is_409(demo, library, api):
    approve(library["tb"], demo["admin"])
    client = api(demo["admin"])

    again = client.post(f"{DOCUMENTS}/{library['tb'].pk}/approve")
    reject = client.post(f"{DOCUMENTS}/{library['tb'].pk}/reject", {"reason": "Blurry."})

    assert (again.status_code, again.json()["code"]) == (409, "already_reviewed")
    assert (reject.status_code, reject.json()["code"]) == (409, "already_reviewed")
    assert reload(library["tb"]).status == "approved"


def test_an_admin_rejects_with_a_reason_the_student_sees(demo, library, api):
    response = api(demo["admin"]).post(
        f"{DOCUMENTS}/{library['tb'].pk}/reject", {"reason": "The scan is unreadable."}
    )

    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    seen = api(demo["student"]).get(f"{DOCUMENTS}/{library['tb'].pk}").json()
    assert (seen["status"], seen["rejection_reason"]) == ("rejected", "The scan is unreadable.")
    with scopes_disabled():
        email = OutboundEmail.objects.get(template="document_rejected")
    assert email.recipient == demo["student"].user.email
    assert email.context["reason"] == "The scan is unreadable."


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "invalid"),
        ({"reason": ""}, "reason_required"),
        ({"reason": "   "}, "reason_required"),
        ({"reason": "Fake\u202edate"}, "invalid"),
        ({"reason": "x" * 5000}, "invalid"),
    ],
    ids=["missing", "empty", "spaces", "bidi", "too_long"],
)
def test_a_rejection_without_a_usable_reason_is_400(body, code, demo, library, api):
    response = api(demo["admin"]).post(f"{DOCUMENTS}/{library['tb'].pk}/reject", body)

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert "reason" in response.json()["errors"]
    assert reload(library["tb"]).status == "submitted"
    with scopes_disabled():
        assert not OutboundEmail.objects.filter(template="document_rejected").exists()


def test_only_this_organizations_admins_review(demo, northside, library, api):
    tb = library["tb"].pk
    for member in (demo["student"], demo["attending"]):
        for action, body in (("approve", {}), ("reject", {"reason": "No."})):
            response = api(member).post(f"{DOCUMENTS}/{tb}/{action}", body)
            assert response.status_code == 403
    theirs = api(northside["admin"]).post(f"{DOCUMENTS}/{tb}/approve")
    assert theirs.status_code == 404
    assert reload(library["tb"]).status == "submitted"


# --- GET /rotations/{id}/checklist -----------------------------------------------------------


@pytest.fixture
def rotation(demo):
    """An approved rotation of the demo student starting in two weeks; the organization
    requires the TB test, insurance and the drug test."""
    with scopes_disabled():
        RequiredDocumentType.objects.filter(organization=demo["org"]).delete()
        for code in ("tb_test_immunizations", "liability_insurance", "drug_test"):
            RequiredDocumentType.objects.create(
                organization=demo["org"], document_type=DocumentType.objects.get(code=code)
            )
        return factories.RotationFactory(
            organization=demo["org"], student=demo["student"], status="approved"
        )


def checklist_of(client, rotation) -> dict:
    response = client.get(f"/api/v1/rotations/{rotation.pk}/checklist")
    assert response.status_code == 200, response.content
    return response.json()


def states(body) -> dict[str, str]:
    return {item["document_type"]: item["state"] for item in body["items"]}


def test_the_checklist_shows_each_state(demo, rotation, api):
    tb = upload(demo["student"], issued_on=rotation.start - timedelta(days=400))  # 13 months
    insurance = upload(
        demo["student"], "liability_insurance", expires_on=rotation.end + timedelta(days=30)
    )
    approve(insurance, demo["admin"])
    drug = upload(demo["student"], "drug_test")
    with scope(organization=demo["org"].pk):
        review.reject_document(drug, by=demo["admin"], reason="Wrong panel.")

    body = checklist_of(api(demo["student"]), rotation)

    assert body["rotation"] == rotation.pk
    assert (body["start"], body["end"]) == (rotation.start.isoformat(), rotation.end.isoformat())
    assert body["complete"] is False
    assert states(body) == {
        "tb_test_immunizations": "expired",
        "liability_insurance": "approved",
        "drug_test": "rejected",
    }
    items = {item["document_type"]: item for item in body["items"]}
    assert items["drug_test"]["reason"] == "Wrong panel."
    assert "Wrong panel." in items["drug_test"]["message"]
    assert items["tb_test_immunizations"]["reason"].startswith("must be issued on or after")
    assert items["tb_test_immunizations"]["document"] == tb.pk
    assert items["liability_insurance"]["document"] == insurance.pk


def test_the_checklist_is_complete_when_everything_is_approved_and_valid(demo, rotation, api):
    client = api(demo["student"])
    empty = checklist_of(client, rotation)
    assert states(empty) == {
        "tb_test_immunizations": "missing",
        "liability_insurance": "missing",
        "drug_test": "missing",
    }
    assert empty["items"][0]["message"] == "Upload your TB test and immunization report."
    documents = [
        upload(demo["student"]),
        upload(demo["student"], "liability_insurance", expires_on=rotation.end),
        upload(demo["student"], "drug_test"),
    ]
    assert set(states(checklist_of(client, rotation)).values()) == {"submitted"}

    for document in documents:
        approve(document, demo["admin"])

    body = checklist_of(client, rotation)
    assert body["complete"] is True
    assert set(states(body).values()) == {"approved"}


def test_the_attendings_added_types_join_their_rotations_checklist(demo, rotation, api):
    attending = api(rotation.attending.membership)
    added = attending.put(REQUIREMENTS, {"document_types": ["background_check"]})
    assert added.status_code == 200

    assert "background_check" in states(checklist_of(api(demo["student"]), rotation))


def test_the_checklist_shows_documents_only_to_those_who_may_read_them(demo, rotation, api):
    document = upload(demo["student"])
    drug = upload(demo["student"], "drug_test")
    with scope(organization=demo["org"].pk):
        review.reject_document(drug, by=demo["admin"], reason="Lab name is cut off.")
    with scopes_disabled():
        requested = factories.RotationFactory(
            organization=demo["org"], student=demo["student"], start=factories.next_monday(8)
        )

    def items(client, of_rotation):
        body = checklist_of(client, of_rotation)
        return {item["document_type"]: item for item in body["items"]}

    for reader in (demo["student"], demo["admin"], rotation.attending.membership):
        seen = items(api(reader), rotation)
        assert seen["tb_test_immunizations"]["document"] == document.pk
        assert seen["drug_test"]["reason"] == "Lab name is cut off."
    # The attending a request waits on sees the states, not the documents nor the reasons.
    waiting = items(api(requested.attending.membership), requested)
    tb, rejected = waiting["tb_test_immunizations"], waiting["drug_test"]
    assert (tb["state"], tb["document"]) == ("submitted", None)
    assert {key: rejected[key] for key in ("state", "reason", "message", "document")} == {
        "state": "rejected",
        "reason": "",
        "message": "Rejected",
        "document": None,
    }


def test_the_checklist_is_404_for_those_who_may_not_see_the_rotation(
    demo, northside, rotation, api
):
    with scopes_disabled():
        classmate = factories.StudentFactory(organization=demo["org"])
    path = f"/api/v1/rotations/{rotation.pk}/checklist"

    for outsider in (classmate, demo["attending"], northside["admin"]):
        assert api(outsider).get(path).status_code == 404
    assert api(northside["admin"], host=host_of(demo["org"])).get(path).status_code == 404
    assert api(demo["admin"]).get(f"/api/v1/rotations/{NO_SUCH_ID}/checklist").status_code == 404


def test_the_checklist_runs_a_fixed_number_of_queries(
    demo, rotation, api, django_assert_max_num_queries
):
    client = api(rotation.attending.membership)
    with django_assert_max_num_queries(12) as few:
        checklist_of(client, rotation)
    for code in ("tb_test_immunizations", "drug_test"):
        upload(demo["student"], code)
    with django_assert_max_num_queries(12) as many:
        checklist_of(client, rotation)
    assert len(many.captured_queries) == len(few.captured_queries)


# --- GET/PUT /document-requirements ----------------------------------------------------------


def test_an_admin_reads_and_replaces_the_organizations_required_set(demo, northside, api):
    client = api(demo["admin"])
    defaults = client.get(REQUIREMENTS).json()["document_types"]
    with scopes_disabled():
        assert defaults == [
            kind.code for kind in DocumentType.objects.filter(required_by_default=True)
        ]

    response = client.put(REQUIREMENTS, {"document_types": ["drug_test", "tb_test_immunizations"]})

    assert response.status_code == 200
    assert response.json() == {
        "document_types": ["tb_test_immunizations", "drug_test"],  # catalog order
        "required_by_organization": ["tb_test_immunizations", "drug_test"],
    }
    required = {row["code"] for row in results(api(demo["student"]).get(TYPES)) if row["required"]}
    assert required == {"tb_test_immunizations", "drug_test"}
    # Northside's set is its own.
    assert api(northside["admin"]).get(REQUIREMENTS).json()["document_types"] == defaults


def test_an_unknown_code_is_400_and_changes_nothing(demo, api):
    client = api(demo["admin"])
    before = client.get(REQUIREMENTS).json()

    response = client.put(REQUIREMENTS, {"document_types": ["drug_test", "x_ray", "dna"]})

    assert response.status_code == 400
    assert response.json()["errors"]["document_types"] == [
        "Unknown document types: dna, x_ray. GET /api/v1/document-types lists the codes."
    ]
    assert client.get(REQUIREMENTS).json() == before


def test_an_attending_sets_the_types_they_add(demo, api):
    client = api(demo["attending"])
    assert client.get(REQUIREMENTS).json()["document_types"] == []

    # The TB test is required by the organization already: it is not kept as theirs.
    response = client.put(
        REQUIREMENTS, {"document_types": ["background_check", "tb_test_immunizations"]}
    )

    assert response.status_code == 200
    assert response.json()["document_types"] == ["background_check"]
    assert "tb_test_immunizations" in response.json()["required_by_organization"]
    with scopes_disabled():
        theirs = RequiredDocumentType.objects.filter(attending=demo["attending"])
        assert [row.document_type.code for row in theirs] == ["background_check"]
    # The organization's set did not change.
    assert "background_check" not in api(demo["admin"]).get(REQUIREMENTS).json()["document_types"]


def test_students_do_not_set_required_documents(demo, api):
    client = api(demo["student"])

    assert client.get(REQUIREMENTS).status_code == 403
    assert client.put(REQUIREMENTS, {"document_types": []}).status_code == 403


@pytest.mark.parametrize("body", [{}, {"document_types": "drug_test"}, {"document_types": [1]}])
def test_a_malformed_requirements_body_is_400(body, demo, api):
    response = api(demo["admin"]).put(REQUIREMENTS, body)

    assert response.status_code == 400
    assert "document_types" in response.json()["errors"]


def test_uploads_land_in_the_private_storage_root(demo, api):
    response = api(demo["student"]).upload(**tb_form())
    with scopes_disabled():
        document = Document.objects.get(pk=response.json()["id"])
    root = settings.STORAGES["default"]["OPTIONS"]["location"]
    assert document.file.path.startswith(root)
    assert not document.file.name.startswith("/")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"issued_on": "9999-12-31"}, "issued_on"),
        ({"issued_on": "0001-01-01"}, "issued_on"),
        ({"expires_on": "9999-12-31"}, "expires_on"),
        ({"document_type": "tb\x00"}, "document_type"),
        ({"file": "not a file"}, "file"),
        ({"student": "0"}, "student"),
    ],
    ids=["far_future", "year_one", "expiry_far_ahead", "nul_in_code", "text_as_file", "id_0"],
)
def test_odd_upload_input_is_400_never_a_server_error(overrides, field, demo, api):
    response = api(demo["student"]).upload(**tb_form(**overrides))

    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    with scopes_disabled():
        assert not Document.objects.exists()


def test_an_empty_expiry_date_in_a_form_means_none(demo, api):
    response = api(demo["student"]).upload(**tb_form(expires_on=""))

    assert response.status_code == 201, response.content
    assert response.json()["expires_on"] is None
