"""Browser pages for a refused visa (DESIGN §15, documents.visa_refusals): the rotation
page's section (upload for the student; confirm or reject for admins), the file, and the
admins' list of refusals waiting. Refusals answer on the rotation page with their 4xx."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from documents import visa_refusals
from documents.models import VisaRefusal, VisaRefusalStatus
from rotations.cancellations import BEFORE_START
from rotations.views import rotation_page, visible_rotation
from usdoctors.errors import DomainError, NotAllowed
from usdoctors.text import SHORT_TEXT_MAX
from usdoctors.uploads import private_download
from usdoctors.views import member_required


class VisaRefusalRejectForm(forms.Form):
    reason = forms.CharField(
        max_length=SHORT_TEXT_MAX,
        label="Why it is not accepted",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def visa_refusal_panel(request, rotation):
    """The rotation page's "Visa refused?" section: for its student while it is approved
    or on hold, or once they uploaded; for admins whenever there is one."""
    membership = request.membership
    is_student = rotation.student_id == membership.pk
    if not (is_student or membership.is_admin):
        return None
    refusals = list(rotation.visa_refusals.select_related("decided_by__user"))
    can_upload = (
        is_student
        and rotation.status in BEFORE_START
        and not any(r.status == VisaRefusalStatus.SUBMITTED for r in refusals)
    )
    if not (refusals or can_upload):
        return None
    return (
        "documents/_visa_refusal_panel.html",
        {
            "rotation": rotation,
            "refusals": refusals,
            "can_upload": can_upload,
            "is_admin": membership.is_admin,
            "reject_form": VisaRefusalRejectForm(),
        },
    )


def _refused(request, rotation, error: DomainError):
    if isinstance(error, NotAllowed):
        raise Http404("No such rotation.")
    return rotation_page(request, rotation, error=error.message, status=error.status_code)


@require_POST
@member_required("student")
def upload(request, rotation_id: int):
    rotation = visible_rotation(request, rotation_id)
    try:
        visa_refusals.upload_visa_refusal(
            rotation, request.FILES.get("file"), by=request.membership
        )
    except DomainError as error:
        return _refused(request, rotation, error)
    messages.success(
        request, "We received your visa refusal. An admin checks it, then we refund you."
    )
    return redirect("rotation_detail", rotation_id=rotation.pk)


def _refusal(request, refusal_id: int) -> VisaRefusal:
    return get_object_or_404(VisaRefusal.objects.select_related("rotation"), pk=refusal_id)


@require_POST
@member_required("admin")
def confirm(request, refusal_id: int):
    refusal = _refusal(request, refusal_id)
    try:
        visa_refusals.confirm_visa_refusal(refusal, by=request.membership)
    except DomainError as error:
        return _refused(request, refusal.rotation, error)
    messages.success(
        request, "Confirmed: the rotation is cancelled and everything paid is being refunded."
    )
    return redirect("rotation_detail", rotation_id=refusal.rotation_id)


@require_POST
@member_required("admin")
def reject(request, refusal_id: int):
    refusal = _refusal(request, refusal_id)
    form = VisaRefusalRejectForm(request.POST)
    if not form.is_valid():
        return rotation_page(
            request, refusal.rotation, error="Say why it is not accepted.", status=400
        )
    try:
        visa_refusals.reject_visa_refusal(
            refusal, by=request.membership, reason=form.cleaned_data["reason"]
        )
    except DomainError as error:
        return _refused(request, refusal.rotation, error)
    messages.success(request, "Not accepted; the student sees your reason.")
    return redirect("rotation_detail", rotation_id=refusal.rotation_id)


@member_required()
def refusal_file(request, refusal_id: int):
    """The file for its student and the organization's admins; 404 for anyone else."""
    refusal = _refusal(request, refusal_id)
    membership = request.membership
    if not (membership.is_admin or refusal.student_id == membership.pk):
        raise Http404("No such file.")
    extension = refusal.file.name.rsplit(".", 1)[-1]
    return private_download(
        refusal.file,
        filename=f"visa-refusal-{refusal.rotation_id}.{extension}",
        content_type=refusal.content_type,
        missing="No such file.",
    )


@member_required("admin")
def waiting_list(request):
    """Visa refusals waiting for an admin, oldest first."""
    refusals = (
        VisaRefusal.objects.filter(status=VisaRefusalStatus.SUBMITTED)
        .select_related("rotation__attending", "student__user", "student__profile")
        .order_by("uploaded_at", "pk")[:200]
    )
    return render(request, "documents/visa_refusals.html", {"refusals": refusals})
