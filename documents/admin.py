"""The platform staff's console for documents (DESIGN §2, §7): the catalog of types, the
students' documents, and each organization's required set as a choice of catalog types
on the Organization page (usdoctors.admin_site's inline hook), never a raw JSON box.

Uploads, reviews and deletions that students and admins do go through their pages and
services; here a document's file name is read-only and the file itself is never linked
(files are served only by the views that apply the §3 rule)."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from documents.models import AttendingCredential, Document, DocumentType, RequiredDocumentType
from usdoctors.admin_site import ReadOnlyAdmin, add_organization_inline


@admin.register(DocumentType)
class DocumentTypeAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "code",
        "school_issued",
        "validity",
        "kept_on_profile",
        "required_by_default",
        "position",
    )
    list_editable = ("position",)
    list_filter = ("school_issued", "validity", "required_by_default")
    search_fields = ("name", "code")
    ordering = ("position", "name")


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = (
        "student",
        "document_type",
        "status",
        "issued_on",
        "expires_on",
        "uploaded_by",
        "uploaded_at",
        "organization",
    )
    list_filter = ("status", "document_type", "uploaded_by", "organization")
    search_fields = ("student__user__email", "student__profile__full_name")
    list_select_related = ("student__user", "document_type", "organization")
    date_hierarchy = "uploaded_at"
    readonly_fields = (
        "organization",
        "student",
        "document_type",
        "stored_file_name",
        "content_type",
        "size",
        "uploaded_by",
        "uploaded_at",
        "reviewed_by",
        "reviewed_at",
    )
    fields = (
        "organization",
        "student",
        "document_type",
        "stored_file_name",
        "content_type",
        "size",
        "issued_on",
        "expires_on",
        "status",
        "rejection_reason",
        "uploaded_by",
        "uploaded_at",
        "reviewed_by",
        "reviewed_at",
    )

    @admin.display(description="Stored file")
    def stored_file_name(self, document) -> str:
        return document.file.name

    def has_add_permission(self, request):
        return False  # documents are uploaded by students or their school, checked by content


class RequiredTypesFormSet(forms.BaseInlineFormSet):
    @classmethod
    def get_default_prefix(cls):
        return "required_types"  # the tenant foreign key has no reverse name to derive one

    def clean(self):
        super().clean()
        seen = set()
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or form.cleaned_data.get("DELETE"):
                continue
            document_type = form.cleaned_data.get("document_type")
            if document_type is None:
                continue
            if document_type.pk in seen:
                raise ValidationError(f"{document_type} is chosen twice.")
            seen.add(document_type.pk)


class RequiredDocumentTypeInline(admin.TabularInline):
    """The organization's required set: one row per catalog type every rotation's
    checklist asks for (rows of attendings' own additions are not shown)."""

    model = RequiredDocumentType
    formset = RequiredTypesFormSet
    fields = ("document_type",)
    extra = 0
    verbose_name = "required document type"
    verbose_name_plural = "Required document types (every rotation's checklist asks for these)"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(attending__isnull=True)

    def has_add_permission(self, request, obj):
        # A new organization starts with the catalog's defaults (documents.requirements,
        # on its first save); rows typed on the add page would collide with them.
        return obj is not None and super().has_add_permission(request, obj)


add_organization_inline(RequiredDocumentTypeInline)


@admin.register(AttendingCredential)
class AttendingCredentialAdmin(ReadOnlyAdmin):
    """Attendings' licences and board certifications (read-only: admins review them in
    the documents review queue, which keeps the verified dates on the profile)."""

    list_display = ("attending", "kind", "status", "issued_on", "expires_on", "uploaded_at")
    list_filter = ("kind", "status", "organization")
    search_fields = ("attending__display_name", "issuer")
    list_select_related = ("attending", "organization")
    exclude = ("file",)
