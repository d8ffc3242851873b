"""Attendings' licence and board certification (DESIGN §15): the attending uploads
them, the admins review them in the documents review queue, students see each as
"verified by admins on <date>" once approved.

The rules:
- Only the attending (of their own profile) uploads; the file follows the documents'
  rules (PDF, PNG or JPEG by content, at most 10 MB, documents.uploads), the issue date
  is not in the future, a licence needs its expiry date, and nothing already expired is
  accepted. A refusal stores no file and no row.
- One current credential per kind: a new upload replaces the old one and waits for a
  new review, so the "verified" mark comes off until an admin approves the new one.
- Admins approve, or reject with a reason the attending is emailed. Only an approved
  credential is shown as verified; the approval's date is kept on the attending's
  profile (``licence_verified_at`` / ``board_certification_verified_at``) in the same
  transaction, so search shows it at no extra query.
- The file is read by the attending and the organization's admins only (404 for anyone
  else, another organization included).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404
from django.utils import timezone

from accounts.models import Membership
from documents.models import (
    AttendingCredential,
    CredentialKind,
    DocumentStatus,
)
from documents.review import clean_reason, decide, save_decision
from documents.uploads import check_dates, check_file, replacing, store_file
from notifications.services import notify
from rotations.models import AttendingProfile
from usdoctors.errors import Conflict, Invalid, NotAllowed
from usdoctors.links import organization_url
from usdoctors.text import validate_no_bidi_controls
from usdoctors.uploads import private_download

# The profile field each kind's approval date is kept in.
VERIFIED_FIELD = {
    CredentialKind.MEDICAL_LICENCE: "licence_verified_at",
    CredentialKind.BOARD_CERTIFICATION: "board_certification_verified_at",
}
ISSUER_MAX = 200


@dataclass(frozen=True)
class CredentialRule:
    """What documents.uploads.check_dates reads of a type: its name and whether it
    needs an expiry date."""

    name: str
    needs_expiry: bool


RULES = {
    CredentialKind.MEDICAL_LICENCE: CredentialRule("medical licence", needs_expiry=True),
    CredentialKind.BOARD_CERTIFICATION: CredentialRule("board certification", needs_expiry=False),
}


def credentials_of(attending: AttendingProfile) -> dict[str, AttendingCredential]:
    return {c.kind: c for c in AttendingCredential.objects.filter(attending=attending)}


def _check_issuer(issuer: str) -> str:
    issuer = (issuer or "").strip()
    if not issuer:
        raise Invalid(
            "Say who issued it: the state medical board and licence number, or the board.",
            code="issuer_required",
            field="issuer",
        )
    if len(issuer) > ISSUER_MAX:
        raise Invalid(f"Keep it under {ISSUER_MAX} characters.", code="too_long", field="issuer")
    try:
        validate_no_bidi_controls(issuer)
    except ValidationError as error:
        raise Invalid(error.messages[0], code="invalid_issuer", field="issuer") from error
    return issuer


def upload_credential(
    attending: AttendingProfile,
    kind: str,
    uploaded,
    *,
    by: Membership,
    issuer: str,
    issued_on,
    expires_on=None,
) -> AttendingCredential:
    """Store ``uploaded`` as the attending's current credential of ``kind`` (the
    module's rules); it waits for an admin's review."""
    if by.pk != attending.membership_id or not by.is_attending:
        raise NotAllowed("Only the attending uploads their credentials.", code="not_owner")
    if kind not in RULES:
        raise Invalid("Choose a medical licence or a board certification.", field="kind")
    issuer = _check_issuer(issuer)
    check_dates(RULES[kind], issued_on, expires_on)
    if expires_on is not None and expires_on < timezone.localdate():
        raise Invalid(
            f"This {RULES[kind].name} has expired; upload the current one.",
            code="expired",
            field="expires_on",
        )
    content_type = check_file(uploaded)

    def write(stored: dict) -> AttendingCredential:
        values = {
            **stored,
            "issuer": issuer,
            "issued_on": issued_on,
            "expires_on": expires_on,
        }
        return replacing(lambda: _store(attending, kind, values))

    return store_file(AttendingCredential, attending.organization_id, uploaded, content_type, write)


@transaction.atomic
def _store(attending: AttendingProfile, kind: str, values: dict) -> AttendingCredential:
    credential = AttendingCredential.objects.select_for_update().filter(
        attending=attending, kind=kind
    ).first() or AttendingCredential(
        organization_id=attending.organization_id, attending=attending, kind=kind
    )
    for field, value in values.items():
        setattr(credential, field, value)
    credential.status = DocumentStatus.SUBMITTED
    credential.rejection_reason = ""
    credential.reviewed_by = None
    credential.reviewed_at = None
    credential.uploaded_at = timezone.now()
    with transaction.atomic():  # a savepoint, so the caller can retry on IntegrityError
        credential.save()
    _keep_on_profile(credential, None)
    return credential


def _keep_on_profile(credential: AttendingCredential, verified_at) -> None:
    AttendingProfile.objects.filter(pk=credential.attending_id).update(
        **{VERIFIED_FIELD[credential.kind]: verified_at}
    )


def review_queue(organization):
    """Submitted credentials, oldest upload first (beside the documents' queue)."""
    return (
        AttendingCredential.objects.filter(
            organization=organization, status=DocumentStatus.SUBMITTED
        )
        .select_related("attending__membership__user")
        .order_by("uploaded_at", "pk")
    )


def _lock_submitted(credential: AttendingCredential, by: Membership) -> AttendingCredential:
    if not by.is_admin or by.organization_id != credential.organization_id:
        raise NotAllowed("Only this organization's admins review credentials.", code="not_admin")
    credential = AttendingCredential.objects.select_for_update().get(pk=credential.pk)
    if credential.status != DocumentStatus.SUBMITTED:
        raise Conflict(
            f"This {credential.get_kind_display().lower()} is already "
            f"{credential.get_status_display().lower()}; a new upload would need a new review.",
            code="already_reviewed",
        )
    return credential


@transaction.atomic
def approve_credential(credential: AttendingCredential, *, by: Membership) -> AttendingCredential:
    """Approve a submitted credential: students now see it verified, dated today."""
    credential = _lock_submitted(credential, by)
    decide(credential, DocumentStatus.APPROVED, by=by)
    save_decision(credential)
    _keep_on_profile(credential, credential.reviewed_at)
    return credential


@transaction.atomic
def reject_credential(
    credential: AttendingCredential, *, by: Membership, reason: str
) -> AttendingCredential:
    """Reject a submitted credential with a reason (required), emailed to the attending;
    it is not shown as verified."""
    reason = clean_reason(reason, who="the attending")
    try:
        validate_no_bidi_controls(reason)
    except ValidationError as error:
        raise Invalid(error.messages[0], code="invalid_reason", field="reason") from error
    credential = _lock_submitted(credential, by)
    decide(credential, DocumentStatus.REJECTED, by=by, reason=reason)
    save_decision(credential)
    _keep_on_profile(credential, None)
    attending = AttendingProfile.objects.select_related("membership__user").get(
        pk=credential.attending_id
    )
    notify(
        credential.organization,
        attending.membership.user.email,
        "credential_rejected",
        {
            "attending_name": attending.display_name,
            "credential_name": credential.get_kind_display(),
            "reason": reason,
            "credentials_url": organization_url(credential.organization, "/documents/credentials/"),
        },
        dedupe_key=f"credential-rejected:{credential.pk}:{credential.reviewed_at.isoformat()}",
    )
    return credential


def file_response(viewer: Membership | None, credential_id) -> FileResponse:
    """The credential's bytes for its attending and the organization's admins; 404 for
    anyone else. Always a download under our own name."""
    credential = (
        AttendingCredential.objects.select_related("attending").filter(pk=credential_id).first()
    )
    if (
        credential is None
        or viewer is None
        or viewer.organization_id != credential.organization_id
        or not (viewer.is_admin or viewer.pk == credential.attending.membership_id)
    ):
        raise Http404("No such credential.")
    return private_download(
        credential.file,
        filename=credential.download_name,
        content_type=credential.content_type,
        missing="No such credential.",
    )
