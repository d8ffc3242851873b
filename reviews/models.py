"""Reviews of attendings from completed rotations (DESIGN §15).

A ``Review`` is the student's account of one completed rotation: ratings (teaching 1–5,
would recommend) and what they actually did (patient contact, inpatient or outpatient,
notes in the record, hours a week, the letter, free text). One per rotation, written by
its student within 30 days of completion (reviews.services).

``revealed_at`` is when the review and the attending's evaluation become visible to the
other side together: when both are in, or 14 days after completion. The attending may
answer once; an admin may hide a review with a reason, which is kept.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from accounts.models import Membership
from rotations.choices import CareSetting
from rotations.models import AttendingProfile, Rotation
from usdoctors.tenancy import TenantModel
from usdoctors.text import LONG_TEXT_MAX, SHORT_TEXT_MAX

MAX_HOURS_PER_WEEK = 120


class PatientContact(models.TextChoices):
    NONE = "none", "None: I only watched"
    SOME = "some", "Some: I examined or talked with some patients"
    FULL = "full", "Full: I saw patients myself and presented them"


class LetterOutcome(models.TextChoices):
    RECEIVED = "received", "I received a letter"
    PROMISED = "promised", "A letter was promised"
    REFUSED = "refused", "A letter was refused"
    NOT_ASKED = "not_asked", "I did not ask for a letter"


class Review(TenantModel):
    rotation = models.OneToOneField(Rotation, on_delete=models.CASCADE, related_name="review")
    # The rotation's attending and student, kept here for the attending's list of reviews.
    attending = models.ForeignKey(
        AttendingProfile, on_delete=models.CASCADE, related_name="reviews"
    )
    student = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    teaching = models.PositiveSmallIntegerField(
        "teaching", validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    would_recommend = models.BooleanField()
    patient_contact = models.CharField(max_length=8, choices=PatientContact.choices)
    care_setting = models.CharField(
        "inpatient or outpatient", max_length=12, choices=CareSetting.choices
    )
    wrote_notes = models.BooleanField("wrote notes in the patient record")
    hours_per_week = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_HOURS_PER_WEEK)]
    )
    letter = models.CharField(max_length=10, choices=LetterOutcome.choices)
    text = models.TextField("in your words", blank=True, max_length=LONG_TEXT_MAX)
    created_at = models.DateTimeField()
    revealed_at = models.DateTimeField(
        help_text="When this review and the attending's evaluation show to the other side."
    )
    answer = models.TextField(blank=True, max_length=LONG_TEXT_MAX)
    answered_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.TextField(blank=True, max_length=SHORT_TEXT_MAX)
    hidden_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-revealed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "rotation"], name="one_review_per_rotation"
            ),
            models.CheckConstraint(
                condition=Q(teaching__gte=1, teaching__lte=5), name="review_teaching_1_to_5"
            ),
        ]
        indexes = [
            # The attending's page: their revealed, shown reviews, newest first.
            models.Index(
                fields=["organization", "attending", "-revealed_at"],
                condition=Q(hidden_at__isnull=True),
                name="shown_reviews",
            )
        ]

    def __str__(self) -> str:
        return f"Review of {self.attending} ({self.rotation_id})"

    @property
    def hidden(self) -> bool:
        return self.hidden_at is not None
