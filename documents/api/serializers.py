"""Serializers for the documents API (DESIGN §7, §12).

Input serializers only parse. The rules — which types students upload, the file's
content, size and emptiness, the dates, who reviews — live in documents.uploads,
documents.review and documents.requirements, which answer ``{"detail", "code"}`` errors
naming the field, the same words the browser pages show.
"""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from documents.checklist import ItemState
from documents.models import Document, DocumentStatus, DocumentType, UploadedBy, Validity
from rotations.api.serializers import NamedChoiceField, RequiredTextField
from usdoctors.text import SHORT_TEXT_MAX, validate_no_bidi_controls

MAX_ID = 2**31 - 1  # ids are PostgreSQL integers: larger numbers are bad input, not a 500


class DocumentTypeSerializer(serializers.ModelSerializer):
    """One type of the §7 catalog with its rule, and whether this organization requires
    it for every rotation."""

    validity = NamedChoiceField(
        Validity,
        help_text=(
            "`issued_within_year`: issued no earlier than one year before the rotation's "
            "start; `valid_through_end`: its expiry date is on or after the rotation's "
            "last day (an expiry date is required on upload); `none`: no date rule. Any "
            "expiry date must also not fall before the rotation's end."
        ),
    )
    needs_expiry = serializers.BooleanField(
        read_only=True, help_text="Uploads of this type must give ``expires_on``."
    )
    required = serializers.SerializerMethodField(
        help_text="This organization requires it for every rotation (attendings may add more)."
    )

    class Meta:
        model = DocumentType
        fields = [
            "code",
            "name",
            "description",
            "school_issued",
            "validity",
            "needs_expiry",
            "kept_on_profile",
            "required",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "school_issued": {
                "help_text": "Issued by the medical school: the school's signed link uploads it."
            },
            "kept_on_profile": {
                "help_text": "Kept on the student's profile (the CV): not uploaded here."
            },
        }

    def get_required(self, document_type) -> bool:
        return document_type.pk in self.context["required_ids"]


class DocumentSerializer(serializers.ModelSerializer):
    """A student's current document of one type (§7)."""

    document_type = serializers.SlugRelatedField(slug_field="code", read_only=True)
    document_type_name = serializers.CharField(source="document_type.name", read_only=True)
    student_name = serializers.CharField(source="student.display_name", read_only=True)
    status = NamedChoiceField(DocumentStatus, read_only=True)
    uploaded_by = NamedChoiceField(UploadedBy, read_only=True)
    rejection_reason = serializers.CharField(
        read_only=True, help_text="Why the admins rejected it (empty unless ``rejected``)."
    )
    file_url = serializers.SerializerMethodField(
        help_text="Where the bytes are served, under the §3 privacy rule."
    )

    class Meta:
        model = Document
        fields = [
            "id",
            "student",
            "student_name",
            "document_type",
            "document_type_name",
            "issued_on",
            "expires_on",
            "status",
            "rejection_reason",
            "reviewed_at",
            "content_type",
            "size",
            "uploaded_by",
            "uploaded_at",
            "file_url",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "student": {"help_text": "The student's membership id."},
            "size": {"help_text": "In bytes."},
        }

    def get_file_url(self, document) -> str:
        return reverse("api_document_file", args=[document.pk])


class DocumentUploadSerializer(serializers.Serializer):
    """``multipart/form-data``. Refused with 400 naming the field, and nothing stored:
    an unknown type or the CV (kept on the profile); an empty file, one over 10 MB, or one
    whose content is not PDF, PNG or JPEG (read from the bytes, never the name); no issue
    date, or one in the future; an expiry date before the issue date; no expiry date for
    a type valid through the rotation's end."""

    document_type = serializers.SlugRelatedField(
        slug_field="code",
        queryset=DocumentType.objects.all(),
        help_text="A catalog code (GET /api/v1/document-types).",
        error_messages={
            "does_not_exist": "Unknown document type “{value}”: GET /api/v1/document-types "
            "lists the codes.",
        },
    )
    # Emptiness, size and content are documents.uploads' verdict (one set of messages for
    # the API, the browser and the school link), so an empty file reaches it.
    file = serializers.FileField(
        allow_empty_file=True, help_text="PDF, PNG or JPEG, at most 10 MB."
    )
    issued_on = serializers.DateField(
        help_text="The day the document was issued: not in the future."
    )
    expires_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Optional, on or after ``issued_on``; required for types with ``needs_expiry``.",
    )
    student = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="Admins only: the membership id of the student the document belongs to "
        "(required for admins). Students upload their own and leave it out.",
    )


class DocumentFilterSerializer(serializers.Serializer):
    student = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="Only this student's documents (a membership id; admins).",
    )
    status = NamedChoiceField(
        DocumentStatus,
        required=False,
        help_text="Only documents in this status. ``submitted`` is the review queue: oldest "
        "upload first.",
    )


class DocumentRejectionSerializer(serializers.Serializer):
    reason = RequiredTextField(
        max_length=SHORT_TEXT_MAX,
        validators=[validate_no_bidi_controls],
        help_text="Why it is rejected: the student sees it.",
    )


class ChecklistItemSerializer(serializers.Serializer):
    document_type = serializers.CharField(source="document_type.code", help_text="Type code.")
    name = serializers.CharField(source="document_type.name")
    school_issued = serializers.BooleanField(source="document_type.school_issued")
    kept_on_profile = serializers.BooleanField(source="document_type.kept_on_profile")
    state = NamedChoiceField(ItemState)
    reason = serializers.SerializerMethodField(
        help_text="For ``rejected``: the admins' reason; for ``expired``: what the document "
        "must be for this rotation's dates. Empty for callers who may not read the "
        "student's documents (the attending a request waits on, §3)."
    )
    message = serializers.SerializerMethodField(
        help_text="What the student should do, in words; only the state's name for callers "
        "who may not read the student's documents."
    )
    document = serializers.SerializerMethodField(
        help_text="The document's id, only for callers who may read its file (§3)."
    )

    def get_reason(self, item) -> str:
        return item.reason if self.context["can_read_files"] else ""

    def get_message(self, item) -> str:
        return item.words() if self.context["can_read_files"] else item.state_label

    def get_document(self, item) -> int | None:
        if item.document is None or not self.context["can_read_files"]:
            return None
        return item.document.pk


class ChecklistSerializer(serializers.Serializer):
    rotation = serializers.IntegerField(source="rotation.pk")
    start = serializers.DateField(source="rotation.start")
    end = serializers.DateField(source="rotation.end")
    complete = serializers.BooleanField(
        help_text="Every item approved and valid for the rotation's dates."
    )
    items = ChecklistItemSerializer(many=True)


class RequirementsSerializer(serializers.Serializer):
    """Admins: the organization's required set. Attendings: the types they add for
    rotations with them (types the organization already requires are required anyway and
    are not kept among theirs)."""

    document_types = serializers.ListField(
        child=serializers.CharField(max_length=40),
        allow_empty=True,
        max_length=100,
        help_text="Type codes; PUT replaces the whole set.",
    )
    required_by_organization = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="The organization's required set (read-only).",
    )

    def validate_document_types(self, codes: list[str]) -> list[str]:
        known = {document_type.code for document_type in self.context["catalog"]}
        unknown = sorted(set(codes) - known)
        if unknown:
            raise serializers.ValidationError(
                f"Unknown document type{'s' if len(unknown) > 1 else ''}: "
                f"{', '.join(unknown)}. GET /api/v1/document-types lists the codes."
            )
        return list(dict.fromkeys(codes))
