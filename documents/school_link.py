"""The school's upload link (DESIGN §7, §10).

When a rotation is requested, the student's school contact is emailed a signed link
(purpose ``school_documents``: never accepted as a payment link, nor the reverse) that
carries the organization and the rotation and expires when the rotation starts. Without
an account, the school uploads there the school-issued documents (the letter of good
standing) for that student. The link works once per document type: each upload marks
(link, type) used in the same transaction, so a second upload of a type — even a
concurrent one — is refused and changes nothing. The page shows what was received.
"""

from __future__ import annotations

from datetime import datetime
from datetime import time as clock

from django.db import transaction
from django.utils import timezone

from documents.models import Document, DocumentType, UploadedBy
from documents.requirements import required_types
from documents.uploads import check_dates, check_file, upload_document
from notifications.services import notify
from rotations.choices import RotationStatus
from rotations.models import Rotation
from rotations.services import rotation_context
from usdoctors import signed_links
from usdoctors.errors import Invalid
from usdoctors.links import organization_url

# The school may still send its documents while the request waits or the rotation is
# booked; after that the link is void.
OPEN = (RotationStatus.REQUESTED, RotationStatus.APPROVED, RotationStatus.ON_HOLD)


def link_expiry(rotation: Rotation) -> datetime:
    """The link works until the rotation's first day begins (site time)."""
    return timezone.make_aware(datetime.combine(rotation.start, clock.min))


def upload_url(rotation: Rotation) -> str:
    token = signed_links.make_token(
        rotation.organization,
        rotation.pk,
        signed_links.SCHOOL_DOCUMENTS,
        expires=link_expiry(rotation),
    )
    return organization_url(rotation.organization, f"/school/documents/{token}/")


def school_types(rotation: Rotation) -> list[DocumentType]:
    """The school-issued types this rotation needs."""
    return [t for t in required_types([rotation])[rotation.pk] if t.school_issued]


def email_the_school_contact(rotation: Rotation, *, by) -> None:
    """Lifecycle ``requested``: email the school contact the signed upload link, once
    per rotation, when the rotation needs a school-issued document and the profile names
    a school contact."""
    profile = getattr(rotation.student, "profile", None)
    school_email = getattr(profile, "school_contact_email", "")
    types = school_types(rotation)
    if not school_email or not types:
        return
    notify(
        rotation.organization,
        school_email,
        "school_documents_request",
        {
            **rotation_context(rotation),
            "medical_school": getattr(profile, "medical_school", ""),
            "document_names": [t.name for t in types],
            "upload_url": upload_url(rotation),
            "upload_by": f"{rotation.start:%B} {rotation.start.day}, {rotation.start.year}",
        },
        dedupe_key=f"school-documents-link:{rotation.pk}",
    )


def read_link(token: str, organization):
    """The link and its rotation, or LinkError (invalid, expired, or the rotation is no
    longer going ahead)."""
    link = signed_links.read_token(token, signed_links.SCHOOL_DOCUMENTS, organization)
    rotation = (
        Rotation.objects.select_related("student__profile", "student__user", "attending")
        .filter(pk=link.rotation_id)
        .first()
    )
    if rotation is None:
        raise signed_links.LinkError(signed_links.INVALID)
    if rotation.status not in OPEN:
        raise signed_links.LinkError(
            signed_links.INVALID,
            "This rotation is no longer going ahead, so no documents are needed for it. "
            "Nothing was changed.",
        )
    return link, rotation


def received(link, rotation: Rotation, types: list[DocumentType]) -> dict[int, bool]:
    """For each school-issued type: was it already uploaded through this link?"""
    return {t.pk: signed_links.is_used(link, part=str(t.pk)) for t in types}


def student_documents(rotation: Rotation, types: list[DocumentType]) -> dict[int, Document]:
    return {
        document.document_type_id: document
        for document in Document.objects.filter(
            student_id=rotation.student_id, document_type__in=types
        )
    }


def upload_through_link(
    token: str, organization, document_type_code: str, uploaded, *, issued_on, expires_on=None
) -> Document:
    """The school uploads one school-issued document for the link's student (§7).
    Refused, with nothing written: a type the rotation does not ask the school for
    (400), a type already uploaded through this link (LinkError used), a bad file or
    dates (400), or any LinkError of the link itself."""
    link, rotation = read_link(token, organization)
    types = {t.code: t for t in school_types(rotation)}
    document_type = types.get(document_type_code)
    if document_type is None:
        raise Invalid(
            "This link is for the school-issued documents this rotation needs; choose one of them.",
            code="not_a_school_document",
            field="document_type",
        )
    check_dates(document_type, issued_on, expires_on)
    check_file(uploaded)
    with transaction.atomic():
        signed_links.use_link(link, part=str(document_type.pk))
        return upload_document(
            rotation.student,
            document_type,
            uploaded,
            issued_on=issued_on,
            expires_on=expires_on,
            uploaded_by=UploadedBy.SCHOOL,
        )
