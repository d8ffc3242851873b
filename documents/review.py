"""The admins' review of submitted documents (DESIGN §7): approve, or reject with a
reason the student sees. The queue lists submitted documents oldest first."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership
from documents.models import Document, DocumentStatus
from notifications.services import notify
from usdoctors.errors import Conflict, Invalid, NotAllowed
from usdoctors.links import organization_url
from usdoctors.text import SHORT_TEXT_MAX


def review_queue(organization):
    """Submitted documents, oldest upload first (the admins' queue)."""
    return (
        Document.objects.filter(organization=organization, status=DocumentStatus.SUBMITTED)
        .select_related("student__user", "student__profile", "document_type")
        .order_by("uploaded_at", "pk")
    )


def _lock_submitted(document: Document, by: Membership) -> Document:
    if not by.is_admin or by.organization_id != document.organization_id:
        raise NotAllowed("Only this organization's admins review documents.", code="not_admin")
    document = (
        Document.objects.select_for_update().select_related("document_type").get(pk=document.pk)
    )
    if document.status != DocumentStatus.SUBMITTED:
        raise Conflict(
            f"This document is already {document.get_status_display().lower()}; a new "
            "upload would need a new review.",
            code="already_reviewed",
        )
    return document


def clean_reason(reason: str, *, who: str) -> str:
    """A rejection's reason, stripped: required (``who`` reads it) and short."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(
            f"Say why the document is rejected; {who} sees it.",
            code="reason_required",
            field="reason",
        )
    if len(reason) > SHORT_TEXT_MAX:
        raise Invalid(
            f"Keep the reason under {SHORT_TEXT_MAX} characters.", code="too_long", field="reason"
        )
    return reason


def decide(upload, status: str, *, by: Membership, reason: str = "") -> None:
    """Set an admin's decision on a locked, submitted upload (a student's document or an
    attending's credential): its status, who decided and when, and a rejection's reason.
    The caller validates, then ``save_decision`` writes it."""
    upload.status = status
    upload.reviewed_by = by
    upload.reviewed_at = timezone.now()
    if status == DocumentStatus.REJECTED:
        upload.rejection_reason = reason


def save_decision(upload) -> None:
    """Write what ``decide`` set, and only that."""
    fields = ["status", "reviewed_by", "reviewed_at"]
    if upload.status == DocumentStatus.REJECTED:
        fields.insert(1, "rejection_reason")
    upload.save(update_fields=fields)


@transaction.atomic
def approve_document(document: Document, *, by: Membership) -> Document:
    """Approve a submitted document (admins only; 409 when it is not waiting)."""
    document = _lock_submitted(document, by)
    decide(document, DocumentStatus.APPROVED, by=by)
    save_decision(document)
    return document


@transaction.atomic
def reject_document(document: Document, *, by: Membership, reason: str) -> Document:
    """Reject a submitted document with a reason (required); the student is emailed it."""
    reason = clean_reason(reason, who="the student")
    document = _lock_submitted(document, by)
    decide(document, DocumentStatus.REJECTED, by=by, reason=reason)
    try:
        document.full_clean(exclude=["file", "student", "document_type", "organization"])
    except ValidationError as error:  # e.g. invisible text-direction characters
        messages = error.message_dict.get("rejection_reason") or error.messages
        raise Invalid(messages[0], code="invalid_reason", field="reason") from error
    save_decision(document)
    student = document.student
    notify(
        document.organization,
        student.user.email,
        "document_rejected",
        {
            "student_name": student.display_name,
            "document_name": document.document_type.name,
            "reason": reason,
            "documents_url": organization_url(document.organization, "/documents/"),
        },
        dedupe_key=f"document-rejected:{document.pk}:{document.reviewed_at.isoformat()}",
    )
    return document
