"""Who may read a student's document file (DESIGN §3, §7).

The student, the organization's admins, and attendings with an ``approved`` or
``in_progress`` rotation with the student. Nobody else — not the attending a request
merely waits on (they see the profile and CV, which live on the profile), not another
student, not another organization. A refusal is 404, never 403, so a document's
existence is not revealed.
"""

from __future__ import annotations

from django.http import FileResponse, Http404

from accounts.models import Membership
from documents.models import Document
from rotations.choices import RotationStatus
from rotations.models import Rotation
from usdoctors.uploads import private_download

SHARING = (RotationStatus.APPROVED, RotationStatus.IN_PROGRESS)


def can_read_documents_of(viewer: Membership | None, student: Membership) -> bool:
    """Whether ``viewer`` may read ``student``'s documents (the rule is per student: all
    of their documents or none)."""
    return _may_read(viewer, student.organization_id, student.pk)


def can_read(viewer: Membership | None, document: Document) -> bool:
    return _may_read(viewer, document.organization_id, document.student_id)


def _may_read(viewer: Membership | None, organization_id: int, student_id: int) -> bool:
    if viewer is None or viewer.organization_id != organization_id:
        return False
    if viewer.pk == student_id or viewer.is_admin:
        return True
    return (
        viewer.is_attending
        and Rotation.objects.filter(
            organization_id=organization_id,
            attending__membership=viewer,
            student_id=student_id,
            status__in=SHARING,
        ).exists()
    )


def readable_documents(viewer: Membership):
    """Every document ``viewer`` may read, as one queryset (the same rule as ``can_read``,
    for lists: one subquery, whatever the number of rotations or documents)."""
    documents = Document.objects.filter(organization_id=viewer.organization_id)
    if viewer.is_admin:
        return documents
    if viewer.is_student:
        return documents.filter(student=viewer)
    if viewer.is_attending:
        shared = Rotation.objects.filter(
            organization_id=viewer.organization_id,
            attending__membership=viewer,
            status__in=SHARING,
        ).values("student_id")
        return documents.filter(student_id__in=shared)
    return documents.none()


def readable_document_or_404(viewer: Membership | None, document_id) -> Document:
    document = (
        Document.objects.select_related("document_type", "student__user")
        .filter(pk=document_id)
        .first()
    )
    if document is None or not can_read(viewer, document):
        raise Http404("No such document.")
    return document


def file_response(viewer: Membership | None, document_id) -> FileResponse:
    """The document's bytes for ``viewer`` (the API and the page both answer this):
    404 unless §3 allows it or when the file is gone; always a download under our own
    name, never sniffed by the browser, never cached by a shared cache."""
    document = readable_document_or_404(viewer, document_id)
    return private_download(
        document.file,
        filename=document.download_name,
        content_type=document.content_type,
        missing="No such document.",
    )
