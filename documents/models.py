"""Document types, each organization's and attending's required set, and the students'
documents (DESIGN §7).

The catalog (``DocumentType``) is platform data written by a migration: every
organization picks from the same types. A type's ``validity`` is the rule that decides,
for one rotation's dates, whether a document still counts (documents.validity). A
student keeps one current document per type; it serves every rotation it is valid for,
and uploading a new one replaces it (its file leaves the disk, usdoctors.uploads).
"""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Membership
from usdoctors.tenancy import TenantModel
from usdoctors.text import SHORT_TEXT_MAX, validate_no_bidi_controls
from usdoctors.uploads import RemovesReplacedFiles


class Validity(models.TextChoices):
    NONE = "none", "No expiry rule"
    ISSUED_WITHIN_YEAR = "issued_within_year", "Issued within 1 year before the start"
    VALID_THROUGH_END = "valid_through_end", "Valid through the rotation's end"


class DocumentType(models.Model):
    """One kind of record of the §7 catalog (platform-wide data, not a tenant row)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True)
    school_issued = models.BooleanField(
        default=False, help_text="Issued by the medical school: the school link uploads it."
    )
    validity = models.CharField(max_length=20, choices=Validity.choices, default=Validity.NONE)
    kept_on_profile = models.BooleanField(
        default=False,
        help_text="Kept on the student's profile (the CV), checked with the profile.",
    )
    required_by_default = models.BooleanField(
        default=False, help_text="Part of a new organization's required set."
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def needs_expiry(self) -> bool:
        """A type valid through the rotation's end cannot be judged without its expiry."""
        return self.validity == Validity.VALID_THROUGH_END


class RequiredDocumentType(TenantModel):
    """A type the organization requires for every rotation (``attending`` empty), or one
    an attending adds for rotations with them."""

    document_type = models.ForeignKey(DocumentType, on_delete=models.CASCADE, related_name="+")
    attending = models.ForeignKey(
        Membership,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="required_document_types",
        help_text="Empty: required by the organization for every rotation.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "document_type"],
                condition=Q(attending__isnull=True),
                name="organization_requires_type_once",
            ),
            models.UniqueConstraint(
                fields=["organization", "attending", "document_type"],
                condition=Q(attending__isnull=False),
                name="attending_requires_type_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_type} ({'attending' if self.attending_id else 'organization'})"


class DocumentStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class UploadedBy(models.TextChoices):
    STUDENT = "student", "Student"
    SCHOOL = "school", "School (signed link)"
    ADMIN = "admin", "Admin"


EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}


def stored_name(organization_id: int, content_type: str) -> str:
    """Our own name, never the uploaded one: no path from outside, nothing guessable."""
    extension = EXTENSIONS.get(content_type, "bin")
    return f"org{organization_id}/documents/{secrets.token_hex(16)}.{extension}"


def document_upload_path(document: Document, filename: str) -> str:
    return stored_name(document.organization_id, document.content_type)


