"""Which document types a rotation needs (DESIGN §7).

A rotation needs the organization's required set plus the types its attending added.
The USMLE score report counts only when the student reports a Step (a Step 1 result or
a Step 2 CK score). Lookups are set-based: one query for the organization's rows and
the attendings' rows of every rotation asked about, whatever their number.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import transaction
from django.db.models import Q

from accounts.choices import Step1Result
from documents.models import DocumentType, RequiredDocumentType

USMLE_SCORE_REPORT = "usmle_score_report"


def catalog() -> list[DocumentType]:
    return list(DocumentType.objects.all())


def organization_type_ids(organization) -> set[int]:
    return set(
        RequiredDocumentType.objects.filter(
            organization=organization, attending__isnull=True
        ).values_list("document_type_id", flat=True)
    )


def attending_type_ids(attending_membership) -> set[int]:
    return set(
        RequiredDocumentType.objects.filter(
            organization_id=attending_membership.organization_id, attending=attending_membership
        ).values_list("document_type_id", flat=True)
    )


@transaction.atomic
def set_organization_types(organization, type_ids) -> None:
    """Replace the organization's required set with ``type_ids`` (admins, §7)."""
    _replace(organization, None, set(type_ids))


@transaction.atomic
def set_attending_types(attending_membership, type_ids) -> None:
    """Replace the types this attending adds for rotations with them (§7). Types the
    organization already requires are kept out: they are required anyway."""
    wanted = set(type_ids) - organization_type_ids(attending_membership.organization)
    _replace(attending_membership.organization, attending_membership, wanted)


def _replace(organization, attending, wanted: set[int]) -> None:
    rows = RequiredDocumentType.objects.filter(organization=organization, attending=attending)
    rows.exclude(document_type_id__in=wanted).delete()
    have = set(rows.values_list("document_type_id", flat=True))
    RequiredDocumentType.objects.bulk_create(
        RequiredDocumentType(organization=organization, attending=attending, document_type_id=pk)
        for pk in sorted(wanted - have)
    )


def give_new_organization_the_defaults(sender, instance, created, raw=False, **kwargs) -> None:
    """post_save of Organization: a new organization requires the catalog's defaults."""
    if not created or raw:
        return
    RequiredDocumentType.objects.bulk_create(
        RequiredDocumentType(organization=instance, document_type=document_type)
        for document_type in DocumentType.objects.filter(required_by_default=True)
    )


def reports_a_step(profile) -> bool:
    return profile is not None and (
        (profile.step1_result or Step1Result.NOT_TAKEN) != Step1Result.NOT_TAKEN
        or profile.step2ck_score is not None
    )


def required_types(rotations) -> dict[int, list[DocumentType]]:
    """Each rotation's required types, in catalog order. ``rotations`` must share one
    organization and carry ``student__profile`` and ``attending`` (select_related)."""
    rotations = list(rotations)
    if not rotations:
        return {}
    types = {document_type.pk: document_type for document_type in catalog()}
    organization_id = rotations[0].organization_id
    attending_memberships = {rotation.attending.membership_id for rotation in rotations}
    organization_wide: set[int] = set()
    by_attending: dict[int, set[int]] = defaultdict(set)
    rows = RequiredDocumentType.objects.filter(
        Q(attending__isnull=True) | Q(attending_id__in=attending_memberships),
        organization_id=organization_id,
    ).values_list("document_type_id", "attending_id")
    for type_id, attending_id in rows:
        (by_attending[attending_id] if attending_id else organization_wide).add(type_id)
    answer = {}
    for rotation in rotations:
        ids = organization_wide | by_attending.get(rotation.attending.membership_id, set())
        profile = getattr(rotation.student, "profile", None)
        answer[rotation.pk] = [
            types[pk]
            for pk in sorted(ids, key=lambda pk: (types[pk].position, types[pk].name))
            if types[pk].code != USMLE_SCORE_REPORT or reports_a_step(profile)
        ]
    return answer
