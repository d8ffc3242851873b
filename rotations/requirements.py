"""What a student needs for a rotation type, and who sets it (DESIGN §13).

Which requirements apply to an attending's rotation type (``requirements_for``):

1. the attending's own row for that type, when they saved one;
2. else the organization's default for that type (a row without attending), which
   admins keep;
3. else the built-in fallback: anyone may come (any year, any graduation year), nothing
   is required, no application fee, no housing (``BUILT_IN``, never stored).

An attending's settings start from what applies today, so saving the form the first time
copies the organization's default into the attending's own row; from then on a change to
the default no longer reaches that attending, until they reset to it (``reset_to_default``).

Only the attending edits their own rows, only the organization's admins edit the defaults
(403 otherwise). Bad input is refused with every field's error (400) and nothing is saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models, transaction

from accounts.models import Membership
from rotations.choices import CurrentStudents, Graduates, RotationType
from rotations.models import AttendingProfile, Requirement
from usdoctors.errors import Invalid, NotAllowed

# The fields a requirement carries, in the order forms and the API present them.
FIELDS = (
    "current_students",
    "graduates",
    "graduated_within_years",
    "step1_required",
    "step2ck_required",
    "step2ck_minimum_score",
    "toefl_minimum",
    "certificates",
    "visa_statuses",
    "application_fee",
    "housing_included",
)


class RequirementSource(models.TextChoices):
    """Where the requirement that applies comes from."""

    ATTENDING = "attending", "The attending's own"
    ORGANIZATION = "organization", "The organization's default"
    BUILT_IN = "built_in", "Built in: nothing asked"


Source = RequirementSource


BUILT_IN_VALUES = {
    "current_students": CurrentStudents.ANY,
    "graduates": Graduates.ANY,
    "graduated_within_years": None,
    "step1_required": False,
    "step2ck_required": False,
    "step2ck_minimum_score": None,
    "toefl_minimum": None,
    "certificates": [],
    "visa_statuses": [],
    "application_fee": Decimal("0.00"),
    "housing_included": False,
}


@dataclass
class Applied:
    """The requirement that applies and where it comes from (a ``Source``)."""

    requirement: Requirement
    source: str


def built_in(organization, rotation_type: str) -> Requirement:
    """The fallback when neither the attending nor the organization set anything: an
    unsaved row that asks nothing. One per organization object and type: a page of
    search results asks for it once per result and type, and only reads it."""
    cache = organization.__dict__.setdefault("_built_in_requirements", {})
    if rotation_type not in cache:
        cache[rotation_type] = new_built_in(organization, rotation_type)
    return cache[rotation_type]


def new_built_in(organization, rotation_type: str) -> Requirement:
    """A fresh unsaved built-in row, for a caller that fills it in and saves it."""
    return Requirement(
        organization=organization, attending=None, rotation_type=rotation_type, **BUILT_IN_VALUES
    )


def choose(
    rows: dict[tuple[int | None, str], Requirement],
    organization,
    attending_id: int | None,
    rotation_type: str,
) -> Applied:
    """The rule of the module docstring over rows already read, keyed by
    ``(attending id or None, rotation type)``."""
    if attending_id is not None and (attending_id, rotation_type) in rows:
        return Applied(rows[attending_id, rotation_type], Source.ATTENDING)
    if (None, rotation_type) in rows:
        return Applied(rows[None, rotation_type], Source.ORGANIZATION)
    return Applied(built_in(organization, rotation_type), Source.BUILT_IN)


def rows_for(organization, attending_ids) -> dict[tuple[int | None, str], Requirement]:
    """The organization's (an instance or its id) defaults and the given attendings'
    rows, in one query."""
    from django.db.models import Q

    rows = Requirement.objects.filter(organization=organization).filter(
        Q(attending__isnull=True) | Q(attending_id__in=list(attending_ids))
    )
    return {(row.attending_id, row.rotation_type): row for row in rows}


def requirements_for(attending: AttendingProfile | None, rotation_type: str, *, organization=None):
    """The requirement that applies to ``attending``'s ``rotation_type`` (module
    docstring): their own row, else the organization's default, else the built-in
    fallback. With ``attending`` None, the organization's default or the fallback."""
    organization = organization or attending.organization
    return applied_for(attending, rotation_type, organization=organization).requirement


