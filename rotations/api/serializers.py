"""Serializers for the rotations API (DESIGN §4, §5, §12).

Input serializers only parse: the rules (who may, which dates, capacity) live in
rotations.services, rotations.availability, rotations.date_changes and
rotations.messaging, which answer with ``{"detail", "code"}`` errors.
"""

from django.core.validators import RegexValidator
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from accounts.choices import Specialty
from rotations import reveal
from rotations.attendings import clear_npi_check_if_changed
from rotations.choices import (
    DateChangeStatus,
    Mode,
    Payer,
    PaymentMethod,
    Plan,
    RotationStatus,
    RotationType,
)
from rotations.models import (
    MAX_WEEKS,
    AttendingProfile,
    AvailabilityWeek,
    DateChange,
    Evaluation,
    Message,
    Rotation,
    RotationEvent,
)
from rotations.services import experience_entry
from usdoctors.dates import validate_sane_date
from usdoctors.text import LONG_TEXT_MAX, SHORT_TEXT_MAX


class NamedChoiceField(serializers.ChoiceField):
    """A choice field documented as one named OpenAPI enum, ``<Choices>Enum``.

    Several sets share field names here (a rotation's ``status`` and a date change's) and
    one set appears under several names (``rotation_type`` and ``rotation_types``): left
    inline, drf-spectacular would have to guess names for them. Each set gets its own
    component instead, referenced wherever it is used.
    """

    def __init__(self, choices_class, **kwargs):
        self.enum_name = f"{choices_class.__name__}Enum"
        super().__init__(choices=choices_class.choices, **kwargs)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        component = ResolvedComponent(
            name=field.enum_name,
            type=ResolvedComponent.SCHEMA,
            object=field.enum_name,
            schema={
                "type": "string",
                "enum": list(field.choices),
                "description": "\n".join(
                    f"* `{value}` - {label}" for value, label in field.choices.items()
                ),
            },
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


class RequiredTextField(serializers.CharField):
    """Text the rules refuse when blank or only spaces, and the schema says so
    (``minLength: 1``, ``pattern: \\S``).

    A blank value is passed on as ``""`` rather than refused here: the service refuses
    it with its own code and words (``reason_required``, ``message_empty``), the same
    answer the browser forms give.
    """

    def __init__(self, **kwargs):
        super().__init__(allow_blank=False, **kwargs)
        # Documents the rule; what reaches it always has a non-space character.
        self.validators.append(RegexValidator(r"\S"))

    def run_validation(self, data=empty):
        if isinstance(data, str) and not data.strip():
            return ""
        return super().run_validation(data)


def member_name(membership) -> str:
    """How a member is named to the others: an attending by their profile's display name
    (never their login email), a student by their profile's full name."""
    profile = getattr(membership, "attending_profile", None) if membership.is_attending else None
    return profile.display_name if profile else membership.display_name


# --- Attendings and availability -------------------------------------------------------


class AttendingProfileSerializer(serializers.ModelSerializer):
    """An attending's own profile (§4). ``npi_verified_at`` is set by an admin; changing
    the NPI clears it, so the "verified by admins" mark always refers to the number shown."""

    rotation_types = serializers.ListField(child=NamedChoiceField(RotationType), allow_empty=True)
    modes = serializers.ListField(child=NamedChoiceField(Mode), allow_empty=True)
    specialty = NamedChoiceField(Specialty)
    npi_verified = serializers.BooleanField(read_only=True)

    class Meta:
        model = AttendingProfile
        fields = ["id", *AttendingProfile.EDITABLE_FIELDS, "npi_verified", "npi_verified_at"]
        read_only_fields = ["id", "npi_verified", "npi_verified_at"]

    def update(self, instance, validated_data):
        clear_npi_check_if_changed(
            instance, old_npi=instance.npi, new_npi=validated_data.get("npi", instance.npi)
        )
        return super().update(instance, validated_data)


class NpiCheckSerializer(serializers.Serializer):
    registry_checked = serializers.BooleanField(
        default=False,
        help_text="True: you looked the NPI up in the NPPES registry (the attending's "
        "npi_registry_url) and it matches. Required to mark it verified.",
    )


class AvailabilityPublishSerializer(serializers.Serializer):
    first_week = serializers.DateField(
        help_text="A Monday: the first week to publish.", validators=[validate_sane_date]
    )
    last_week = serializers.DateField(
        help_text="A Monday on or after ``first_week``: the last week to publish (inclusive).",
        validators=[validate_sane_date],
    )
    capacity = serializers.IntegerField(help_text="Students at once, 1 to 20.")
    preview = serializers.BooleanField(
        default=False,
        help_text="true: publish nothing; answer 200 with the weeks this would add and the "
        "published weeks whose capacity it would change, and the ``confirmation`` to send.",
    )
    confirm_changes = serializers.CharField(
        default="",
        allow_blank=True,
        max_length=4000,
        help_text="The ``confirmation`` of a preview of the same range and capacity. Needed "
        "when published weeks would get a new capacity (else 409 "
        "``capacity_change_unconfirmed``, nothing written); refused the same way when the "
        "weeks changed since that preview.",
    )


class CapacityChangeSerializer(serializers.Serializer):
    week_start = serializers.DateField()
    capacity_before = serializers.IntegerField()
    capacity_after = serializers.IntegerField()
    booked = serializers.IntegerField()


class PublishPreviewSerializer(serializers.Serializer):
    """What publishing a range would do (§4), written by nothing."""

    first_week = serializers.DateField()
    last_week = serializers.DateField()
    capacity = serializers.IntegerField()
    new_weeks = serializers.ListField(child=serializers.DateField())
    changes = CapacityChangeSerializer(many=True)
    confirmation = serializers.CharField(
        help_text="Send as ``confirm_changes`` to publish with these changes; empty when "
        "no published week changes."
    )


class AvailabilityWeekSerializer(serializers.ModelSerializer):
    free = serializers.IntegerField(read_only=True)

    class Meta:
        model = AvailabilityWeek
        fields = ["id", "week_start", "capacity", "booked", "free"]
        read_only_fields = fields


# --- Rotations -------------------------------------------------------------------------


class RotationStudentSerializer(serializers.Serializer):
    membership_id = serializers.IntegerField(source="pk")
    profile_id = serializers.SerializerMethodField()
    name = serializers.CharField(source="display_name")

    def get_profile_id(self, membership) -> int | None:
        profile = getattr(membership, "profile", None)
        return profile.pk if profile else None


class RotationAttendingSerializer(serializers.ModelSerializer):
    """What a rotation shows of its attending; the contact email stays private (§8)."""

    specialty = NamedChoiceField(Specialty, read_only=True)

    class Meta:
        model = AttendingProfile
        fields = [
            "id",
            "display_name",
            "credentials",
            "specialty",
            "practice_name",
            "city",
            "state",
        ]
        read_only_fields = fields


class RotationSerializer(serializers.ModelSerializer):
    status = NamedChoiceField(RotationStatus, read_only=True)
    rotation_type = NamedChoiceField(RotationType, read_only=True)
    mode = NamedChoiceField(Mode, read_only=True)
    student = RotationStudentSerializer(read_only=True)
    attending = RotationAttendingSerializer(read_only=True)
    end = serializers.DateField(read_only=True, help_text="The Sunday of the last week.")
    total = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        read_only=True,
        help_text="Weekly rate × weeks, in USD, before fees and credits.",
    )

    class Meta:
        model = Rotation
        fields = [
            "id",
            "status",
            "student",
            "attending",
            "rotation_type",
            "mode",
            "start",
            "end",
            "weeks",
            "payer",
            "plan",
            "payment_method",
            "weekly_rate",
            "total",
            "requested_at",
            "respond_by",
            "decided_at",
            "decision_note",
            "hold_reason",
            "completed_at",
        ]
        read_only_fields = fields


