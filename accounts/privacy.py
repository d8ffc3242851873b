"""Who may see a student's profile and documents (DESIGN §3).

Visible only to the student, the organization's admins, and attendings who have an
``approved`` or ``in_progress`` rotation with that student — and, §3's narrow addition,
the attending a ``requested`` rotation waits on (profile and CV only: documents keep
their own rule, documents.access). Everyone else gets 404, never 403, so the existence
of a profile is not revealed.

Rotations live in another app: it registers the attending relationship check with
``register_attending_relationship`` when it loads.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404

from accounts.models import Membership

AttendingRelationship = Callable[[Membership, Membership], bool]
_attending_relationships: list[AttendingRelationship] = []


def register_attending_relationship(check: AttendingRelationship) -> None:
    if check not in _attending_relationships:
        _attending_relationships.append(check)


def can_view_student(viewer: Membership | None, student: Membership) -> bool:
    if viewer is None or viewer.organization_id != student.organization_id:
        return False
    if viewer.pk == student.pk or viewer.is_admin:
        return True
    if viewer.is_attending:
        return any(check(viewer, student) for check in _attending_relationships)
    return False


def visible_student_or_404(viewer: Membership | None, student: Membership) -> Membership:
    if not student.is_student or not can_view_student(viewer, student):
        raise Http404("No such student.")
    return student
