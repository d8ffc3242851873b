"""Attendings, their weekly availability, rotations and what hangs off them (DESIGN §4, §5)."""

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from accounts.choices import Specialty, VisaStatus
from accounts.models import Membership
from rotations.certificates import validate_certificates
from rotations.choices import (
    US_STATES,
    CancellationCause,
    CareSetting,
    Credential,
    CurrentStudents,
    DateChangeStatus,
    Graduates,
    Mode,
    NpiCheckStatus,
    NpiVerifiedBy,
    Payer,
    PaymentMethod,
    Plan,
    PracticeSetting,
    RotationStatus,
    RotationType,
)
from usdoctors.tenancy import TenantModel
from usdoctors.text import LONG_TEXT_MAX, SHORT_TEXT_MAX, validate_no_bidi_controls

MAX_WEEKS = 12
# Students reporting no patient contact on a hands-on listing before it is flagged (§15).
NO_CONTACT_FLAG_AT = 2
# The public NPPES registry's page for an NPI (CMS), where admins check it (§4).
NPI_REGISTRY_URL = "https://npiregistry.cms.hhs.gov/provider-view/{npi}"


def validate_npi(value: str) -> None:
    """A National Provider Identifier: 10 digits whose last is a Luhn check digit computed
    with the 80840 health-industry prefix (CMS)."""
    if not (len(value) == 10 and value.isdigit()):
        raise ValidationError("An NPI is 10 digits.", code="npi_format")
    digits = [int(d) for d in "80840" + value]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 1:
            digit *= 2
            digit -= 9 if digit > 9 else 0
        total += digit
    if total % 10:
        raise ValidationError("This NPI's check digit does not match.", code="npi_checksum")


def _validate_choices(values, choices) -> None:
    if not isinstance(values, list) or any(value not in choices for value in values):
        raise ValidationError(f"Choose from: {', '.join(choices)}.", code="invalid_choice")


def validate_rotation_types(values) -> None:
    _validate_choices(values, RotationType.values)


def validate_modes(values) -> None:
    _validate_choices(values, Mode.values)


def validate_visa_statuses(values) -> None:
    _validate_choices(values, VisaStatus.values)


def validate_monday(value: date) -> None:
    if value.weekday() != 0:
        raise ValidationError(
            f"{value:%A %B %-d, %Y} is not a Monday; weeks start on Mondays.", code="not_monday"
        )


def _runs_of(weeks: int):
    """``free_mask & free_mask >> 1 & … & free_mask >> (weeks - 1)``: bit i set when
    ``weeks`` free weeks in a row start at bit i."""
    mask = models.F("free_mask")
    for shift in range(1, weeks):
        mask = mask.bitand(models.F("free_mask").bitrightshift(shift))
    return mask


