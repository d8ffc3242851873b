"""The per-rotation document checklist (DESIGN §7) and its part of "ready to start" (§5).

One item per required type (documents.requirements), in one of five states:

- ``missing``: no document of that type;
- ``rejected``: the admins rejected it, with the reason the student sees;
- ``expired``: it exists but does not count for *this* rotation's dates
  (documents.validity), whatever its review;
- ``submitted``: waiting for an admin's review;
- ``approved``: approved and valid for the rotation's dates.

The checklist is complete when every item is approved. It is computed from the
documents and the rotation's dates each time it is read, so one document serves every
rotation it is valid for, and a rotation whose dates move is judged again at once.
``checklists()`` answers many rotations in a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import TextChoices

from documents.models import Document, DocumentStatus, DocumentType
from documents.requirements import required_types
from documents.validity import expired_for, expiry_words
from rotations.models import Rotation
from rotations.readiness import Answers, ReadinessItem, batch_check


class ItemState(TextChoices):
    MISSING = "missing", "Missing"
    SUBMITTED = "submitted", "Waiting for review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired for this rotation"


@dataclass(frozen=True)
class ChecklistItem:
    document_type: DocumentType
    state: str
    document: Document | None = None
    reason: str = ""  # the rejection reason, or what an expired document must be

    @property
    def done(self) -> bool:
        return self.state == ItemState.APPROVED

    @property
    def state_label(self) -> str:
        return ItemState(self.state).label

    def words(self) -> str:
        """What the student should do about this item, in their words."""
        name = self.document_type.name
        match self.state:
            case ItemState.MISSING if self.document_type.kept_on_profile:
                return f"Add your {name} to your profile."
            case ItemState.MISSING if self.document_type.school_issued:
                return f"Your school uploads your {name} (or upload it yourself)."
            case ItemState.MISSING:
                return f"Upload your {name}."
            case ItemState.REJECTED:
                return f"Your {name} was rejected: {self.reason} Upload a new one."
            case ItemState.EXPIRED:
                return f"Your {name} {self.reason} for this rotation; upload a newer one."
            case ItemState.SUBMITTED:
                return f"Your {name} is waiting for review."
        return f"Your {name} is approved."


def judge(document_type: DocumentType, document, *, start: date, end: date, profile=None):
    """One item's state for a rotation from ``start`` to ``end``."""
    if document_type.kept_on_profile:
        if profile is None or not profile.cv:
            return ChecklistItem(document_type, ItemState.MISSING)
        verified = profile.membership.is_verified_student
        return ChecklistItem(document_type, ItemState.APPROVED if verified else ItemState.SUBMITTED)
    if document is None:
        return ChecklistItem(document_type, ItemState.MISSING)
    if document.status == DocumentStatus.REJECTED:
        return ChecklistItem(document_type, ItemState.REJECTED, document, document.rejection_reason)
    validity = document_type.validity
    if expired_for(validity, document.issued_on, document.expires_on, start=start, end=end):
        words = expiry_words(validity, start=start, end=end)
        return ChecklistItem(document_type, ItemState.EXPIRED, document, words)
    if document.status == DocumentStatus.SUBMITTED:
        return ChecklistItem(document_type, ItemState.SUBMITTED, document)
    return ChecklistItem(document_type, ItemState.APPROVED, document)


def checklists(rotations, *, loaded: bool = False) -> dict[int, list[ChecklistItem]]:
    """Each rotation's checklist, for rotations of one organization, in three queries
    whatever their number (rotations, required types, documents). ``loaded``: the
    rotations were just read with their student's user and profile and their attending
    (a sweep's locked batch), so they are used as they are instead of read again."""
    if not loaded:
        rotations = Rotation.objects.filter(
            pk__in=[rotation.pk for rotation in rotations]
        ).select_related("student__profile", "student__user", "attending")
    rotations = list(rotations)
    needed = required_types(rotations)
    student_ids = {rotation.student_id for rotation in rotations}
    documents = {
        (document.student_id, document.document_type_id): document
        for document in Document.objects.filter(student_id__in=student_ids)
    }
    answer = {}
    for rotation in rotations:
        profile = getattr(rotation.student, "profile", None)
        answer[rotation.pk] = [
            judge(
                document_type,
                documents.get((rotation.student_id, document_type.pk)),
                start=rotation.start,
                end=rotation.end,
                profile=profile,
            )
            for document_type in needed[rotation.pk]
        ]
    return answer


def checklist(rotation: Rotation) -> list[ChecklistItem]:
    return checklists([rotation])[rotation.pk]


def is_complete(items: list[ChecklistItem]) -> bool:
    return all(item.done for item in items)


@batch_check
def document_readiness(rotations: list[Rotation]) -> Answers:
    """Readiness check (§5): one ``document_<state>`` item per checklist item not yet
    approved, due by the start date; the on-hold reason names each of them. A batch
    check: ``checklists()`` judges the whole batch in a fixed number of queries, on the
    rotations as handed over, which carry their student and attending (the readiness
    contract, rotations.readiness), instead of reading them again."""
    starts = {rotation.pk: rotation.start for rotation in rotations}
    return {
        rotation_id: [
            ReadinessItem(
                code=f"document_{item.state}", message=item.words(), deadline=starts[rotation_id]
            )
            for item in items
            if not item.done
        ]
        for rotation_id, items in checklists(rotations, loaded=True).items()
    }
