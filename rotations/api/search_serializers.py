"""Attending search and profile serializers (DESIGN §4, §12). ``contact_email`` is
private (§8) and appears in none of them."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.choices import Specialty
from rotations.api.serializers import NamedChoiceField
from rotations.choices import US_STATES, Mode, NpiVerifiedBy, PracticeSetting, RotationType
from rotations.models import MAX_WEEKS, AttendingProfile, AvailabilityWeek
from rotations.search import SORT_SOONEST, SORTS
from usdoctors.api import ListOutput
from usdoctors.dates import validate_sane_date

WEEKS_MESSAGE = f"A rotation lasts 1 to {MAX_WEEKS} weeks."


class AttendingSearchQuerySerializer(serializers.Serializer):
    """The query parameters of ``GET /attendings``; every one is optional."""

    specialty = serializers.ChoiceField(choices=Specialty.choices, required=False)
    state = serializers.ChoiceField(choices=US_STATES, required=False)
    rotation_type = serializers.ChoiceField(choices=RotationType.choices, required=False)
    mode = serializers.ChoiceField(choices=Mode.choices, required=False)
    setting = serializers.ChoiceField(choices=PracticeSetting.choices, required=False)
    has_residency_program = serializers.BooleanField(required=False)
    max_weekly_rate = serializers.DecimalField(
        max_digits=8, decimal_places=2, min_value=0, required=False
    )
    weeks = serializers.IntegerField(
        min_value=1,
        max_value=MAX_WEEKS,
        required=False,
        error_messages={"min_value": WEEKS_MESSAGE, "max_value": WEEKS_MESSAGE},
    )
    start_from = serializers.DateField(required=False, validators=[validate_sane_date])
    start_to = serializers.DateField(required=False, validators=[validate_sane_date])
    sort = serializers.ChoiceField(choices=list(SORTS.items()), default=SORT_SOONEST)
    eligible_only = serializers.BooleanField(required=False)


class UnmetItemSerializer(ListOutput, serializers.Serializer):
    """One requirement the student does not meet (rotations.eligibility)."""

    code = serializers.CharField(
        read_only=True,
        help_text="profile_not_verified, type_not_for_kind, visa_not_hands_on, "
        "current_students_not_accepted, not_final_year, graduates_not_accepted, "
        "graduated_too_long_ago, step1_needed, step2ck_needed, toefl_needed, "
        "certificate_missing or visa_not_accepted.",
    )
    message = serializers.CharField(
        read_only=True, help_text='For the student: "TOEFL 100 needed, you have 95."'
    )
    needed = serializers.CharField(read_only=True, help_text="What the requirement asks.")
    have = serializers.CharField(read_only=True, help_text="What the student has.")


class EligibilitySerializer(ListOutput, serializers.Serializer):
    """Whether the student qualifies for one rotation type with the attending (§13)."""

    rotation_type = NamedChoiceField(RotationType, read_only=True)
    eligible = serializers.BooleanField(read_only=True)
    on = serializers.DateField(
        read_only=True, help_text="The rotation start the answer is judged for."
    )
    unmet = UnmetItemSerializer(many=True, read_only=True, help_text="Empty when eligible.")


class AttendingSerializer(ListOutput, serializers.ModelSerializer):
    """An attending as students see them, with what is verified and when (§15):
    ``npi_verified`` and ``npi_verified_by`` (``registry``: the NPPES registry matched
    the name and specialty; ``manual``: an admin checked it by hand), and the dates
    admins approved the licence and the board certification (null: not verified). The
    review summary (§15) counts the reviews of completed rotations that admins have not
    hidden."""

    npi_verified = serializers.BooleanField(read_only=True)
    npi_verified_by = NamedChoiceField(
        NpiVerifiedBy, source="npi_verification", read_only=True, allow_null=True
    )
    review_count = serializers.IntegerField(
        read_only=True, help_text="Reviews from completed rotations that count (not hidden)."
    )
    review_average = serializers.SerializerMethodField(
        help_text="Their average teaching rating, 1–5; null while there are none."
    )
    recommend_percent = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="The share of them that would recommend the attending, in percent.",
    )
    no_patient_contact_flag = serializers.BooleanField(
        read_only=True,
        help_text="Two or more students reported no patient contact on a hands-on "
        "rotation type (clerkship, elective, externship).",
    )
    # Named enums shared with the rest of the rotations API (one component per choice set).
    specialty = NamedChoiceField(Specialty, read_only=True)
    rotation_types = serializers.ListField(child=NamedChoiceField(RotationType), read_only=True)
    modes = serializers.ListField(child=NamedChoiceField(Mode), read_only=True)

    class Meta:
        model = AttendingProfile
        fields = [
            "id",
            *AttendingProfile.public_fields(),
            "npi_verified",
            "npi_verified_by",
            "npi_verified_at",
            "licence_verified_at",
            "board_certification_verified_at",
            "review_count",
            "review_average",
            "recommend_percent",
            "no_patient_contact_flag",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DecimalField(max_digits=3, decimal_places=2, allow_null=True))
    def get_review_average(self, attending):
        return f"{attending.review_average:.2f}" if attending.review_count else None


class AttendingSearchResultSerializer(AttendingSerializer):
    """A search result: the attending, plus the price of ``weeks`` weeks and when."""

    weeks = serializers.IntegerField(
        source="search.weeks",
        read_only=True,
        help_text="The weeks priced: the `weeks` asked for, else the attending's minimum.",
    )
    total = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        source="search.total",
        read_only=True,
        help_text="weekly_rate × weeks, USD.",
    )
    card_surcharge = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        source="search.card_surcharge",
        read_only=True,
        help_text="What paying the total by card adds (the organization's rate); "
        "Zelle and wire add nothing. 0.00 when card surcharges are off.",
    )
    first_start = serializers.DateField(
        source="search.first_start",
        read_only=True,
        allow_null=True,
        help_text="With a weeks filter: the earliest Monday a qualifying run starts. "
        "Otherwise the soonest free week. Null when there is none.",
    )
    eligibility = EligibilitySerializer(
        source="search.eligibility",
        many=True,
        read_only=True,
        help_text="For a student: whether they qualify for each rotation type (the type "
        "searched for, else each type offered), judged for a start on start_from (at "
        "least next Monday). Empty for other members.",
    )
    housing_included = serializers.ListField(
        child=NamedChoiceField(RotationType),
        source="search.housing_types",
        read_only=True,
        help_text="The rotation types (the one searched for, else each type offered) whose "
        "requirement includes housing; empty when none does.",
    )

    class Meta(AttendingSerializer.Meta):
        fields = [
            *AttendingSerializer.Meta.fields,
            "weeks",
            "total",
            "card_surcharge",
            "first_start",
            "eligibility",
            "housing_included",
        ]
        read_only_fields = fields


class AttendingWeekSerializer(serializers.ModelSerializer):
    free = serializers.IntegerField(read_only=True, help_text="capacity − booked")

    class Meta:
        model = AvailabilityWeek
        fields = ["id", "week_start", "capacity", "booked", "free"]
        read_only_fields = fields
