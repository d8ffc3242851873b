"""Browser pages of documents (DESIGN §7). Thin: parse → call one service → render
(STYLE §2); a service's ``Invalid`` is shown next to the field it names.

- Students: ``/documents/`` lists each type they need (the organization's set and what
  their upcoming rotations' checklists ask) with the current document, an upload or
  replace form per type, and each upcoming rotation's checklist summary.
- Everyone the §3 rule allows: ``/documents/<id>/file/``, the file's bytes (404 else).
- Admins: the review queue (submitted, oldest first) with approve and reject, and the
  organization's required set.
- Attendings: the types they add for rotations with them.
- The rotation page's checklist section and the dashboards' lines.

Pages cost a fixed number of queries, however many documents or rotations they show.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from documents import access, credential_pages, requirements, review
from documents.checklist import ChecklistItem, checklist, checklists, is_complete
from documents.forms import RejectForm, TypeChoiceForm, UploadForm
from documents.models import Document, DocumentStatus, DocumentType
from documents.uploads import delete_document, upload_document
from rotations.choices import RotationStatus
from rotations.models import Rotation
from rotations.services import type_title
from usdoctors.errors import DomainError
from usdoctors.views import member_required

PAGE_SIZE = 50
# Rotations whose checklist still matters: not started, not over.
UPCOMING = (RotationStatus.REQUESTED, RotationStatus.APPROVED, RotationStatus.ON_HOLD)


def long_day(day) -> str:
    return f"{day:%B} {day.day}, {day.year}"


# --- Students ---------------------------------------------------------------------------


@dataclass
class RotationChecklist:
    rotation: Rotation
    title: str
    items: list[ChecklistItem]
    complete: bool = False
    to_do: list[ChecklistItem] = field(default_factory=list)


def upcoming_checklists(student) -> list[RotationChecklist]:
    """The student's upcoming rotations, soonest first, each with its checklist."""
    rotations = list(
        Rotation.objects.filter(student=student, status__in=UPCOMING)
        .select_related("attending")
        .order_by("start", "pk")
    )
    if not rotations:
        return []
    lists = checklists(rotations)
    answer = []
    for rotation in rotations:
        items = lists[rotation.pk]
        answer.append(
            RotationChecklist(
                rotation=rotation,
                title=type_title(rotation),
                items=items,
                complete=is_complete(items),
                to_do=[item for item in items if not item.done],
            )
        )
    return answer


@dataclass
class TypeRow:
    document_type: DocumentType
    document: Document | None
    form: UploadForm | None  # None for the CV, which lives on the profile
    needed: bool


def type_rows(student, rotation_lists, *, bound: UploadForm | None = None) -> list[TypeRow]:
    """One row per type the student needs (the organization's set, filtered as a
    rotation's would be, plus every type an upcoming checklist asks) or already has."""
    types = requirements.catalog()
    documents = {d.document_type_id: d for d in Document.objects.filter(student=student)}
    asked = {item.document_type.pk for entry in rotation_lists for item in entry.items}
    organization_ids = requirements.organization_type_ids(student.organization_id)
    reports_a_step = requirements.reports_a_step(getattr(student, "profile", None))
    rows = []
    for document_type in types:
        # The organization's set as a rotation would ask it: the USMLE score report only
        # when the student reports a Step (documents.requirements).
        is_needed = document_type.pk in asked or (
            document_type.pk in organization_ids
            and (document_type.code != requirements.USMLE_SCORE_REPORT or reports_a_step)
        )
        document = documents.get(document_type.pk)
        if not is_needed and document is None:
            continue
        if document_type.kept_on_profile:
            form = None
        elif bound is not None and bound.document_type.pk == document_type.pk:
            form = bound
        else:
            form = UploadForm(document_type=document_type)
        rows.append(TypeRow(document_type, document, form, is_needed))
    return rows


def my_documents_page(request, *, bound: UploadForm | None = None, status: int = 200):
    student = request.membership
    rotation_lists = upcoming_checklists(student)
    return render(
        request,
        "documents/my_documents.html",
        {
            "rows": type_rows(student, rotation_lists, bound=bound),
            "rotation_lists": rotation_lists,
            "profile": getattr(student, "profile", None),
        },
        status=status,
    )


@member_required("student")
def my_documents(request):
    return my_documents_page(request)


@require_POST
@member_required("student")
def upload(request, type_code: str):
    """Upload or replace the student's document of one type (documents.uploads)."""
    document_type = get_object_or_404(DocumentType, code=type_code)
    if document_type.kept_on_profile:  # the CV: the profile page takes it
        messages.error(request, f"Your {document_type.name} is part of your profile; add it here.")
        return redirect("profile")
    form = UploadForm(request.POST, request.FILES, document_type=document_type)
    if form.is_valid():
        replacing = Document.objects.filter(
            student=request.membership, document_type=document_type
        ).exists()
        try:
            upload_document(
                request.membership,
                document_type,
                form.cleaned_data["file"],
                issued_on=form.cleaned_data["issued_on"],
                expires_on=form.cleaned_data.get("expires_on"),
            )
        except DomainError as error:
            form.add_domain_error(error)
            return my_documents_page(request, bound=form, status=error.status_code)
        verb = "replaced" if replacing else "uploaded"
        messages.success(
            request, f"Your {document_type.name} is {verb}. It waits for an admin's review."
        )
        return redirect(f"{reverse('my_documents')}#type-{document_type.code}")
    return my_documents_page(request, bound=form, status=400)


