"""Pages for requirements (DESIGN §13): the attending's, one form per rotation type
they offer, and the admins' organization defaults with the B-1/B-2 rule. Thin: the
rules are in ``rotations.requirements``."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from rotations import requirements
from rotations.choices import RotationType
from rotations.requirement_forms import RelaxationForm, RequirementForm
from rotations.requirements import FIELDS, RequirementInvalid
from usdoctors.errors import DomainError
from usdoctors.views import member_required


def _type_label(rotation_type: str) -> str:
    return RotationType(rotation_type).label.split(" (")[0]


def _form_for(applied, rotation_type: str, data=None) -> RequirementForm:
    initial = {name: getattr(applied.requirement, name) for name in FIELDS}
    return RequirementForm(data, initial=initial, prefix=rotation_type)


def _sections(organization, attending, bound=None) -> list[dict]:
    """One section per rotation type: its form (``bound`` for the one just posted)
    and where what applies comes from."""
    types = requirements.types_for_settings(attending) if attending else list(RotationType.values)
    rows = requirements.rows_for(organization, [attending.pk] if attending else [])
    sections = []
    for rotation_type in types:
        applied = requirements.choose(
            rows, organization, attending.pk if attending else None, rotation_type
        )
        form = bound if bound is not None and bound.prefix == rotation_type else None
        sections.append(
            {
                "rotation_type": rotation_type,
                "label": _type_label(rotation_type),
                "source": applied.source,
                "form": form or _form_for(applied, rotation_type),
            }
        )
    return sections


def _attending_of(request):
    attending = getattr(request.membership, "attending_profile", None)
    if attending is None:
        messages.info(request, "Save your attending profile first: it says which types you offer.")
    return attending


@member_required("attending")
def attending_requirements(request):
    """What students need for each rotation type the attending offers."""
    attending = _attending_of(request)
    if attending is None:
        return redirect("attending_profile")
    return render(
        request,
        "rotations/requirements.html",
        {"sections": _sections(request.organization, attending), "attending": attending},
    )


def _save(request, form, save, *, page, context):
    """Validate, save through the service, or show the page again with every error (400)."""
    if form.is_valid():
        try:
            save(form.values())
        except RequirementInvalid as error:
            for field, errors in error.errors.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            return None
    return render(request, page, {**context(form)}, status=400)


@require_POST
@member_required("attending")
def save_attending_requirement(request, rotation_type: str):
    attending = _attending_of(request)
    if attending is None:
        return redirect("attending_profile")
    if rotation_type not in requirements.types_for_settings(attending):
        raise Http404("You do not offer this rotation type.")
    form = RequirementForm(request.POST, prefix=rotation_type)
    refused = _save(
        request,
        form,
        lambda values: requirements.set_attending_requirements(
            attending, rotation_type, values, by=request.membership
        ),
        page="rotations/requirements.html",
        context=lambda bound: {
            "sections": _sections(request.organization, attending, bound),
            "attending": attending,
        },
    )
    if refused is not None:
        return refused
    messages.success(request, f"Saved what students need for a {_type_label(rotation_type)}.")
    return redirect("attending_requirements")


@require_POST
@member_required("attending")
def reset_attending_requirement(request, rotation_type: str):
    attending = _attending_of(request)
    if attending is None:
        return redirect("attending_profile")
    if rotation_type not in requirements.types_for_settings(attending):
        raise Http404("You do not offer this rotation type.")
    requirements.reset_to_default(attending, rotation_type, by=request.membership)
    messages.success(
        request,
        f"Your {_type_label(rotation_type).lower()} follows the organization's defaults again.",
    )
    return redirect("attending_requirements")


def _defaults_context(request, bound=None, relaxation=None) -> dict:
    return {
        "sections": _sections(request.organization, None, bound),
        "relaxation_form": relaxation
        or RelaxationForm(
            initial={"b1_b2_relaxation_reason": request.organization.b1_b2_relaxation_reason}
        ),
    }


@member_required("admin")
def organization_requirements(request):
    """The organization's defaults for each rotation type, and the B-1/B-2 rule."""
    return render(request, "rotations/requirement_defaults.html", _defaults_context(request))


@require_POST
@member_required("admin")
def save_organization_requirement(request, rotation_type: str):
    if rotation_type not in RotationType.values:
        raise Http404("No such rotation type.")
    form = RequirementForm(request.POST, prefix=rotation_type)
    refused = _save(
        request,
        form,
        lambda values: requirements.set_organization_default(
            request.organization, rotation_type, values, by=request.membership
        ),
        page="rotations/requirement_defaults.html",
        context=lambda bound: _defaults_context(request, bound),
    )
    if refused is not None:
        return refused
    messages.success(
        request,
        f"Saved the default for a {_type_label(rotation_type).lower()}: attendings without "
        "their own requirements follow it.",
    )
    return redirect("organization_requirements")


@require_POST
@member_required("admin")
def save_relaxation(request):
    form = RelaxationForm(request.POST)
    if form.is_valid():
        try:
            requirements.set_b1_b2_relaxation(
                request.organization,
                form.cleaned_data["b1_b2_relaxation_reason"],
                by=request.membership,
            )
        except DomainError as error:
            form.add_error("b1_b2_relaxation_reason", error.message)
        else:
            messages.success(
                request,
                "Saved: graduates on B-1/B-2 may now book hands-on rotations."
                if request.organization.b1_b2_relaxation_reason
                else "Saved: graduates on B-1/B-2 may book observerships only.",
            )
            return redirect("organization_requirements")
    return render(
        request,
        "rotations/requirement_defaults.html",
        _defaults_context(request, relaxation=form),
        status=400,
    )