class RotationEventSerializer(serializers.ModelSerializer):
    status = NamedChoiceField(RotationStatus, read_only=True)
    by = serializers.SerializerMethodField()

    class Meta:
        model = RotationEvent
        fields = ["status", "note", "by", "at"]
        read_only_fields = fields

    def get_by(self, event) -> str | None:
        """Who did it; empty for the system's own sweeps (expiry, start date)."""
        return member_name(event.by) if event.by else None


class DateChangeSerializer(serializers.ModelSerializer):
    status = NamedChoiceField(DateChangeStatus, read_only=True)
    rotation_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = DateChange
        fields = [
            "id",
            "rotation_id",
            "proposed_start",
            "status",
            "reason",
            "created_at",
            "decided_at",
        ]
        read_only_fields = fields


class EvaluationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Evaluation
        fields = [
            "medical_knowledge",
            "clinical_skills",
            "professionalism",
            "communication",
            "comments",
            "activities",
            "created_at",
        ]
        read_only_fields = fields


class ExperienceEntrySerializer(serializers.Serializer):
    """An ERAS-style experience entry (§5), present once the rotation is completed."""

    title = serializers.CharField()
    organization = serializers.CharField()
    site = serializers.CharField()
    supervisor = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    duration_weeks = serializers.IntegerField()
    hours_per_week = serializers.IntegerField()
    setting = serializers.CharField()
    activities = serializers.CharField()