@require_POST
@member_required("student")
def delete(request, document_id: int):
    document = get_object_or_404(
        Document.objects.select_related("document_type"),
        pk=document_id,
        student=request.membership,
    )
    name = document.document_type.name
    try:
        delete_document(document, by=request.membership)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Your {name} is deleted.")
    return redirect("my_documents")


# --- The file ---------------------------------------------------------------------------


@member_required()
def document_file(request, document_id: int):
    """The file's bytes for whoever §3 allows (documents.access); 404 for anyone else,
    so a document's existence is never revealed. Always a download under our name."""
    return access.file_response(request.membership, document_id)


# --- Admins: review ---------------------------------------------------------------------


def review_page(
    request,
    *,
    bound: RejectForm | None = None,
    bound_id=None,
    credential_form: RejectForm | None = None,
    credential_id=None,
    status=200,
):
    page = Paginator(review.review_queue(request.organization), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = []
    for document in page.object_list:
        form = bound if document.pk == bound_id else RejectForm(document_id=document.pk)
        rows.append((document, form))
    return render(
        request,
        "documents/review_queue.html",
        {
            "page": page,
            "rows": rows,
            "now": timezone.now(),
            # Attendings' licences and board certifications (§15), reviewed here too.
            "credential_rows": credential_pages.review_rows(
                request, bound=credential_form, bound_id=credential_id
            ),
        },
        status=status,
    )


@member_required("admin")
def review_queue(request):
    return review_page(request)


def _document_for_review(request, document_id: int) -> Document:
    return get_object_or_404(
        Document.objects.select_related("document_type", "student__user", "student__profile"),
        pk=document_id,
    )


@require_POST
@member_required("admin")
def approve(request, document_id: int):
    document = _document_for_review(request, document_id)
    try:
        review.approve_document(document, by=request.membership)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"Approved {document.student.display_name}'s {document.document_type.name}.",
        )
    return redirect("document_review")


@require_POST
@member_required("admin")
def reject(request, document_id: int):
    document = _document_for_review(request, document_id)
    form = RejectForm(request.POST, document_id=document.pk)
    if form.is_valid():
        try:
            review.reject_document(
                document, by=request.membership, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            if error.field == "reason":
                form.add_error("reason", error.message)
                return review_page(request, bound=form, bound_id=document.pk, status=400)
            messages.error(request, error.message)
            return redirect("document_review")
        messages.success(
            request,
            f"Rejected {document.student.display_name}'s {document.document_type.name}; "
            "we emailed them the reason.",
        )
        return redirect("document_review")
    return review_page(request, bound=form, bound_id=document.pk, status=400)


# --- Required sets ----------------------------------------------------------------------


def _chosen_ids(request) -> tuple[TypeChoiceForm, list[int] | None]:
    form = TypeChoiceForm(request.POST, queryset=DocumentType.objects.all())
    if not form.is_valid():
        return form, None
    return form, [document_type.pk for document_type in form.cleaned_data["document_types"]]


@member_required("admin")
def organization_settings(request):
    """The organization's required set: every rotation's checklist asks for these."""
    form = None
    if request.method == "POST":
        form, ids = _chosen_ids(request)
        if ids is not None:
            requirements.set_organization_types(request.organization, ids)
            messages.success(request, "Saved: every rotation's checklist asks for these types.")
            return redirect("document_settings")
    chosen = requirements.organization_type_ids(request.organization)
    return render(
        request,
        "documents/settings.html",
        {"types": requirements.catalog(), "chosen": chosen, "form": form},
        status=400 if form is not None else 200,
    )


@member_required("attending")
def attending_requirements(request):
    """The types an attending adds for rotations with them; the organization's are
    shown as already required."""
    form = None
    if request.method == "POST":
        form, ids = _chosen_ids(request)
        if ids is not None:
            requirements.set_attending_types(request.membership, ids)
            messages.success(request, "Saved: rotations with you also ask for these types.")
            return redirect("attending_document_requirements")
    return render(
        request,
        "documents/my_requirements.html",
        {
            "types": requirements.catalog(),
            "organization_ids": requirements.organization_type_ids(request.organization),
            "chosen": requirements.attending_type_ids(request.membership),
            "form": form,
        },
        status=400 if form is not None else 200,
    )


# --- The rotation page and the dashboards -----------------------------------------------


def rotation_checklist_panel(request, rotation):
    """The rotation page's document checklist, for the student, the admins and the
    rotation's attending. File links only for whoever may read the files (§3: the
    requested attending sees states, not files, until the rotation is booked)."""
    membership = request.membership
    if not (
        membership.is_admin
        or membership.pk == rotation.student_id
        or rotation.attending.membership_id == membership.pk
    ):
        return None
    items = checklist(rotation)
    if not items:
        return None
    first = next((item.document for item in items if item.document is not None), None)
    return (
        "documents/_rotation_checklist.html",
        {
            "rotation": rotation,
            "items": items,
            "complete": is_complete(items),
            "is_student": membership.pk == rotation.student_id,
            "is_admin": membership.is_admin,
            # One rule for every document of this student (access.can_read): ask once.
            "can_read_files": first is not None and access.can_read(membership, first),
            "profile": getattr(rotation.student, "profile", None),
        },
    )


def dashboard_documents(membership) -> dict:
    """What the dashboards show about documents: the student's missing items per
    upcoming rotation, soonest first; the admins' count waiting for review."""
    if membership.is_student:
        return {
            "document_checklists": [
                entry for entry in upcoming_checklists(membership) if not entry.complete
            ]
        }
    if membership.is_admin:
        return {
            "documents_waiting": Document.objects.filter(
                organization_id=membership.organization_id, status=DocumentStatus.SUBMITTED
            ).count()
        }
    return {}
