"""Letters of recommendation (DESIGN §8).

A ``Letter`` is one student's request to one attending, from a rotation they completed
with that attending in this organization, for one target specialty and application
season. States: requested → accepted → uploaded (the attending marks it), or requested
→ declined. At most one open letter (requested or accepted) per (student, attending).

The attending's email address is released to the student on acceptance, or, when the
attending set a LOR fee, once that fee's invoice is paid (``released_at``). Until then
no page, email or API answer shows it to the student (lor.services.writer_email).
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils import timezone

from accounts.choices import Specialty
from accounts.models import Membership
from rotations.models import AttendingProfile, Rotation
from usdoctors.tenancy import TenantModel
from usdoctors.text import SHORT_TEXT_MAX


class LetterStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    ACCEPTED = "accepted", "Accepted"
    UPLOADED = "uploaded", "Uploaded"
    DECLINED = "declined", "Declined"


OPEN_STATUSES = (LetterStatus.REQUESTED, LetterStatus.ACCEPTED)
LETTER_ID_MAX = 40


class Letter(TenantModel):
    student = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="letters")
    attending = models.ForeignKey(
        AttendingProfile, on_delete=models.CASCADE, related_name="letters"
    )
    rotation = models.ForeignKey(
        Rotation,
        on_delete=models.PROTECT,
        related_name="letters",
        help_text="The completed rotation the letter comes from.",
    )
    specialty = models.CharField("target specialty", max_length=32, choices=Specialty.choices)
    season = models.PositiveSmallIntegerField(
        help_text="The application season, named by its Match year (ERAS 2028 = Match 2028)."
    )
    target_on = models.DateField(
        help_text="The ERAS target date: September 15 before the season's Match."
    )
    message = models.TextField(blank=True, max_length=SHORT_TEXT_MAX)
    fee = models.DecimalField(
        "LOR fee (USD)",
        max_digits=8,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="The attending's fee when the student asked; 0 for none.",
    )
    status = models.CharField(
        max_length=10, choices=LetterStatus.choices, default=LetterStatus.REQUESTED
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(blank=True, max_length=SHORT_TEXT_MAX)
    invoice = models.OneToOneField(
        "payments.Invoice",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="letter",
        help_text="The LOR fee's invoice, when the attending set a fee.",
    )
    released_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the student received the attending's email address for MyERAS.",
    )
    eras_letter_id = models.CharField("ERAS Letter ID", max_length=LETTER_ID_MAX, blank=True)
    letter_id_added_at = models.DateTimeField(null=True, blank=True)
    uploaded_at = models.DateTimeField(null=True, blank=True)
    next_reminder_on = models.DateField(
        null=True,
        blank=True,
        help_text="When the attending is next reminded (accepted, released, not uploaded).",
    )
    reminders_sent = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "student", "attending"],
                condition=Q(status__in=["requested", "accepted"]),
                name="one_open_letter_per_student_and_attending",
            ),
            # A Letter ID is single-use, whatever its letters' case.
            models.UniqueConstraint(
                F("organization"),
                Upper("eras_letter_id"),
                condition=~Q(eras_letter_id=""),
                name="eras_letter_id_unique_per_organization",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "attending", "status", "target_on"]),
            models.Index(fields=["organization", "student", "status"]),
            # The reminder sweep's walk, in (next_reminder_on, id) order (lor.reminders).
            models.Index(
                fields=["organization", "next_reminder_on", "id"],
                condition=Q(next_reminder_on__isnull=False),
                name="lor_letter_reminder_due",
            ),
        ]

    def __str__(self) -> str:
        return f"Letter {self.pk} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_released(self) -> bool:
        return self.released_at is not None


# --- The match-season planner and its calendar feed (DESIGN §14) ----------------------------


class Season(models.Model):
    """One application season's dates, named by its Match year (platform data, not a
    tenant row): platform staff edit them in /admin/ as NRMP and ERAS publish them; a
    data migration seeds the next seasons with dates in their usual pattern. The planner
    (lor.planner) counts back from ``submission_opens_on``."""

    match_year = models.PositiveSmallIntegerField(unique=True)
    eras_opens_on = models.DateField(
        "ERAS opens", help_text="Applicants can start their application (early June)."
    )
    submission_opens_on = models.DateField(
        "applicants may submit",
        help_text="The day applicants may submit to programs (early to mid September); "
        "the planner counts back from it.",
    )
    programs_review_on = models.DateField(
        "programs start reviewing", help_text="Programs may start reviewing applications."
    )
    rank_deadline_on = models.DateField("rank order list deadline")
    match_day = models.DateField(help_text="The third Friday of March, usually.")

    class Meta:
        ordering = ["match_year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(eras_opens_on__lte=F("submission_opens_on"))
                & Q(submission_opens_on__lte=F("programs_review_on"))
                & Q(programs_review_on__lte=F("rank_deadline_on"))
                & Q(rank_deadline_on__lte=F("match_day")),
                name="season_dates_in_order",
            )
        ]

    def __str__(self) -> str:
        return f"ERAS {self.match_year} (Match {self.match_year})"

    def clean(self):
        order = [
            ("eras_opens_on", self.eras_opens_on),
            ("submission_opens_on", self.submission_opens_on),
            ("programs_review_on", self.programs_review_on),
            ("rank_deadline_on", self.rank_deadline_on),
            ("match_day", self.match_day),
        ]
        for (_earlier_name, earlier), (later_name, later) in zip(order, order[1:], strict=False):
            if earlier and later and later < earlier:
                raise ValidationError(
                    {later_name: "The season's dates must come in this form's order."}
                )


MAX_VISA_WAIT_WEEKS = 52


class MatchTarget(TenantModel):
    """What a student aims for (§14): the Match year, the specialty, and how many weeks
    their consulate takes to give a visa appointment (0 when they need no visa)."""

    student = models.OneToOneField(
        Membership, on_delete=models.CASCADE, related_name="match_target"
    )
    match_year = models.PositiveSmallIntegerField()
    specialty = models.CharField(max_length=32, choices=Specialty.choices)
    visa_wait_weeks = models.PositiveSmallIntegerField(
        "consulate wait (weeks)",
        default=0,
        validators=[MaxValueValidator(MAX_VISA_WAIT_WEEKS)],
        help_text="0 if you need no US visa for in-person rotations.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "student"], name="one_match_target_per_student"
            )
        ]

    def __str__(self) -> str:
        return f"Match {self.match_year}, {self.get_specialty_display()}"


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(TenantModel):
    """A member's secret calendar address in this organization (§14). The token is a
    long random string (256 bits) so the planner can show the address again; resetting
    it gives a new token, and the old address answers 404 from then on."""

    member = models.OneToOneField(
        Membership, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, default=new_feed_token)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "token"], name="calendar_feed_token")
        ]

    def __str__(self) -> str:
        return f"Calendar feed of {self.member}"
