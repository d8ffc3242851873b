"""Requirements and eligibility serializers (DESIGN §13, §12)."""

from rest_framework import serializers

from accounts.choices import VisaStatus
from rotations.api.serializers import NamedChoiceField
from rotations.certificates import validate_certificates
from rotations.choices import CurrentStudents, Graduates, RotationType
from rotations.models import STEP2CK_PASSING_SCORE
from rotations.requirements import RequirementSource
from usdoctors.dates import validate_sane_date


class RequirementSerializer(serializers.Serializer):
    """What a student needs for one rotation type. On PUT every field is optional: a
    field left out keeps the value that applies now."""

    current_students = NamedChoiceField(
        CurrentStudents, required=False, help_text="Which current students (IMS) may come."
    )
    graduates = NamedChoiceField(
        Graduates, required=False, help_text="Which graduates (IMG) may come."
    )
    graduated_within_years = serializers.IntegerField(
        min_value=0,
        max_value=60,
        allow_null=True,
        required=False,
        help_text="Required with graduates=within_years: the most years between the "
        "graduation year and the start year. Null otherwise.",
    )
    step1_required = serializers.BooleanField(required=False, help_text="USMLE Step 1 passed.")
    step2ck_required = serializers.BooleanField(
        required=False,
        help_text=f"USMLE Step 2 CK passed (a score of {STEP2CK_PASSING_SCORE} or more).",
    )
    step2ck_minimum_score = serializers.IntegerField(
        min_value=STEP2CK_PASSING_SCORE,
        max_value=300,
        allow_null=True,
        required=False,
        help_text="Optional minimum Step 2 CK score; only with step2ck_required.",
    )
    toefl_minimum = serializers.IntegerField(
        min_value=0,
        max_value=120,
        allow_null=True,
        required=False,
        help_text="Optional TOEFL iBT minimum (total score; the profile holds one score, so "
        "there are no per-section minimums).",
    )
    certificates = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        max_length=10,
        validators=[validate_certificates],
        help_text="Certificate document type codes (bls, acls, hipaa, osha), each once: "
        "an approved document of that type valid on the start day.",
    )
    visa_statuses = serializers.ListField(
        child=NamedChoiceField(VisaStatus),
        required=False,
        max_length=len(VisaStatus.values),
        help_text="Visa statuses accepted; empty: every status.",
    )
    application_fee = serializers.DecimalField(
        max_digits=8,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text="Non-refundable application fee, USD.",
    )
    housing_included = serializers.BooleanField(required=False)


class AppliedRequirementSerializer(RequirementSerializer):
    rotation_type = NamedChoiceField(RotationType, read_only=True)
    source = NamedChoiceField(
        RequirementSource,
        read_only=True,
        help_text="attending: the attending's own; organization: the organization's "
        "default; built_in: neither exists, nothing is asked.",
    )


class EligibilityQuerySerializer(serializers.Serializer):
    rotation_type = serializers.ChoiceField(choices=RotationType.choices, required=False)
    start = serializers.DateField(required=False, validators=[validate_sane_date])