class RotationDetailSerializer(RotationSerializer):
    """A rotation with its status history, the open date change, the evaluation and the
    ERAS-style experience entry (the last two once completed)."""

    message = serializers.CharField(read_only=True, help_text="The student's request message.")
    events = RotationEventSerializer(many=True, read_only=True)
    open_date_change = serializers.SerializerMethodField()
    evaluation = serializers.SerializerMethodField()
    experience_entry = serializers.SerializerMethodField()

    class Meta(RotationSerializer.Meta):
        fields = [
            *RotationSerializer.Meta.fields,
            "message",
            "events",
            "open_date_change",
            "evaluation",
            "experience_entry",
        ]
        read_only_fields = fields

    @extend_schema_field(DateChangeSerializer(allow_null=True))
    def get_open_date_change(self, rotation):
        open_changes = getattr(rotation, "open_date_changes", None)
        if open_changes is None:  # not prefetched
            open_changes = list(rotation.date_changes.filter(status="proposed"))
        return DateChangeSerializer(open_changes[0]).data if open_changes else None

    def _evaluation_sealed(self, rotation) -> bool:
        """Double-blind (§15): the student reads the evaluation (and the activities it
        gives the experience entry) once it is revealed with their review."""
        return not reveal.evaluation_visible_to(self.context.get("viewer"), rotation)

    @extend_schema_field(EvaluationSerializer(allow_null=True))
    def get_evaluation(self, rotation):
        """Null until the rotation is completed, and for its student until the
        evaluation is revealed: with their review, or 14 days after completion (§15)."""
        evaluation = getattr(rotation, "evaluation", None)
        if evaluation is None or self._evaluation_sealed(rotation):
            return None
        return EvaluationSerializer(evaluation).data

    @extend_schema_field(ExperienceEntrySerializer(allow_null=True))
    def get_experience_entry(self, rotation):
        entry = experience_entry(rotation)
        if entry and getattr(rotation, "evaluation", None) and self._evaluation_sealed(rotation):
            entry["activities"] = ""
        return entry


class RotationRequestSerializer(serializers.Serializer):
    """A student's request (§5). The rules (verified student, type for your kind, offered
    type and mode, a future Monday, 1–12 weeks and the attending's minimum, the plan,
    free weeks, no overlapping rotation) are checked by the service, which answers 400,
    403 or 409 with a ``code`` saying which rule refused it."""

    attending = serializers.IntegerField(help_text="The attending profile's id.")
    rotation_type = NamedChoiceField(RotationType)
    mode = NamedChoiceField(Mode)
    start = serializers.DateField(
        help_text="A Monday in the future.", validators=[validate_sane_date]
    )
    weeks = serializers.IntegerField(
        help_text=f"1 to {MAX_WEEKS}, and at least the attending's minimum."
    )
    payer = serializers.ChoiceField(choices=Payer.choices, default=Payer.SELF)
    plan = serializers.ChoiceField(
        choices=Plan.choices,
        default=Plan.FULL,
        help_text="``weekly`` needs the start at least 21 days away (organization setting).",
    )
    payment_method = serializers.ChoiceField(
        choices=PaymentMethod.choices, default=PaymentMethod.PAYPAL
    )
    message = serializers.CharField(allow_blank=True, default="", max_length=SHORT_TEXT_MAX)
    confirmed_total = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=0,
        allow_null=True,
        default=None,
        help_text="Optional: the total the student agreed to pay, card fees included "
        "(``total_charged`` of ``GET /quote`` for the same attending, start, weeks, plan "
        "and method). When given, the request is refused with 409 ``price_changed`` if "
        "today's quote differs by a cent; when left out, the price is not checked.",
    )

    def validate_attending(self, value: int) -> AttendingProfile:
        # Looked up per call, inside the request's tenant scope: another organization's
        # attending does not exist here.
        attending = (
            AttendingProfile.objects.select_related("membership__user").filter(pk=value).first()
        )
        if attending is None:
            raise serializers.ValidationError("No such attending.")
        return attending


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, default="", max_length=SHORT_TEXT_MAX)


RATING = {"min_value": 1, "max_value": 5, "help_text": "1 (poor) to 5 (excellent)."}


class CompletionSerializer(serializers.Serializer):
    medical_knowledge = serializers.IntegerField(**RATING)
    clinical_skills = serializers.IntegerField(**RATING)
    professionalism = serializers.IntegerField(**RATING)
    communication = serializers.IntegerField(**RATING)
    comments = serializers.CharField(allow_blank=True, default="", max_length=LONG_TEXT_MAX)
    activities = serializers.CharField(
        max_length=LONG_TEXT_MAX, help_text="What the student did: shown on the experience entry."
    )


class PostponeSerializer(serializers.Serializer):
    new_start = serializers.DateField(
        help_text="A Monday in the future.", validators=[validate_sane_date]
    )
    reason = RequiredTextField(max_length=SHORT_TEXT_MAX, help_text="Why it moves (e.g. illness).")


class DateChangeProposalSerializer(serializers.Serializer):
    new_start = serializers.DateField(
        help_text="A Monday in the future.", validators=[validate_sane_date]
    )
    reason = serializers.CharField(allow_blank=True, default="", max_length=SHORT_TEXT_MAX)


class RotationStatusFilterSerializer(serializers.Serializer):
    status = NamedChoiceField(RotationStatus, required=False)


# --- Messages --------------------------------------------------------------------------


class MessagePostSerializer(serializers.Serializer):
    body = RequiredTextField(max_length=LONG_TEXT_MAX, trim_whitespace=False)


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    author_role = serializers.CharField(source="author.role", read_only=True)

    class Meta:
        model = Message
        fields = ["id", "author", "author_role", "body", "created_at"]
        read_only_fields = ["id", "author", "author_role", "created_at"]

    def get_author(self, message) -> str:
        return member_name(message.author)
