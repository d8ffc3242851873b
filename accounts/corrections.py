"""Admins correct a student's profile (DESIGN §3).

A student edits their profile only while it is incomplete or needs information; after
that a verified student asks support. The organization's admins answer such a ticket by
correcting the fields themselves, in any verification state: the verification state
never changes with a correction (it is decided only through the verification
decisions). Each correction leaves

- an audit-trail entry naming the admin, with each field's old and new value
  (``StudentProfile`` is registered with django-auditlog in ``accounts.audit``);
- a line in the profile's history (``ProfileReview`` "Corrected by an admin");
- an email to the student saying what changed, from what to what.

The CV is the student's own upload and is not corrected here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from django.db import transaction

from accounts.choices import Specialty
from accounts.models import Membership, ProfileReview, StudentProfile
from notifications.services import notify
from usdoctors.errors import Invalid, NotAllowed
from usdoctors.links import organization_url
from usdoctors.text import SHORT_TEXT_MAX

CORRECTABLE_FIELDS = tuple(name for name in StudentProfile.EDITABLE_FIELDS if name != "cv")


def field_label(name: str) -> str:
    label = str(StudentProfile._meta.get_field(name).verbose_name)
    return label[:1].upper() + label[1:]


def shown_value(profile: StudentProfile, name: str) -> str:
    """A field's value in words, as the student sees it (labels, not codes)."""
    field = StudentProfile._meta.get_field(name)
    value = getattr(profile, name)
    if name == "specialty_interests":
        labels = dict(Specialty.choices)
        return ", ".join(str(labels.get(code, code)) for code in value or []) or "—"
    if value in (None, ""):
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if field.choices:
        return str(getattr(profile, f"get_{name}_display")())
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@transaction.atomic
def correct_profile(
    profile: StudentProfile, *, by: Membership, values: Mapping[str, object]
) -> list[dict]:
    """An admin of the student's organization sets profile fields (``CORRECTABLE_FIELDS``,
    values already validated by the form or serializer). Returns what changed, one
    ``{"field", "old", "new"}`` per field in words; nothing changed, nothing is written
    and nobody is emailed. The verification state stays as it is."""
    if not by.is_admin or by.organization_id != profile.organization_id:
        raise NotAllowed("Only this organization's admins can correct profiles.")
    unknown = sorted(set(values) - set(CORRECTABLE_FIELDS))
    if unknown:
        raise Invalid(
            f"These fields cannot be corrected here: {', '.join(unknown)}.",
            code="not_correctable",
        )
    profile = (
        StudentProfile.objects.select_for_update()
        .select_related("membership__user", "organization")
        .get(pk=profile.pk)
    )
    changes = []
    changed_names = []
    for name in CORRECTABLE_FIELDS:
        if name not in values:
            continue
        new = values[name]
        if name == "specialty_interests":
            new = list(new or [])
        if getattr(profile, name) == new:
            continue
        old_words = shown_value(profile, name)
        setattr(profile, name, new)
        changes.append({"field": field_label(name), "old": old_words, "new": ""})
        changed_names.append(name)
    if not changes:
        return []
    for change, name in zip(changes, changed_names, strict=True):
        change["new"] = shown_value(profile, name)
    profile.save(update_fields=[*changed_names, "updated_at"])  # audited (accounts.audit)
    membership = profile.membership
    ProfileReview.objects.create(
        organization=profile.organization,
        membership=membership,
        action=ProfileReview.Action.CORRECTED,
        message="; ".join(f"{c['field']}: {c['old']} → {c['new']}" for c in changes)[
            :SHORT_TEXT_MAX
        ],
        by=by,
    )
    notify(
        profile.organization,
        membership.user.email,
        "profile_corrected",
        {
            "student_name": membership.display_name,
            "changes": changes,
            "profile_url": organization_url(profile.organization, "/profile/"),
        },
    )
    return changes