class AttendingProfile(TenantModel):
    """An attending physician as students see them (§4). The contact email is private."""

    # What the attending edits; students see all of it but the private fields.
    EDITABLE_FIELDS = (
        "display_name",
        "credentials",
        "npi",
        "specialty",
        "practice_name",
        "setting",
        "care_setting",
        "city",
        "state",
        "has_residency_program",
        "rotation_types",
        "modes",
        "weekly_rate",
        "minimum_weeks",
        "writes_lors",
        "lor_fee",
        "letter_turnaround_days",
        "contact_email",
        "bio",
    )
    PRIVATE_FIELDS = ("contact_email",)

    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, related_name="attending_profile"
    )
    display_name = models.CharField(max_length=150, validators=[validate_no_bidi_controls])
    credentials = models.CharField(max_length=2, choices=Credential.choices, default="MD")
    npi = models.CharField("NPI number", max_length=10, blank=True, validators=[validate_npi])
    npi_verified_at = models.DateTimeField(null=True, blank=True)
    # DESIGN §15: who put the mark (the registry's answer, or an admin by hand), and when
    # the NPI was last settled (the registry answered, or an admin marked it): the yearly
    # re-check (rotations.npi_checks) asks again once that is a year old.
    npi_verified_by = models.CharField(
        max_length=8, choices=NpiVerifiedBy.choices, blank=True, editable=False
    )
    npi_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Kept by documents.credentials in the review's transaction: when admins approved the
    # attending's current licence and board certification (None: none approved), so
    # search shows them without another query.
    licence_verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    board_certification_verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    specialty = models.CharField(max_length=32, choices=Specialty.choices)
    practice_name = models.CharField(
        max_length=200, blank=True, validators=[validate_no_bidi_controls]
    )
    setting = models.CharField(max_length=16, choices=PracticeSetting.choices)
    care_setting = models.CharField(max_length=12, choices=CareSetting.choices)
    city = models.CharField(max_length=100, validators=[validate_no_bidi_controls])
    state = models.CharField(max_length=2, choices=US_STATES)
    has_residency_program = models.BooleanField(
        "residency program in this specialty at the site", default=False
    )
    rotation_types = models.JSONField(default=list, validators=[validate_rotation_types])
    modes = models.JSONField(default=list, validators=[validate_modes])
    weekly_rate = models.DecimalField(
        "weekly rate (USD)",
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    minimum_weeks = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_WEEKS)]
    )
    writes_lors = models.BooleanField("writes letters of recommendation", default=True)
    lor_fee = models.DecimalField(
        "LOR fee (USD)",
        max_digits=8,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    letter_turnaround_days = models.PositiveSmallIntegerField(
        "letter turnaround (days)",
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="How many days you need from a letter request to the letter in ERAS; "
        "students' match-season planners count back from it (§14).",
    )
    contact_email = models.EmailField(
        blank=True, help_text="Private: released to a student only for a letter (§8)."
    )
    bio = models.TextField(blank=True, max_length=LONG_TEXT_MAX)
    # Kept from the membership's role (AttendingProfile.save, rotations.apps): students
    # find only profiles of members who are attendings (rotations.search).
    listed = models.BooleanField(default=True, editable=False)
    # Kept by rotations.free_weeks in the transactions that book, release and publish:
    # the first free week on or after ``next_free_week_from`` (None: there was none).
    next_free_week = models.DateField(null=True, blank=True, editable=False)
    next_free_week_from = models.DateField(null=True, blank=True, editable=False)
    # With it: bit i set when the week next_free_week_from + i weeks is free (i < 62),
    # and the last free week, so search knows whether any lies past the mask.
    free_mask = models.BigIntegerField(default=0, editable=False)
    # The bits of free_mask where a run of the attending's minimum weeks starts, kept by
    # the database itself whenever either changes: search's weeks window reads it
    # instead of working the run out per row (rotations.search.MaskRunResults).
    minimum_run_mask = models.GeneratedField(
        expression=models.Case(
            *(
                models.When(minimum_weeks=weeks, then=_runs_of(weeks))
                for weeks in range(1, MAX_WEEKS + 1)
            ),
            default=models.Value(0),
            output_field=models.BigIntegerField(),
        ),
        output_field=models.BigIntegerField(),
        db_persist=True,
    )
    last_free_week = models.DateField(null=True, blank=True, editable=False)
    # Kept by reviews.services in the transactions that write, hide and show reviews
    # (DESIGN §15), so search sorts by them from an index: the reviews that count (not
    # hidden), their teaching average (0 while there are none), how many would
    # recommend, and how many students reported no patient contact on a hands-on type.
    review_count = models.PositiveIntegerField(default=0, editable=False)
    review_average = models.DecimalField(
        max_digits=3, decimal_places=2, default=Decimal("0"), editable=False
    )
    review_recommend_count = models.PositiveIntegerField(default=0, editable=False)
    review_no_contact_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "specialty", "state"]),
            models.Index(
                fields=["organization", "weekly_rate"],
                condition=models.Q(listed=True),
                name="listed_by_rate",
            ),
            # Search's soonest order for attendings kept from next Monday
            # (rotations.search.SoonestFreeWeekResults), and finding the others.
            models.Index(
                fields=["organization", "next_free_week_from", "next_free_week", "weekly_rate"],
                condition=models.Q(listed=True),
                name="listed_by_soonest",
            ),
            # Search's "best reviewed" order (rotations.search.SORT_REVIEWED).
            models.Index(
                fields=["organization", "-review_average", "-review_count", "weekly_rate"],
                condition=models.Q(listed=True),
                name="listed_by_reviews",
            ),
            # Counting the weeks filter's matches from the kept masks alone, without
            # reading the rows (rotations.search.MaskRunResults).
            models.Index(
                fields=[
                    "organization",
                    "next_free_week_from",
                    "last_free_week",
                    "minimum_weeks",
                    "minimum_run_mask",
                    "free_mask",
                    "id",
                ],
                condition=models.Q(listed=True),
                name="listed_by_runs",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name}, {self.credentials}"

    @classmethod
    def public_fields(cls) -> tuple[str, ...]:
        return tuple(name for name in cls.EDITABLE_FIELDS if name not in cls.PRIVATE_FIELDS)

    def save(self, *args, **kwargs):
        self.listed = self.membership.role == "attending"
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "listed"}
        super().save(*args, **kwargs)

    @property
    def npi_verified(self) -> bool:
        return self.npi_verified_at is not None

    @property
    def no_patient_contact_flag(self) -> bool:
        """Two or more students reported no patient contact on a hands-on type (§15)."""
        return self.review_no_contact_count >= NO_CONTACT_FLAG_AT

    @property
    def recommend_percent(self) -> int | None:
        """The share of counted reviews that would recommend, in whole percent."""
        if not self.review_count:
            return None
        return round(100 * self.review_recommend_count / self.review_count)

    @property
    def npi_registry_url(self) -> str:
        """Where admins check the NPI: the public NPPES registry (CMS)."""
        return NPI_REGISTRY_URL.format(npi=self.npi) if self.npi else ""

    @property
    def npi_verified_by_registry(self) -> bool:
        """The mark is the registry's answer; any other mark (an admin's, including one
        staff set in /admin/) is shown as manual."""
        return self.npi_verified and self.npi_verified_by == NpiVerifiedBy.REGISTRY

    @property
    def npi_verification(self) -> str | None:
        """``registry``, ``manual`` or None (not verified), as students are told."""
        if not self.npi_verified:
            return None
        return NpiVerifiedBy.REGISTRY if self.npi_verified_by_registry else NpiVerifiedBy.MANUAL


