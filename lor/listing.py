"""Which letters a member sees, and in what order: one rule for the pages and the API
(DESIGN §8, §3). Students see theirs, attendings the ones asked of them, the
organization's admins all of them; anyone else none (a letter id they may not see is a
404, like one that does not exist or belongs to another organization)."""

from __future__ import annotations

from django.db.models import Case, IntegerField, QuerySet, Value, When

from accounts.models import Membership
from lor.models import OPEN_STATUSES, Letter


def visible_letters(viewer: Membership) -> QuerySet:
    """The letters ``viewer`` may see, with what pages and API show of each loaded in
    the same query (no query per letter)."""
    letters = Letter.objects.filter(organization_id=viewer.organization_id).select_related(
        "student__user",
        "student__profile",
        "attending__membership__user",
        "rotation__evaluation",
        "invoice",
    )
    if viewer.is_admin:
        return letters
    if viewer.is_attending:
        return letters.filter(attending__membership=viewer)
    if viewer.is_student:
        return letters.filter(student=viewer)
    return letters.none()


def in_list_order(letters: QuerySet, viewer: Membership) -> QuerySet:
    """Attendings: what they owe first (requested and accepted), soonest ERAS target
    date first, then the closed ones. Students and admins: newest request first."""
    if not viewer.is_attending:
        return letters.order_by("-requested_at", "-pk")
    closed = Case(
        When(status__in=OPEN_STATUSES, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return letters.order_by(closed, "target_on", "requested_at", "pk")
