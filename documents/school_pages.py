"""The school's upload page (DESIGN §7, §10): no account, the signed link emailed to the
school contact when the rotation was requested (documents.school_link).

GET shows the student, the rotation's dates and each school-issued type the rotation
needs, with "received" or an upload form. POST uploads one type through
``school_link.upload_through_link``, once per type. A tampered, expired or reused link
gets the clear link page (``signed_links.link_error_page``), never a 500, and nothing
changes.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render

from documents import school_link
from documents.forms import UploadForm
from usdoctors import signed_links
from usdoctors.errors import DomainError


def _form(document_type, data=None, files=None) -> UploadForm:
    return UploadForm(
        data, files, document_type=document_type, with_expiry=document_type.needs_expiry
    )


def school_documents_link(request, token: str):
    try:
        link, rotation = school_link.read_link(token, request.organization)
    except signed_links.LinkError as error:
        return signed_links.link_error_page(request, error)
    types = school_link.school_types(rotation)
    bound = None
    status = 200
    if request.method == "POST":
        code = request.POST.get("document_type", "")
        document_type = next((t for t in types if t.code == code), None)
        if document_type is None:
            return signed_links.link_error_page(
                request,
                signed_links.LinkError(
                    signed_links.INVALID,
                    "Choose one of the documents this page asks for. Nothing was changed.",
                ),
            )
        bound = _form(document_type, request.POST, request.FILES)
        status = 400
        if bound.is_valid():
            try:
                school_link.upload_through_link(
                    token,
                    request.organization,
                    document_type.code,
                    bound.cleaned_data["file"],
                    issued_on=bound.cleaned_data["issued_on"],
                    expires_on=bound.cleaned_data.get("expires_on"),
                )
            except signed_links.LinkError as error:
                if error.reason == signed_links.USED:
                    error = signed_links.LinkError(
                        signed_links.USED,
                        f"The {document_type.name} was already uploaded through this link, "
                        "which takes each document once. Nothing was changed. If it needs "
                        "correcting, write to the organization.",
                    )
                return signed_links.link_error_page(request, error)
            except DomainError as error:
                bound.add_domain_error(error)
                status = error.status_code
            else:
                messages.success(
                    request,
                    f"Thank you: we received the {document_type.name} for "
                    f"{rotation.student.display_name}.",
                )
                return redirect("school_documents_link", token=token)
    received = school_link.received(link, rotation, types)
    rows = [
        {
            "document_type": document_type,
            "received": received[document_type.pk],
            "form": (
                None
                if received[document_type.pk]
                else bound
                if bound is not None and bound.document_type.pk == document_type.pk
                else _form(document_type)
            ),
        }
        for document_type in types
    ]
    profile = getattr(rotation.student, "profile", None)
    return render(
        request,
        "documents/school_upload.html",
        {
            "rotation": rotation,
            "student_name": rotation.student.display_name,
            "medical_school": getattr(profile, "medical_school", ""),
            "rows": rows,
            "all_received": all(row["received"] for row in rows),
            "expires": link.expires,
        },
        status=status,
    )