class AvailabilityWeek(TenantModel):
    """One Monday-starting week an attending can host ``capacity`` students at once.

    ``booked`` moves only inside transactions that hold this row's lock (rotations.locks);
    the database refuses ``booked > capacity`` whatever the code does.
    """

    attending = models.ForeignKey(AttendingProfile, on_delete=models.CASCADE, related_name="weeks")
    week_start = models.DateField(validators=[validate_monday])
    capacity = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    booked = models.PositiveSmallIntegerField(default=0)
    # Kept by rotations.free_weeks with the booking: how many free weeks in a row start
    # here (this one included), counted up to MAX_WEEKS; 0 when this week is full.
    free_run = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["week_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "attending", "week_start"],
                name="one_row_per_attending_week",
            ),
            models.CheckConstraint(
                condition=models.Q(booked__lte=models.F("capacity")),
                name="week_never_booked_beyond_capacity",
            ),
        ]
        indexes = [
            # Search reads only free weeks: an attending's first one (the partial index
            # free_weeks), and the runs starting in a window of dates (free_runs).
            models.Index(
                fields=["organization", "attending", "week_start"],
                condition=models.Q(booked__lt=models.F("capacity")),
                name="free_weeks",
            ),
            models.Index(
                fields=["organization", "week_start", "free_run", "attending"],
                condition=models.Q(free_run__gt=0),
                name="free_runs",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.attending} · week of {self.week_start}"

    @property
    def free(self) -> int:
        return self.capacity - self.booked


class Rotation(TenantModel):
    """A student's rotation with an attending, from request to completion (§5)."""

    student = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="rotations")
    attending = models.ForeignKey(
        AttendingProfile, on_delete=models.CASCADE, related_name="rotations"
    )
    rotation_type = models.CharField(max_length=16, choices=RotationType.choices)
    mode = models.CharField(max_length=10, choices=Mode.choices)
    start = models.DateField(validators=[validate_monday])
    weeks = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WEEKS)]
    )
    payer = models.CharField(max_length=8, choices=Payer.choices, default=Payer.SELF)
    plan = models.CharField(max_length=12, choices=Plan.choices, default=Plan.FULL)
    payment_method = models.CharField(
        max_length=8, choices=PaymentMethod.choices, default=PaymentMethod.PAYPAL
    )
    message = models.TextField(blank=True, max_length=SHORT_TEXT_MAX)
    weekly_rate = models.DecimalField(
        max_digits=8, decimal_places=2, help_text="The attending's rate when requested."
    )
    application_fee = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        default=Decimal("0.00"),
        help_text="The non-refundable application fee of the type's requirement when "
        "requested (DESIGN §6, §13): invoiced on the first installment.",
    )
    confirmed_total = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="What the student agreed to pay when requesting, fees included "
        "(empty when they did not confirm a summary).",
    )
    status = models.CharField(
        max_length=12, choices=RotationStatus.choices, default=RotationStatus.REQUESTED
    )
    requested_at = models.DateTimeField(default=timezone.now)
    respond_by = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, max_length=SHORT_TEXT_MAX)
    hold_reason = models.TextField(blank=True)
    cancellation_cause = models.CharField(
        max_length=12,
        choices=CancellationCause.choices,
        blank=True,
        help_text="Set when it is cancelled: decides what happens to the money (§15).",
    )
    reminded_day3_at = models.DateTimeField(null=True, blank=True)
    reminded_day6_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # When each side was last emailed about new messages (at most once per 15 minutes).
    student_messages_emailed_at = models.DateTimeField(null=True, blank=True)
    attending_messages_emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-start", "-pk"]
        indexes = [
            # Sweeps walk a status in (start, id) order, batch after batch.
            models.Index(fields=["organization", "status", "start", "id"]),
            models.Index(fields=["organization", "student", "status"]),
            models.Index(fields=["organization", "attending", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_rotation_type_display()} with {self.attending} from {self.start}"

    @property
    def end(self) -> date:
        """The last day: the Sunday of the last week."""
        return self.start + timedelta(weeks=self.weeks, days=-1)

    @property
    def week_starts(self) -> list[date]:
        return week_starts(self.start, self.weeks)

    @property
    def total(self) -> Decimal:
        return self.weekly_rate * self.weeks


def week_starts(start: date, weeks: int) -> list[date]:
    return [start + timedelta(weeks=number) for number in range(weeks)]


class RotationEvent(TenantModel):
    """One line of a rotation's status history."""

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=12, choices=RotationStatus.choices)
    note = models.TextField(blank=True, max_length=SHORT_TEXT_MAX)
    by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]


