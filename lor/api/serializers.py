"""Serializers for the letters API (DESIGN §8, §12).

Input serializers only parse: the rules (a completed rotation with the attending, one
open request, an open season, who may decide, the Letter ID's form and uniqueness) live
in lor.services, which answers ``{"detail", "code"}`` errors.

What the student may see of the attending's address is ``lor.services.writer_email``'s
answer, never a field read here (§8): null until it is released.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.choices import Specialty
from lor import seasons
from lor.models import LETTER_ID_MAX, Letter, LetterStatus
from lor.services import writer_email
from payments.models import Invoice, InvoiceStatus
from rotations.api.serializers import EvaluationSerializer, NamedChoiceField, RequiredTextField
from rotations.models import Rotation
from rotations.services import type_title
from usdoctors.text import SHORT_TEXT_MAX, validate_no_bidi_controls

MAX_ID = 2**31 - 1  # ids are PostgreSQL integers: larger numbers are bad input, not a 500
MAX_SEASON = 32767  # the season's column is a small integer


# --- Output ----------------------------------------------------------------------------------


class LetterStudentSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk", help_text="The student's membership id.")
    name = serializers.CharField(source="display_name")


class LetterAttendingSerializer(serializers.Serializer):
    """The letter's writer, by the name on their profile (never an email address)."""

    id = serializers.IntegerField(source="pk", help_text="The attending profile's id.")
    name = serializers.CharField(source="display_name")


class LetterRotationSerializer(serializers.Serializer):
    """The completed rotation the letter comes from."""

    id = serializers.IntegerField(source="pk")
    title = serializers.SerializerMethodField()
    start = serializers.DateField()
    end = serializers.DateField(help_text="The Sunday of the last week.")

    def get_title(self, rotation: Rotation) -> str:
        return type_title(rotation)


class LetterInvoiceSerializer(serializers.ModelSerializer):
    """The LOR fee's invoice (payments): the student pays it like any other."""

    status = NamedChoiceField(InvoiceStatus, read_only=True)

    class Meta:
        model = Invoice
        fields = ["id", "status", "reference_code"]
        read_only_fields = fields


class LetterSerializer(serializers.ModelSerializer):
    """A letter of recommendation as the caller may see it (§8). Needs ``viewer`` (the
    caller's membership) and ``today`` in its context."""

    status = NamedChoiceField(LetterStatus, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    student = LetterStudentSerializer(read_only=True)
    attending = LetterAttendingSerializer(read_only=True)
    rotation = LetterRotationSerializer(read_only=True)
    specialty = NamedChoiceField(Specialty, read_only=True, help_text="The target specialty.")
    specialty_label = serializers.CharField(source="get_specialty_display", read_only=True)
    season = serializers.IntegerField(
        read_only=True, help_text="The application season, by its Match year (ERAS 2028)."
    )
    season_label = serializers.SerializerMethodField()
    target_date = serializers.DateField(
        source="target_on",
        read_only=True,
        help_text="The ERAS target date: September 15 before the season's Match.",
    )
    days_left = serializers.SerializerMethodField(
        help_text="Days from today to the target date; negative once it has passed."
    )
    fee = serializers.DecimalField(
        max_digits=8,
        decimal_places=2,
        read_only=True,
        help_text="The attending's LOR fee in USD when the student asked; 0.00 for none.",
    )
    invoice = serializers.SerializerMethodField(
        help_text="The fee's invoice, once the letter is accepted with a fee (the student "
        "and admins; always null for the attending)."
    )
    email_released = serializers.BooleanField(
        source="is_released",
        read_only=True,
        help_text="The student has the attending's address for MyERAS: on acceptance, or "
        "once the fee's invoice is paid.",
    )
    writer_email = serializers.SerializerMethodField(
        help_text="The address to enter in MyERAS. Null for the student until "
        "``email_released``; the attending and admins always see it."
    )
    eras_letter_id = serializers.CharField(
        read_only=True, help_text="The ERAS Letter ID the student attached (empty until then)."
    )
    decline_reason = serializers.CharField(read_only=True)
    evaluation = serializers.SerializerMethodField(
        help_text="The attending's evaluation of the student from the rotation."
    )

    class Meta:
        model = Letter
        fields = [
            "id",
            "status",
            "status_label",
            "student",
            "attending",
            "rotation",
            "specialty",
            "specialty_label",
            "season",
            "season_label",
            "target_date",
            "days_left",
            "message",
            "fee",
            "invoice",
            "email_released",
            "writer_email",
            "eras_letter_id",
            "requested_at",
            "decided_at",
            "decline_reason",
            "uploaded_at",
            "evaluation",
        ]
        read_only_fields = fields

    def get_season_label(self, letter: Letter) -> str:
        return seasons.season_label(letter.season)

    def get_days_left(self, letter: Letter) -> int:
        return seasons.days_left(letter.target_on, self.context["today"])

    @extend_schema_field(LetterInvoiceSerializer(allow_null=True))
    def get_invoice(self, letter: Letter):
        viewer = self.context["viewer"]
        if letter.invoice is None or not (viewer.pk == letter.student_id or viewer.is_admin):
            return None
        return LetterInvoiceSerializer(letter.invoice).data

    def get_writer_email(self, letter: Letter) -> str | None:
        return writer_email(letter, self.context["viewer"])

    @extend_schema_field(EvaluationSerializer(allow_null=True))
    def get_evaluation(self, letter: Letter):
        evaluation = getattr(letter.rotation, "evaluation", None)
        return EvaluationSerializer(evaluation).data if evaluation else None


# --- Input -----------------------------------------------------------------------------------


class LetterFilterSerializer(serializers.Serializer):
    status = NamedChoiceField(
        LetterStatus, required=False, help_text="Only letters in this status."
    )


class LetterRequestSerializer(serializers.Serializer):
    """A student's request (§8). The rules (a completed rotation with this attending
    here, an attending who writes letters, an open season, one open request per
    attending) are the service's: 400 or 409 with a ``code`` naming the rule."""

    attending = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        help_text="The attending profile's id (an attending of one of your completed rotations).",
    )
    specialty = NamedChoiceField(Specialty, help_text="The target specialty.")
    season = serializers.IntegerField(
        min_value=1,
        max_value=MAX_SEASON,
        help_text="The application season by its Match year: the next Match's or one of "
        "the two after it.",
    )
    message = serializers.CharField(
        allow_blank=True,
        default="",
        max_length=SHORT_TEXT_MAX,
        validators=[validate_no_bidi_controls],
        help_text="Optional: a word to the attending.",
    )


class LetterDeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(
        allow_blank=True,
        default="",
        max_length=SHORT_TEXT_MAX,
        validators=[validate_no_bidi_controls],
        help_text="Optional: the student reads it.",
    )


class LetterIdSerializer(serializers.Serializer):
    letter_id = RequiredTextField(
        max_length=LETTER_ID_MAX,
        help_text="The ERAS Letter ID from your MyERAS Letter Request Form (letters, digits, "
        "hyphens); each ID is for one letter.",
    )
