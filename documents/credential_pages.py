"""Browser pages of attendings' licence and board certification (DESIGN §15), thin over
documents.credentials: the attending's page to upload them, the file for whoever may
read it, and the admins' approve and reject (their queue is the documents review page,
documents.pages.review_page)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from documents import credentials
from documents.forms import DATE, RejectForm
from documents.models import AttendingCredential, CredentialKind
from usdoctors.errors import DomainError
from usdoctors.views import member_required


class CredentialUploadForm(forms.Form):
    """One credential's upload or replacement. Emptiness, size, content and the date
    rules are the service's (documents.credentials), so their words are the same
    everywhere."""

    file = forms.FileField(
        required=False,
        allow_empty_file=True,
        label="File",
        help_text="PDF, PNG or JPEG, at most 10 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )
    issuer = forms.CharField(
        label="Issued by",
        required=False,
        max_length=credentials.ISSUER_MAX,
        help_text="The state medical board and licence number, or the certifying board.",
    )
    issued_on = forms.DateField(label="Issue date", widget=DATE)
    expires_on = forms.DateField(label="Expiry date", required=False, widget=DATE)

    def __init__(self, *args, kind: str, **kwargs):
        kwargs.setdefault("prefix", kind)
        super().__init__(*args, **kwargs)
        self.kind = kind
        needs_expiry = credentials.RULES[kind].needs_expiry
        self.submission_fields = (
            ("file", "issuer", "expires_on")
            if needs_expiry
            else (
                "file",
                "issuer",
            )
        )
        if needs_expiry:
            self.fields["expires_on"].help_text = "Required: licences are renewed."

    def add_domain_error(self, error: DomainError) -> None:
        self.add_error(error.field if error.field in self.fields else None, error.message)


def _profile_or_none(request):
    return getattr(request.membership, "attending_profile", None)


def credentials_page(request, *, bound: CredentialUploadForm | None = None, status=200):
    profile = _profile_or_none(request)
    current = credentials.credentials_of(profile) if profile else {}
    rows = []
    for kind, label in CredentialKind.choices:
        form = (
            bound if bound is not None and bound.kind == kind else CredentialUploadForm(kind=kind)
        )
        rows.append({"kind": kind, "label": label, "credential": current.get(kind), "form": form})
    return render(
        request,
        "documents/my_credentials.html",
        {"profile": profile, "rows": rows},
        status=status,
    )


@member_required("attending")
def my_credentials(request):
    return credentials_page(request)


@require_POST
@member_required("attending")
def upload(request, kind: str):
    if kind not in CredentialKind.values:
        raise Http404("No such credential kind.")
    profile = _profile_or_none(request)
    if profile is None:
        messages.error(request, "Complete your attending profile first.")
        return redirect("attending_profile")
    form = CredentialUploadForm(request.POST, request.FILES, kind=kind)
    if not form.is_valid():
        return credentials_page(request, bound=form, status=400)
    try:
        credential = credentials.upload_credential(
            profile,
            kind,
            form.cleaned_data["file"],
            by=request.membership,
            issuer=form.cleaned_data["issuer"],
            issued_on=form.cleaned_data["issued_on"],
            expires_on=form.cleaned_data.get("expires_on"),
        )
    except DomainError as error:
        form.add_domain_error(error)
        return credentials_page(request, bound=form, status=error.status_code)
    messages.success(
        request,
        f"Your {credential.get_kind_display().lower()} is uploaded. Students see it as "
        "verified once an admin approves it.",
    )
    return redirect(f"{reverse('attending_credentials')}#credential-{kind}")


@member_required()
def credential_file(request, credential_id: int):
    """The file for its attending and the admins; 404 for anyone else."""
    return credentials.file_response(request.membership, credential_id)


# --- Admins: review (listed on the documents review page) -------------------------------


def reject_form(credential_id: int, data=None) -> RejectForm:
    form = RejectForm(data, document_id=f"credential-{credential_id}")
    form.fields["reason"].help_text = "The attending sees this."
    return form


def review_rows(request, *, bound: RejectForm | None = None, bound_id=None) -> list:
    """The credentials waiting for review, each with its reject form."""
    return [
        (credential, bound if credential.pk == bound_id else reject_form(credential.pk))
        for credential in credentials.review_queue(request.organization)
    ]


@require_POST
@member_required("admin")
def approve(request, credential_id: int):
    credential = get_object_or_404(
        AttendingCredential.objects.select_related("attending"), pk=credential_id
    )
    try:
        credentials.approve_credential(credential, by=request.membership)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"Approved {credential.attending.display_name}'s "
            f"{credential.get_kind_display().lower()}; students see it verified.",
        )
    return redirect("document_review")


@require_POST
@member_required("admin")
def reject(request, credential_id: int):
    from documents.pages import review_page

    credential = get_object_or_404(
        AttendingCredential.objects.select_related("attending"), pk=credential_id
    )
    form = reject_form(credential.pk, request.POST)
    if form.is_valid():
        try:
            credentials.reject_credential(
                credential, by=request.membership, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            if error.field == "reason":
                form.add_error("reason", error.message)
                return review_page(
                    request, credential_form=form, credential_id=credential.pk, status=400
                )
            messages.error(request, error.message)
            return redirect("document_review")
        messages.success(
            request,
            f"Rejected {credential.attending.display_name}'s "
            f"{credential.get_kind_display().lower()}; we emailed them the reason.",
        )
        return redirect("document_review")
    return review_page(request, credential_form=form, credential_id=credential.pk, status=400)
