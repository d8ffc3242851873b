"""Reviews API serializers (DESIGN §15). The rules are reviews.services'; these parse
and describe."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from reviews import services
from reviews.models import MAX_HOURS_PER_WEEK, LetterOutcome, PatientContact, Review
from rotations.api.serializers import NamedChoiceField, RequiredTextField
from rotations.choices import CareSetting, RotationType
from usdoctors.text import LONG_TEXT_MAX, SHORT_TEXT_MAX


class ReviewWriteSerializer(serializers.Serializer):
    """A student's review of a completed rotation with this attending."""

    rotation = serializers.IntegerField(
        help_text="Your completed rotation with this attending (its id)."
    )
    teaching = serializers.IntegerField(min_value=1, max_value=5, help_text="1 to 5.")
    would_recommend = serializers.BooleanField()
    patient_contact = NamedChoiceField(PatientContact)
    care_setting = NamedChoiceField(CareSetting, help_text="Inpatient or outpatient (or both).")
    wrote_notes = serializers.BooleanField(help_text="You wrote notes in the patient record.")
    hours_per_week = serializers.IntegerField(min_value=1, max_value=MAX_HOURS_PER_WEEK)
    letter = NamedChoiceField(LetterOutcome)
    text = serializers.CharField(
        max_length=LONG_TEXT_MAX, required=False, allow_blank=True, default=""
    )


class ReviewAnswerSerializer(serializers.Serializer):
    answer = RequiredTextField(max_length=LONG_TEXT_MAX)


class ReviewHideSerializer(serializers.Serializer):
    reason = RequiredTextField(max_length=SHORT_TEXT_MAX, help_text="Kept; shown to admins.")


class ReviewSerializer(serializers.ModelSerializer):
    """A review as the caller may see it. ``student_name`` is given to admins, the
    attending and the author only (null for other students); ``hidden_reason`` and
    ``hidden_at`` to admins only."""

    rotation_type = NamedChoiceField(RotationType, source="rotation.rotation_type", read_only=True)
    weeks = serializers.IntegerField(source="rotation.weeks", read_only=True)
    completed_at = serializers.DateTimeField(source="rotation.completed_at", read_only=True)
    patient_contact = NamedChoiceField(PatientContact, read_only=True)
    care_setting = NamedChoiceField(CareSetting, read_only=True)
    letter = NamedChoiceField(LetterOutcome, read_only=True)
    hidden = serializers.BooleanField(read_only=True)
    revealed = serializers.SerializerMethodField()
    student_name = serializers.SerializerMethodField()
    hidden_reason = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = [
            "id",
            "attending",
            "rotation",
            "rotation_type",
            "weeks",
            "completed_at",
            "student_name",
            *services.REVIEW_FIELDS,
            "created_at",
            "revealed_at",
            "revealed",
            "answer",
            "answered_at",
            "hidden",
            "hidden_at",
            "hidden_reason",
        ]
        read_only_fields = fields

    def _viewer(self):
        return self.context.get("viewer")

    def get_revealed(self, review) -> bool:
        return services.is_revealed(review)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_student_name(self, review):
        viewer = self._viewer()
        if viewer and (
            viewer.is_admin or viewer.pk in (review.student_id, review.attending.membership_id)
        ):
            return review.student.display_name
        return None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_hidden_reason(self, review):
        viewer = self._viewer()
        return review.hidden_reason if viewer and viewer.is_admin and review.hidden else None

    def to_representation(self, review):
        data = super().to_representation(review)
        viewer = self._viewer()
        if not (viewer and viewer.is_admin):
            data["hidden_at"] = None
        return data
