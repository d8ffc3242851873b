from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from accounts.choices import Specialty, TicketCategory
from accounts.models import StudentProfile, SupportTicket, TicketReply
from usdoctors.text import SHORT_TEXT_MAX
from usdoctors.uploads import validate_pdf


class OrganizationSummarySerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    verification_target_hours = serializers.IntegerField()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="user.pk")
    email = serializers.EmailField(source="user.email")
    role = serializers.CharField()
    verification_status = serializers.CharField(allow_blank=True)
    membership_id = serializers.IntegerField(source="pk")
    organization = OrganizationSummarySerializer()


class StudentProfileSerializer(serializers.ModelSerializer):
    """A student's profile. ``cv`` is uploaded as multipart (PDF, ≤ 10 MB) and read back
    through ``cv_url``, which applies the privacy rule."""

    specialty_interests = serializers.ListField(
        child=serializers.ChoiceField(choices=Specialty.choices), required=False
    )
    # Declared fields do not inherit the model field's validators: repeat the PDF check.
    cv = serializers.FileField(
        write_only=True, required=False, allow_null=True, validators=[validate_pdf]
    )
    cv_url = serializers.SerializerMethodField()
    verification_status = serializers.CharField(
        source="membership.verification_status", read_only=True
    )
    status_message = serializers.CharField(source="membership.status_message", read_only=True)
    submitted_at = serializers.DateTimeField(
        source="membership.submitted_at", read_only=True, allow_null=True
    )
    missing_fields = serializers.SerializerMethodField()
    email = serializers.EmailField(source="membership.user.email", read_only=True)

    class Meta:
        model = StudentProfile
        fields = [
            "id",
            "email",
            *StudentProfile.EDITABLE_FIELDS,
            "cv_url",
            "verification_status",
            "status_message",
            "submitted_at",
            "missing_fields",
        ]
        read_only_fields = ["id"]

    def get_cv_url(self, profile) -> str | None:
        return f"/students/{profile.pk}/cv/" if profile.cv else None

    def get_missing_fields(self, profile) -> list[str]:
        return profile.missing_fields()


class QueueEntrySerializer(serializers.Serializer):
    profile_id = serializers.IntegerField(source="membership.profile.pk")
    student_name = serializers.CharField(source="membership.display_name")
    email = serializers.EmailField(source="membership.user.email")
    submitted_at = serializers.DateTimeField(source="membership.submitted_at")
    age_hours = serializers.FloatField()
    target_hours = serializers.IntegerField()
    overdue = serializers.BooleanField()


class DecisionMessageSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=SHORT_TEXT_MAX)


class RejectionSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=SHORT_TEXT_MAX)


class TicketReplySerializer(serializers.ModelSerializer):
    author_email = serializers.EmailField(source="author.user.email", read_only=True)

    class Meta:
        model = TicketReply
        fields = ["id", "author_email", "message", "created_at"]
        read_only_fields = ["id", "author_email", "created_at"]


class SupportTicketSerializer(serializers.ModelSerializer):
    category = serializers.ChoiceField(choices=TicketCategory.choices)
    replies = TicketReplySerializer(many=True, read_only=True)
    author_email = serializers.EmailField(source="author.user.email", read_only=True)

    class Meta:
        model = SupportTicket
        fields = [
            "id",
            "category",
            "subject",
            "message",
            "new_email",
            "status",
            "author_email",
            "created_at",
            "closed_at",
            "replies",
        ]
        read_only_fields = ["id", "status", "author_email", "created_at", "closed_at", "replies"]


OTHER_TICKET_CATEGORIES = [
    (value, label)
    for value, label in TicketCategory.choices
    if value != TicketCategory.EMAIL_CHANGE
]


class GeneralTicketSerializer(SupportTicketSerializer):
    """A question to the organization's admins about anything but the login email."""

    category = serializers.ChoiceField(choices=OTHER_TICKET_CATEGORIES)

    class Meta(SupportTicketSerializer.Meta):
        fields = ["category", "subject", "message"]


class EmailChangeTicketSerializer(SupportTicketSerializer):
    """A request to change the login email (DESIGN §3): ``new_email`` is required, an
    address no other account uses. An admin approves it; it becomes the login once
    confirmed from the link sent to it."""

    category = serializers.ChoiceField(choices=[TicketCategory.EMAIL_CHANGE.value])

    class Meta(SupportTicketSerializer.Meta):
        fields = ["category", "subject", "message", "new_email"]
        extra_kwargs = {"new_email": {"required": True, "allow_blank": False}}


# What POST /tickets takes, as the schema states it: the category decides whether
# ``new_email`` is required. SupportTicketSerializer parses it; tickets.open_ticket
# refuses a missing, unchanged or taken address (400, code ``new_email_required``, …).
TICKET_REQUEST = PolymorphicProxySerializer(
    component_name="NewTicket",
    serializers={
        **{value: GeneralTicketSerializer for value, _label in OTHER_TICKET_CATEGORIES},
        TicketCategory.EMAIL_CHANGE.value: EmailChangeTicketSerializer,
    },
    resource_type_field_name="category",
)


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    code = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=16,
        help_text="Required when the account uses two-factor sign-in: the current code "
        "from the authenticator app.",
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