class Document(RemovesReplacedFiles, TenantModel):
    """A student's current record of one type (§7): its file, dates and review."""

    file_fields = ("file",)

    student = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="documents")
    document_type = models.ForeignKey(DocumentType, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to=document_upload_path, max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    issued_on = models.DateField("issue date")
    expires_on = models.DateField("expiry date", null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.SUBMITTED
    )
    rejection_reason = models.TextField(
        blank=True, max_length=SHORT_TEXT_MAX, validators=[validate_no_bidi_controls]
    )
    reviewed_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    uploaded_by = models.CharField(
        max_length=8, choices=UploadedBy.choices, default=UploadedBy.STUDENT
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "student", "document_type"],
                name="one_current_document_per_type",
            ),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gte=models.F("issued_on")),
                name="document_expires_after_issue",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(rejection_reason=""),
                name="rejected_document_has_reason",
            ),
        ]
        indexes = [
            # The admins' review queue: submitted, oldest first.
            models.Index(fields=["organization", "status", "uploaded_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.document_type} of {self.student}"

    @property
    def download_name(self) -> str:
        extension = EXTENSIONS.get(self.content_type, "bin")
        return f"{self.document_type.code}-{self.pk}.{extension}"


class CredentialKind(models.TextChoices):
    MEDICAL_LICENCE = "medical_licence", "Medical licence"
    BOARD_CERTIFICATION = "board_certification", "Board certification"


def credential_upload_path(credential: AttendingCredential, filename: str) -> str:
    return stored_name(credential.organization_id, credential.content_type)


class AttendingCredential(RemovesReplacedFiles, TenantModel):
    """An attending's medical licence or board certification (DESIGN §15), uploaded by
    the attending and reviewed by the admins in the documents review queue.

    A model of its own rather than a ``Document``: documents belong to students (their
    checklists, the school link, the §3 sharing with rotations' attendings, the
    organization's required set), while these belong to an attending profile and are
    shown to students only as "verified on <date>" (documents.credentials keeps those
    dates on the profile). One current credential per kind; a new upload replaces it."""

    file_fields = ("file",)

    attending = models.ForeignKey(
        "rotations.AttendingProfile", on_delete=models.CASCADE, related_name="credential_documents"
    )
    kind = models.CharField(max_length=20, choices=CredentialKind.choices)
    issuer = models.CharField(
        "issued by",
        max_length=200,
        validators=[validate_no_bidi_controls],
        help_text="The state medical board and licence number, or the certifying board.",
    )
    file = models.FileField(upload_to=credential_upload_path, max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    issued_on = models.DateField("issue date")
    expires_on = models.DateField("expiry date", null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.SUBMITTED
    )
    rejection_reason = models.TextField(
        blank=True, max_length=SHORT_TEXT_MAX, validators=[validate_no_bidi_controls]
    )
    reviewed_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "attending", "kind"],
                name="one_current_credential_per_kind",
            ),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gte=models.F("issued_on")),
                name="credential_expires_after_issue",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(rejection_reason=""),
                name="rejected_credential_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["organization", "status", "uploaded_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.attending}"

    @property
    def download_name(self) -> str:
        extension = EXTENSIONS.get(self.content_type, "bin")
        return f"{self.kind}-{self.pk}.{extension}"


class VisaRefusalStatus(models.TextChoices):
    SUBMITTED = "submitted", "Waiting for an admin"
    CONFIRMED = "confirmed", "Confirmed: the rotation is cancelled and refunded"
    REJECTED = "rejected", "Not accepted"


def visa_refusal_upload_path(refusal: VisaRefusal, filename: str) -> str:
    return stored_name(refusal.organization_id, refusal.content_type)


class VisaRefusal(TenantModel):
    """The student's proof that their visa was refused, for one rotation (DESIGN §15).
    An admin confirms it (the rotation is cancelled and everything paid refunded,
    documents.visa_refusals) or rejects it with a reason. Its file is served only to the
    student and the organization's admins."""

    rotation = models.ForeignKey(
        "rotations.Rotation", on_delete=models.CASCADE, related_name="visa_refusals"
    )
    student = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    file = models.FileField(upload_to=visa_refusal_upload_path, max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    status = models.CharField(
        max_length=10, choices=VisaRefusalStatus.choices, default=VisaRefusalStatus.SUBMITTED
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, max_length=SHORT_TEXT_MAX)

    class Meta:
        ordering = ["uploaded_at", "pk"]
        constraints = [
            # One waiting and at most one confirmed refusal per rotation.
            models.UniqueConstraint(
                fields=["organization", "rotation"],
                condition=Q(status__in=["submitted", "confirmed"]),
                name="one_open_visa_refusal_per_rotation",
            ),
        ]

    def __str__(self) -> str:
        return f"Visa refusal for rotation {self.rotation_id} ({self.status})"