class DateChange(TenantModel):
    """A student's proposal to move an approved rotation to another start (§5)."""

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="date_changes")
    proposed_start = models.DateField(validators=[validate_monday])
    status = models.CharField(
        max_length=10, choices=DateChangeStatus.choices, default=DateChangeStatus.PROPOSED
    )
    reason = models.TextField(blank=True, max_length=SHORT_TEXT_MAX)
    proposed_by = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    decided_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "rotation"],
                condition=models.Q(status="proposed"),
                name="one_open_date_change_per_rotation",
            )
        ]


RATING = [MinValueValidator(1), MaxValueValidator(5)]


class Evaluation(TenantModel):
    """The attending's evaluation at completion, for school credit (§5)."""

    COMPETENCIES = (
        ("medical_knowledge", "Medical knowledge"),
        ("clinical_skills", "Clinical skills"),
        ("professionalism", "Professionalism"),
        ("communication", "Communication"),
    )

    rotation = models.OneToOneField(Rotation, on_delete=models.CASCADE, related_name="evaluation")
    medical_knowledge = models.PositiveSmallIntegerField(validators=RATING)
    clinical_skills = models.PositiveSmallIntegerField(validators=RATING)
    professionalism = models.PositiveSmallIntegerField(validators=RATING)
    communication = models.PositiveSmallIntegerField(validators=RATING)
    comments = models.TextField(blank=True, max_length=LONG_TEXT_MAX)
    activities = models.TextField(
        max_length=LONG_TEXT_MAX,
        help_text="What the student did: shown on the ERAS-style experience entry.",
    )
    created_at = models.DateTimeField(default=timezone.now)


class Message(TenantModel):
    """The thread between student and attending once approved; admins can read it."""

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    body = models.TextField(max_length=LONG_TEXT_MAX)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]


class NpiCheck(TenantModel):
    """One look-up of an attending's NPI in the NPPES registry (DESIGN §15).

    Written ``pending`` inside the transaction that asks for it (an admin's "Check in
    registry", or the yearly re-check); a task calls the registry after commit and
    records the outcome here: the registry's answer as it came, and ``reasons`` when
    it does not match. At most one pending check per attending.
    """

    attending = models.ForeignKey(
        AttendingProfile, on_delete=models.CASCADE, related_name="npi_checks"
    )
    npi = models.CharField(max_length=10)
    status = models.CharField(
        max_length=12, choices=NpiCheckStatus.choices, default=NpiCheckStatus.PENDING
    )
    reasons = models.JSONField(default=list, blank=True)
    answer = models.JSONField(null=True, blank=True)
    requested_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "attending"],
                condition=models.Q(status="pending"),
                name="one_pending_npi_check_per_attending",
            )
        ]
        indexes = [models.Index(fields=["organization", "attending", "requested_at"])]

    def __str__(self) -> str:
        return f"NPI check of {self.attending} ({self.status})"


