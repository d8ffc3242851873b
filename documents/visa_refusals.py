"""A refused visa (DESIGN §15): the student uploads the refusal on the rotation page, an
admin confirms it, and the rotation is cancelled with everything paid refunded to where
it came from (rotations.cancellations.cancel_for_visa_refusal announces ``cancelled``;
payments.refunds does the money).

- Upload: only the rotation's student, while it is approved or on hold (409 otherwise);
  PDF, PNG or JPEG checked by content, at most 10 MB (documents.uploads.check_file, 400);
  one waiting at a time (409).
- Confirm: admins only (403); the refusal is locked and must be waiting — confirming it
  a second time is 409 and changes nothing. The cancellation runs in the same
  transaction: if the rotation can no longer be cancelled (409), the refusal stays
  waiting.
- Reject: admins only, with a reason the student sees; the student may upload again.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Membership
from documents.models import VisaRefusal, VisaRefusalStatus
from documents.uploads import check_file, store_file
from rotations.cancellations import BEFORE_START, cancel_for_visa_refusal
from rotations.models import Rotation
from usdoctors.errors import Conflict, Invalid, NotAllowed


def upload_visa_refusal(rotation: Rotation, uploaded, *, by: Membership) -> VisaRefusal:
    """Store the student's visa refusal for ``rotation`` (module docstring)."""
    if rotation.student_id != by.pk:
        raise NotAllowed(
            "Only the rotation's student can upload a visa refusal.", code="not_the_student"
        )
    if rotation.status not in BEFORE_START:
        raise Conflict(
            f"This rotation is {rotation.get_status_display().lower()}; a visa refusal is "
            "uploaded for an approved rotation before it starts.",
            code="wrong_status",
        )
    content_type = check_file(uploaded)
    if VisaRefusal.objects.filter(rotation=rotation, status=VisaRefusalStatus.SUBMITTED).exists():
        raise Conflict(
            "Your visa refusal is already waiting for an admin.", code="visa_refusal_waiting"
        )

    @transaction.atomic
    def write(stored: dict) -> VisaRefusal:
        return VisaRefusal.objects.create(
            organization_id=rotation.organization_id,
            rotation=rotation,
            student_id=rotation.student_id,
            **stored,
        )

    try:
        return store_file(VisaRefusal, rotation.organization_id, uploaded, content_type, write)
    except IntegrityError as error:  # another one came first; ours left the disk again
        raise Conflict(
            "Your visa refusal is already waiting for an admin.", code="visa_refusal_waiting"
        ) from error


def _lock_waiting(refusal: VisaRefusal, by: Membership) -> VisaRefusal:
    if not by.is_admin:
        raise NotAllowed("Only an admin can decide on a visa refusal.", code="not_admin")
    refusal = VisaRefusal.objects.select_for_update().select_related("rotation").get(pk=refusal.pk)
    if refusal.status != VisaRefusalStatus.SUBMITTED:
        raise Conflict(
            f"This visa refusal is {refusal.get_status_display().lower()} already.",
            code="visa_refusal_decided",
        )
    return refusal


@transaction.atomic
def confirm_visa_refusal(refusal: VisaRefusal, *, by: Membership) -> VisaRefusal:
    """An admin confirms the refusal: the rotation is cancelled and refunded (§15)."""
    refusal = _lock_waiting(refusal, by)
    cancel_for_visa_refusal(refusal.rotation, by=by)
    refusal.status = VisaRefusalStatus.CONFIRMED
    refusal.decided_by = by
    refusal.decided_at = timezone.now()
    refusal.save(update_fields=["status", "decided_by", "decided_at"])
    return refusal


@transaction.atomic
def reject_visa_refusal(refusal: VisaRefusal, *, by: Membership, reason: str) -> VisaRefusal:
    """An admin does not accept the upload (unreadable, not a refusal): the reason is
    required (400) and shown to the student, who may upload again."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Say why it is not accepted.", code="reason_required", field="reason")
    refusal = _lock_waiting(refusal, by)
    refusal.status = VisaRefusalStatus.REJECTED
    refusal.reason = reason
    refusal.decided_by = by
    refusal.decided_at = timezone.now()
    refusal.save(update_fields=["status", "reason", "decided_by", "decided_at"])
    return refusal
