"""The match-season planner API (DESIGN §14): ``GET /api/v1/planner`` and
``PUT /api/v1/planner/target``. The rules are ``lor.planner``'s; these views parse,
call it and serialize (STYLE §2)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.choices import Specialty
from lor import planner
from lor.models import MAX_VISA_WAIT_WEEKS, LetterStatus
from rotations.api.serializers import NamedChoiceField
from rotations.choices import Mode, RotationStatus
from usdoctors.api import IsStudent, error_responses
from usdoctors.tenancy import current_membership

MEMBER_ERRORS = (401, 403, 404)


class SeasonSerializer(serializers.Serializer):
    match_year = serializers.IntegerField()
    eras_opens_on = serializers.DateField()
    submission_opens_on = serializers.DateField(help_text="Applicants may submit from this day.")
    programs_review_on = serializers.DateField()
    rank_deadline_on = serializers.DateField()
    match_day = serializers.DateField()


class TargetSerializer(serializers.Serializer):
    match_year = serializers.IntegerField(
        min_value=1, help_text="A Match year whose season dates are published (Match Day ahead)."
    )
    specialty = NamedChoiceField(Specialty)
    visa_wait_weeks = serializers.IntegerField(
        min_value=0,
        max_value=MAX_VISA_WAIT_WEEKS,
        help_text="The consulate's wait for a visa appointment; 0 when no visa is needed.",
    )


class SuggestionSerializer(serializers.Serializer):
    weeks = serializers.IntegerField()
    start = serializers.DateField()
    finish_by = serializers.DateField()
    book_by = serializers.DateField()
    words = serializers.SerializerMethodField()

    def get_words(self, suggestion) -> str:
        return suggestion.words()


class PlannedRotationSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="rotation.pk")
    title = serializers.CharField()
    attending = serializers.CharField(source="rotation.attending.display_name")
    status = NamedChoiceField(RotationStatus, source="rotation.status")
    mode = NamedChoiceField(Mode, source="rotation.mode")
    start = serializers.DateField()
    end = serializers.DateField()
    must_end_by = serializers.DateField(
        help_text="The latest letter upload minus this attending's letter turnaround."
    )
    book_by = serializers.DateField(
        help_text="Start minus the booking lead minus the consulate wait (in person only)."
    )
    too_late = serializers.BooleanField(help_text="Ends after must_end_by: no letter this season.")
    older_than_a_year = serializers.BooleanField(
        help_text="Ends more than 12 months before submission."
    )
    counts = serializers.BooleanField(help_text="Counts towards the 13 weeks of experience.")
    booking_late = serializers.BooleanField(help_text="Still requested after its book_by date.")


class PlannedLetterSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="letter.pk")
    attending = serializers.CharField(source="letter.attending.display_name")
    specialty = NamedChoiceField(Specialty, source="letter.specialty")
    season = serializers.IntegerField(source="letter.season")
    status = NamedChoiceField(LetterStatus, source="letter.status")
    target_on = serializers.DateField(source="letter.target_on")
    counts = serializers.BooleanField()
    cannot_arrive = serializers.BooleanField()


class PlannedDocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="document.pk")
    document_type = serializers.CharField(source="document.document_type.code")
    name = serializers.CharField(source="document.document_type.name")
    expires_on = serializers.DateField()
    expires_too_soon = serializers.BooleanField()


class WarningSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    on = serializers.DateField(allow_null=True)


class MilestoneSerializer(serializers.Serializer):
    on = serializers.DateField()
    until = serializers.DateField(allow_null=True)
    kind = serializers.ChoiceField(choices=["season", "deadline", "rotation", "letter", "document"])
    label = serializers.CharField()
    detail = serializers.CharField()
    warning = serializers.CharField()


class PlanSerializer(serializers.Serializer):
    target = TargetSerializer(allow_null=True, help_text="Null until the student sets one.")
    season = SeasonSerializer(
        allow_null=True, help_text="Null when no season dates are published for the year."
    )
    booking_lead_weeks = serializers.IntegerField()
    visa_wait_weeks = serializers.IntegerField()
    submission = serializers.DateField(allow_null=True)
    letters_due = serializers.DateField(
        allow_null=True, help_text="Submission minus 5 business days (ECFMG processing)."
    )
    rotations_end_by = serializers.DateField(
        allow_null=True, help_text="letters_due minus the default 14-day letter turnaround."
    )
    recent_since = serializers.DateField(
        allow_null=True, help_text="Experience ending before this day is older than 12 months."
    )
    suggestion = SuggestionSerializer(allow_null=True)
    experience_weeks = serializers.IntegerField()
    experience_target = serializers.IntegerField()
    specialty_letters = serializers.IntegerField()
    letters_target = serializers.IntegerField()
    next_deadline = MilestoneSerializer(allow_null=True)
    rotations = PlannedRotationSerializer(many=True)
    letters = PlannedLetterSerializer(many=True)
    documents = PlannedDocumentSerializer(many=True)
    warnings = WarningSerializer(many=True)
    timeline = MilestoneSerializer(many=True)


def plan_response(request) -> Response:
    plan = planner.build_plan(current_membership(request), today=timezone.localdate())
    return Response(PlanSerializer(plan).data)


class PlannerView(APIView):
    """``GET`` (students): your plan for your target season (or, before you set a
    target, the next season whose submission date is ahead), worked back from the day
    applicants may submit: letters due 5 business days before it, rotations ending by
    that minus each attending's letter turnaround, booking by the start minus the
    organization's booking lead and your consulate wait; with your rotations, letters,
    documents, the warnings and your progress towards 13 weeks of experience and 2
    letters in your specialty from the last 12 months."""

    permission_classes = [IsStudent]

    @extend_schema(responses={200: PlanSerializer, **error_responses(*MEMBER_ERRORS)})
    def get(self, request):
        return plan_response(request)


class PlannerTargetView(APIView):
    """``PUT`` (students): set your target — a Match year whose season dates are
    published and whose Match Day is ahead (else 400 ``season_not_open``), a specialty,
    and the consulate wait in weeks (0–52). Answers with the plan that follows it; a
    refusal changes nothing."""

    permission_classes = [IsStudent]

    @extend_schema(
        request=TargetSerializer,
        responses={200: PlanSerializer, **error_responses(400, *MEMBER_ERRORS)},
    )
    def put(self, request):
        serializer = TargetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        planner.set_match_target(
            current_membership(request), today=timezone.localdate(), **serializer.validated_data
        )
        return plan_response(request)
