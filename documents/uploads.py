"""Uploading a student's document (DESIGN §7): browser, API and the school's link all
come here.

The rules, checked before anything is written (a refusal stores no file and no row):
- the type is one students upload (the CV is kept on the profile);
- the file is not empty, is at most 10 MB, and its content is PDF, PNG or JPEG
  (usdoctors.uploads reads the content; the uploaded name is never used or stored);
- the issue date is not in the future nor more than 30 years back; an expiry date is not
  before the issue date; a type valid through the rotation's end needs its expiry date.

A student keeps one current document per type: a new upload replaces the old one,
goes back to ``submitted`` for review, and the old file leaves the disk once the
transaction commits.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Membership
from documents.models import Document, DocumentStatus, DocumentType, UploadedBy, stored_name
from usdoctors.errors import Invalid, NotAllowed
from usdoctors.uploads import validate_upload

ALLOWED = ("application/pdf", "image/png", "image/jpeg")
YEARS_BACK = 30


def check_dates(document_type: DocumentType, issued_on, expires_on, *, today=None) -> None:
    today = today or timezone.localdate()
    if not isinstance(issued_on, date):
        raise Invalid("Enter the date the document was issued.", field="issued_on")
    if issued_on > today:
        raise Invalid(
            "The issue date cannot be in the future.", code="issued_in_future", field="issued_on"
        )
    if issued_on < today - timedelta(days=365 * YEARS_BACK):
        raise Invalid(
            f"The issue date cannot be more than {YEARS_BACK} years ago.",
            code="issued_too_long_ago",
            field="issued_on",
        )
    if expires_on is None:
        if document_type.needs_expiry:
            raise Invalid(
                f"Enter the expiry date of your {document_type.name}: it must be valid "
                "through the end of your rotation.",
                code="expiry_required",
                field="expires_on",
            )
        return
    if expires_on < issued_on:
        raise Invalid(
            "The expiry date cannot be before the issue date.",
            code="expires_before_issue",
            field="expires_on",
        )
    if expires_on > today + timedelta(days=365 * YEARS_BACK):
        raise Invalid(
            f"The expiry date cannot be more than {YEARS_BACK} years ahead.",
            code="expires_too_far",
            field="expires_on",
        )


def check_file(uploaded) -> str:
    """The file's content type, or Invalid (field ``file``) saying what is wrong."""
    if uploaded is None:
        raise Invalid("Choose a file to upload.", code="file_required", field="file")
    try:
        return validate_upload(uploaded, allowed=ALLOWED, what="The file")
    except ValidationError as error:
        raise Invalid(error.messages[0], code=error.code, field="file") from error


def uploadable(document_type: DocumentType) -> None:
    if document_type.kept_on_profile:
        raise Invalid(
            f"Your {document_type.name} is part of your profile; upload it there.",
            code="kept_on_profile",
            field="document_type",
        )


def upload_document(
    student: Membership,
    document_type: DocumentType,
    uploaded,
    *,
    issued_on,
    expires_on=None,
    uploaded_by: str = UploadedBy.STUDENT,
) -> Document:
    """Store ``uploaded`` as ``student``'s current document of ``document_type`` (§7)."""
    if not student.is_student:
        raise NotAllowed("Documents belong to students.", code="not_a_student")
    uploadable(document_type)
    check_dates(document_type, issued_on, expires_on)
    content_type = check_file(uploaded)

    def write(stored: dict) -> Document:
        values = {
            **stored,
            "issued_on": issued_on,
            "expires_on": expires_on,
            "uploaded_by": uploaded_by,
        }
        return replacing(lambda: _store(student, document_type, values))

    return store_file(Document, student.organization_id, uploaded, content_type, write)


def store_file(model, organization_id: int, uploaded, content_type: str, write):
    """Save ``uploaded`` in ``model``'s file storage under our generated name
    (models.stored_name, never the uploaded one), then ``write(stored)`` its row, with
    ``stored`` the fields every upload row has (``file``, ``content_type``, ``size``),
    and return what it returns. When the row is not written (any error), the file
    leaves the disk again: a refused upload stores nothing."""
    storage = model._meta.get_field("file").storage
    uploaded.seek(0)
    name = storage.save(stored_name(organization_id, content_type), uploaded)
    try:
        return write({"file": name, "content_type": content_type, "size": uploaded.size})
    except BaseException:
        storage.delete(name)
        raise


def replacing(store):
    """``store()`` the current row of a kind that keeps one (it locks and replaces the
    row there is, or adds it); when a concurrent first upload of that kind added it in
    between (the unique constraint refused ours), once more, now replacing it."""
    try:
        return store()
    except IntegrityError:
        return store()


@transaction.atomic
def _store(student, document_type, values) -> Document:
    document = Document.objects.select_for_update().filter(
        student=student, document_type=document_type
    ).first() or Document(
        organization_id=student.organization_id, student=student, document_type=document_type
    )
    for field, value in values.items():
        setattr(document, field, value)
    document.status = DocumentStatus.SUBMITTED
    document.rejection_reason = ""
    document.reviewed_by = None
    document.reviewed_at = None
    document.uploaded_at = timezone.now()
    with transaction.atomic():  # a savepoint, so the caller can retry on IntegrityError
        document.save()
    return document


@transaction.atomic
def delete_document(document: Document, *, by: Membership) -> None:
    """The student (or an admin) deletes a document; its file leaves the disk."""
    if by.pk != document.student_id and not by.is_admin:
        raise NotAllowed("Only the student or an admin can delete this document.")
    document.delete()
