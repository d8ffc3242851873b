"""Users, memberships, student profiles and support tickets (DESIGN §2, §3)."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django_countries.fields import CountryField

from accounts.choices import (
    Role,
    Specialty,
    Step1Result,
    StudentKind,
    TicketCategory,
    TicketStatus,
    VerificationStatus,
    VisaStatus,
)
from usdoctors.tenancy import TenantModel
from usdoctors.text import LONG_TEXT_MAX, SHORT_TEXT_MAX, validate_no_bidi_controls
from usdoctors.uploads import RemovesReplacedFiles, validate_pdf

EARLIEST_GRADUATION_YEAR = 1960
YEARS_UNTIL_GRADUATION = 8


def validate_graduation_year(year: int) -> None:
    """Graduated since 1960, or graduating within the next eight years."""
    latest = timezone.now().year + YEARS_UNTIL_GRADUATION
    if year is not None and not EARLIEST_GRADUATION_YEAR <= year <= latest:
        raise ValidationError(
            f"Enter a graduation year between {EARLIEST_GRADUATION_YEAR} and {latest}.",
            code="graduation_year_out_of_range",
        )


def validate_specialties(values) -> None:
    if not isinstance(values, list) or any(value not in Specialty.values for value in values):
        raise ValidationError("Choose specialties from the list.", code="invalid_specialty")


validate_phone = RegexValidator(
    r"^\+?[0-9 ().-]{7,20}$", "Enter a phone number with country code, e.g. +91 98765 43210."
)


class EmailUserManager(UserManager):
    def _create_user(self, email, password, **extra_fields):
        email = self.normalize_email(email).lower()
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email=None, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email=None, password=None, **extra_fields):
        extra_fields.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person. Global across organizations; the email is the login (DESIGN §2)."""

    username = None
    email = models.EmailField("email address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = EmailUserManager()

    def __str__(self) -> str:
        return self.email


class Membership(TenantModel):
    """A user's role in one organization. Students carry their verification state."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    verification_status = models.CharField(
        max_length=16, choices=VerificationStatus.choices, blank=True
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    status_message = models.TextField(
        blank=True,
        max_length=SHORT_TEXT_MAX,
        help_text="What to finish (needs info) or why (rejected).",
    )
    escalated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="one_membership_per_user_and_organization"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "verification_status", "submitted_at"]),
            models.Index(fields=["organization", "role"]),
        ]

    def __str__(self) -> str:
        return f"{self.user.email} ({self.role})"

    @property
    def is_student(self) -> bool:
        return self.role == Role.STUDENT

    @property
    def is_attending(self) -> bool:
        return self.role == Role.ATTENDING

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_verified_student(self) -> bool:
        return self.is_student and self.verification_status == VerificationStatus.VERIFIED

    @property
    def display_name(self) -> str:
        profile = getattr(self, "profile", None) if self.is_student else None
        return (profile and profile.full_name) or self.user.get_full_name() or self.user.email


def cv_upload_path(profile: "StudentProfile", filename: str) -> str:
    return (
        f"org{profile.organization_id}/cv/{profile.membership_id}-{timezone.now():%Y%m%d%H%M%S}.pdf"
    )


class StudentProfile(RemovesReplacedFiles, TenantModel):
    """What a student tells us about themselves for verification (DESIGN §3).
    A replaced CV's file is removed (``RemovesReplacedFiles``)."""

    file_fields = ("cv",)

    # What the student edits, in the order the form and the API present it.
    EDITABLE_FIELDS = (
        "full_name",
        "kind",
        "medical_school",
        "country",
        "graduation_year",
        "school_contact_email",
        "step1_result",
        "step1_date",
        "step2ck_score",
        "step2ck_date",
        "ecfmg_certified",
        "toefl_score",
        "visa_status",
        "specialty_interests",
        "phone",
        "cv",
    )
    REQUIRED_FOR_SUBMISSION = (
        "full_name",
        "kind",
        "medical_school",
        "country",
        "graduation_year",
        "school_contact_email",
        "visa_status",
        "cv",
    )

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="profile")
    full_name = models.CharField(max_length=150, blank=True, validators=[validate_no_bidi_controls])
    kind = models.CharField(
        "current student or graduate", max_length=3, choices=StudentKind.choices, blank=True
    )
    medical_school = models.CharField(
        max_length=200, blank=True, validators=[validate_no_bidi_controls]
    )
    # The medical school's country: an ISO 3166 code from django-countries' maintained list.
    country = CountryField(blank=True, blank_label="Choose a country")
    graduation_year = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[validate_graduation_year]
    )
    school_contact_email = models.EmailField(
        "school contact email",
        blank=True,
        help_text="The dean's office or registrar who confirms you and may pay.",
    )
    step1_result = models.CharField(
        "USMLE Step 1", max_length=10, choices=Step1Result.choices, default=Step1Result.NOT_TAKEN
    )
    step1_date = models.DateField("Step 1 date", null=True, blank=True)
    step2ck_score = models.PositiveSmallIntegerField(
        "Step 2 CK score",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(300)],
    )
    step2ck_date = models.DateField("Step 2 CK date", null=True, blank=True)
    ecfmg_certified = models.BooleanField("ECFMG certified", default=False)
    toefl_score = models.PositiveSmallIntegerField(
        "TOEFL score", null=True, blank=True, validators=[MaxValueValidator(120)]
    )
    visa_status = models.CharField(max_length=16, choices=VisaStatus.choices, blank=True)
    specialty_interests = models.JSONField(
        default=list, blank=True, validators=[validate_specialties]
    )
    phone = models.CharField(max_length=32, blank=True, validators=[validate_phone])
    cv = models.FileField(
        "CV", upload_to=cv_upload_path, blank=True, max_length=200, validators=[validate_pdf]
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.full_name or str(self.membership)

    @property
    def specialty_interest_labels(self) -> list[str]:
        """The specialty interests as people read them ("Internal medicine"), in the
        list's order."""
        chosen = set(self.specialty_interests or ())
        return [label for value, label in Specialty.choices if value in chosen]

    def missing_fields(self) -> list[str]:
        """The fields a student must fill before submitting for verification."""
        return [name for name in self.REQUIRED_FOR_SUBMISSION if not getattr(self, name)]


class ProfileReview(TenantModel):
    """One step in a profile's verification history."""

    class Action(models.TextChoices):
        SUBMITTED = "submitted", "Submitted for verification"
        VERIFIED = "verified", "Verified"
        INFO_REQUESTED = "info_requested", "More information requested"
        REJECTED = "rejected", "Rejected"
        CORRECTED = "corrected", "Corrected by an admin"

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="reviews")
    action = models.CharField(max_length=16, choices=Action.choices)
    message = models.TextField(blank=True, max_length=SHORT_TEXT_MAX)
    by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]


class SupportTicket(TenantModel):
    """A member's question to the organization's admins. ``email_change`` tickets carry
    the new login address an admin may approve (DESIGN §3)."""

    author = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="tickets")
    category = models.CharField(max_length=16, choices=TicketCategory.choices)
    subject = models.CharField(max_length=150, validators=[validate_no_bidi_controls])
    message = models.TextField(max_length=LONG_TEXT_MAX)
    new_email = models.EmailField(blank=True)
    status = models.CharField(
        max_length=10, choices=TicketStatus.choices, default=TicketStatus.OPEN
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["organization", "status", "created_at"])]

    def __str__(self) -> str:
        return self.subject


class TicketReply(TenantModel):
    ticket = models.ForeignKey(SupportTicket, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    message = models.TextField(max_length=LONG_TEXT_MAX)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