# The USMLE pass mark for Step 2 CK since January 2022 (USMLE): "Step 2 CK passed" means a
# reported score at least this (rotations.eligibility).
STEP2CK_PASSING_SCORE = 214


class Requirement(TenantModel):
    """What a student needs for one rotation type (DESIGN §13): the organization's
    default (``attending`` empty) or one attending's own. ``rotations.requirements``
    says which row applies; ``rotations.eligibility`` holds a student against it.

    ``visa_statuses`` empty accepts every status; ``certificates`` are codes of document
    types the documents app reviews (rotations.certificates). The application fee is
    non-refundable (§6); ``housing_included`` shows on the listing.
    """

    attending = models.ForeignKey(
        AttendingProfile,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="requirements",
        help_text="Empty: the organization's default for this rotation type.",
    )
    rotation_type = models.CharField(max_length=16, choices=RotationType.choices)
    current_students = models.CharField(
        "current students (IMS)",
        max_length=12,
        choices=CurrentStudents.choices,
        default=CurrentStudents.ANY,
    )
    graduates = models.CharField(
        "graduates (IMG)", max_length=12, choices=Graduates.choices, default=Graduates.ANY
    )
    graduated_within_years = models.PositiveSmallIntegerField(
        "graduated within (years)",
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(60)],
        help_text="With “graduated within a number of years”: the most years between the "
        "graduation year and the rotation's start year.",
    )
    step1_required = models.BooleanField("USMLE Step 1 passed", default=False)
    step2ck_required = models.BooleanField("USMLE Step 2 CK passed", default=False)
    step2ck_minimum_score = models.PositiveSmallIntegerField(
        "Step 2 CK minimum score",
        null=True,
        blank=True,
        validators=[MinValueValidator(STEP2CK_PASSING_SCORE), MaxValueValidator(300)],
        help_text=f"Optional, {STEP2CK_PASSING_SCORE}–300; needs “Step 2 CK passed”.",
    )
    toefl_minimum = models.PositiveSmallIntegerField(
        "TOEFL iBT minimum",
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(120)],
        help_text="Optional, 0–120 (total score).",
    )
    certificates = models.JSONField(default=list, blank=True, validators=[validate_certificates])
    visa_statuses = models.JSONField(
        "visa statuses accepted",
        default=list,
        blank=True,
        validators=[validate_visa_statuses],
        help_text="None chosen: every status.",
    )
    application_fee = models.DecimalField(
        "application fee (USD, non-refundable)",
        max_digits=8,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    housing_included = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["rotation_type", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "rotation_type"],
                condition=models.Q(attending__isnull=True),
                name="one_default_requirement_per_type",
            ),
            models.UniqueConstraint(
                fields=["organization", "attending", "rotation_type"],
                condition=models.Q(attending__isnull=False),
                name="one_attending_requirement_per_type",
            ),
            models.CheckConstraint(
                condition=models.Q(application_fee__gte=0),
                name="requirement_fee_not_negative",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(graduates="within_years", graduated_within_years__isnull=False)
                    | (
                        ~models.Q(graduates="within_years")
                        & models.Q(graduated_within_years__isnull=True)
                    )
                ),
                name="requirement_years_only_with_within_years",
            ),
            models.CheckConstraint(
                condition=models.Q(step2ck_minimum_score__isnull=True)
                | models.Q(step2ck_required=True),
                name="requirement_step2ck_minimum_needs_required",
            ),
        ]
        # The two partial unique constraints are the indexes the lookups use.

    def __str__(self) -> str:
        whose = self.attending or "organization default"
        return f"{self.get_rotation_type_display()} requirements ({whose})"

    def clean(self):
        super().clean()
        errors = {}
        if self.graduates == Graduates.WITHIN_YEARS and self.graduated_within_years is None:
            errors["graduated_within_years"] = "Say within how many years of graduation."
        if self.graduates != Graduates.WITHIN_YEARS:
            self.graduated_within_years = None
        if self.step2ck_minimum_score is not None and not self.step2ck_required:
            errors["step2ck_minimum_score"] = (
                "Tick “USMLE Step 2 CK passed” to ask for a minimum score."
            )
        if errors:
            raise ValidationError(errors)