def applied_for(attending, rotation_type: str, *, organization=None) -> Applied:
    """``requirements_for`` with where it came from."""
    organization = organization or attending.organization
    ids = [attending.pk] if attending is not None else []
    return choose(
        rows_for(organization, ids),
        organization,
        attending.pk if attending else None,
        rotation_type,
    )


def types_for_settings(attending: AttendingProfile) -> list[str]:
    """The rotation types an attending sets requirements for: the ones they offer."""
    return [value for value in RotationType.values if value in attending.rotation_types]


def _require_type(rotation_type: str) -> None:
    if rotation_type not in RotationType.values:
        raise Invalid("Choose a rotation type.", code="type_invalid", field="rotation_type")


def _save(requirement: Requirement, values: dict) -> Requirement:
    for name in FIELDS:
        if name in values:
            setattr(requirement, name, values[name])
    try:
        requirement.full_clean(exclude=["organization", "attending"])
    except ValidationError as error:
        raise RequirementInvalid(error.message_dict) from error
    requirement.save()
    return requirement


class RequirementInvalid(Invalid):
    """Bad requirement values: 400 with every field's messages (``errors``)."""

    def __init__(self, errors: dict[str, list[str]]):
        first_field, messages = next(iter(errors.items()))
        message = messages[0] if first_field == "__all__" else f"{first_field}: {messages[0]}"
        super().__init__(message, code="invalid")
        self.errors = errors
        self.details = {"errors": errors}


@transaction.atomic
def set_attending_requirements(
    attending: AttendingProfile, rotation_type: str, values: dict, *, by: Membership
) -> Requirement:
    """The attending saves what students need for ``rotation_type``: their own row,
    created from what applied before (module docstring) and changed by ``values``. Only
    the attending themselves (403); only a type they offer (400); bad values 400 with
    every field's error, nothing saved."""
    if by.pk != attending.membership_id:
        raise NotAllowed(
            "Attendings set requirements for their own rotations only.", code="not_your_profile"
        )
    _require_type(rotation_type)
    if rotation_type not in attending.rotation_types:
        raise Invalid(
            "You do not offer this rotation type; add it to your profile first.",
            code="type_not_offered",
            field="rotation_type",
        )
    current = (
        Requirement.objects.select_for_update()
        .filter(organization=attending.organization, attending=attending)
        .filter(rotation_type=rotation_type)
        .first()
    )
    if current is None:
        start = requirements_for(attending, rotation_type)
        current = Requirement(
            organization=attending.organization,
            attending=attending,
            rotation_type=rotation_type,
            **{name: getattr(start, name) for name in FIELDS},
        )
    return _save(current, values)


@transaction.atomic
def reset_to_default(attending: AttendingProfile, rotation_type: str, *, by: Membership) -> None:
    """The attending drops their own row: the organization's default applies again."""
    if by.pk != attending.membership_id:
        raise NotAllowed(
            "Attendings set requirements for their own rotations only.", code="not_your_profile"
        )
    _require_type(rotation_type)
    Requirement.objects.filter(
        organization=attending.organization, attending=attending, rotation_type=rotation_type
    ).delete()


@transaction.atomic
def set_organization_default(
    organization, rotation_type: str, values: dict, *, by: Membership
) -> Requirement:
    """An admin saves the organization's default for ``rotation_type``, which every
    attending without their own row follows. Admins only (403); bad values 400."""
    if not by.is_admin or by.organization_id != organization.pk:
        raise NotAllowed(
            "Only this organization's admins set the default requirements.", code="not_admin"
        )
    _require_type(rotation_type)
    current = (
        Requirement.objects.select_for_update()
        .filter(organization=organization, attending__isnull=True, rotation_type=rotation_type)
        .first()
    ) or new_built_in(organization, rotation_type)
    return _save(current, values)


@transaction.atomic
def set_b1_b2_relaxation(organization, reason: str, *, by: Membership):
    """An admin writes why the organization lets graduates on B-1/B-2 book hands-on
    rotations (§13); an empty reason puts the built-in rule back. Admins only (403)."""
    if not by.is_admin or by.organization_id != organization.pk:
        raise NotAllowed("Only this organization's admins change this rule.", code="not_admin")
    field = type(organization)._meta.get_field("b1_b2_relaxation_reason")
    try:
        reason = field.clean((reason or "").strip(), organization)
    except ValidationError as error:
        raise Invalid(error.messages[0], field="b1_b2_relaxation_reason") from error
    organization.b1_b2_relaxation_reason = reason
    organization.save(update_fields=["b1_b2_relaxation_reason"])
    return organization


@dataclass(frozen=True)
class Terms:
    """What the listing and the quote show from the requirement that applies (§13): the
    non-refundable application fee (§6) and whether housing is included."""

    rotation_type: str | None
    application_fee: Decimal
    housing_included: bool


def terms_for(attending: AttendingProfile, rotation_type: str | None) -> Terms:
    """The application fee and housing of ``attending``'s ``rotation_type``, from the
    requirement that applies (``requirements_for``), in one query.

    ``rotation_type`` must be one the attending offers (400 ``type_invalid`` /
    ``type_not_offered`` naming ``rotation_type``). Left out (``None``), it is answered
    only when it makes no difference: every type the attending offers carries the same
    fee and housing; otherwise 400 ``type_required`` — a quote never guesses a fee.
    """
    rows = rows_for(attending.organization, [attending.pk])
    if rotation_type is not None:
        _require_type(rotation_type)
        if rotation_type not in attending.rotation_types:
            raise Invalid(
                f"{attending.display_name} does not offer this rotation type.",
                code="type_not_offered",
                field="rotation_type",
            )
        types = [rotation_type]
    else:
        types = types_for_settings(attending)
    terms = {
        (applied.requirement.application_fee, applied.requirement.housing_included)
        for applied in (
            choose(rows, attending.organization, attending.pk, value) for value in types
        )
    }
    if len(terms) > 1:
        raise Invalid(
            "Choose a rotation type: the application fee or housing differs between them.",
            code="type_required",
            field="rotation_type",
        )
    fee, housing = terms.pop() if terms else (Decimal("0.00"), False)
    return Terms(rotation_type, fee, housing)


def housing_by_type(rows, attending_id: int, rotation_types) -> list[str]:
    """The types among ``rotation_types`` whose requirement that applies (the attending's
    row, else the organization's default, else the built-in: no housing) includes
    housing, over rows already read (``rows_for``): what a listing shows (§13)."""
    included = []
    for value in rotation_types:
        row = rows.get((attending_id, value)) or rows.get((None, value))
        if row is not None and row.housing_included:
            included.append(value)
    return included


def housing_note(housing_types, for_all: bool) -> str:
    """What a listing says about housing (§13): "" when no type shown includes it,
    "Housing included" when every type shown does, else "Housing included for
    clerkship and observership rotations"."""
    if not housing_types:
        return ""
    if for_all:
        return "Housing included"
    names = [RotationType(value).label.split(" (")[0].lower() for value in housing_types]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"Housing included for {listed} rotations"


def listing_terms(attending: AttendingProfile) -> list[dict]:
    """For the attending's page: per type they offer, the requirement's application fee
    (non-refundable, §6) and whether housing is included (§13), in one query."""
    rows = rows_for(attending.organization_id, [attending.pk])
    terms = []
    for value in types_for_settings(attending):
        row = rows.get((attending.pk, value)) or rows.get((None, value))
        terms.append(
            {
                "rotation_type": value,
                "label": RotationType(value).label.split(" (")[0],
                "application_fee": row.application_fee if row else Decimal("0.00"),
                "housing_included": bool(row and row.housing_included),
            }
        )
    return terms
