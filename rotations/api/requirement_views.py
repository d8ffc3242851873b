"""API: requirements per rotation type and the eligibility check (DESIGN §13, §12).

Anyone in the organization reads an attending's requirements; only that attending
changes them (403 for anyone else), only admins change the organization's defaults.
Another organization's attending id answers 404.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from rotations import eligibility, requirements, search
from rotations.api.requirement_serializers import (
    AppliedRequirementSerializer,
    EligibilityQuerySerializer,
    RequirementSerializer,
)
from rotations.api.search_serializers import EligibilitySerializer
from rotations.choices import RotationType
from rotations.requirements import FIELDS
from usdoctors.api import IsMember, IsOrganizationAdmin, IsStudent, error_responses
from usdoctors.dates import next_monday
from usdoctors.errors import Invalid
from usdoctors.tenancy import current_membership

ATTENDING_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The attending's id."
)
ROTATION_TYPE = OpenApiParameter(
    "rotation_type", OpenApiTypes.STR, OpenApiParameter.PATH, enum=RotationType.values
)


def _as_json(applied) -> dict:
    row = applied.requirement
    return AppliedRequirementSerializer(
        {
            "rotation_type": row.rotation_type,
            "source": applied.source,
            **{name: getattr(row, name) for name in FIELDS},
        }
    ).data


def _attending(request, pk):
    return get_object_or_404(search.public_attendings(request.organization), pk=pk)


def _type(rotation_type: str) -> str:
    if rotation_type not in RotationType.values:
        raise Invalid(
            f"Choose a rotation type: {', '.join(RotationType.values)}.",
            code="type_invalid",
            field="rotation_type",
        )
    return rotation_type


class AttendingRequirementsView(APIView):
    """What students need for each rotation type the attending offers: their own
    requirements, else the organization's default, else nothing (``source``)."""

    permission_classes = [IsMember]

    @extend_schema(
        parameters=[ATTENDING_ID],
        responses={
            200: AppliedRequirementSerializer(many=True),
            **error_responses(401, 403, 404),
        },
    )
    def get(self, request, pk: int):
        attending = _attending(request, pk)
        rows = requirements.rows_for(request.organization, [attending.pk])
        return Response(
            [
                _as_json(requirements.choose(rows, request.organization, attending.pk, kind))
                for kind in requirements.types_for_settings(attending)
            ]
        )


class AttendingRequirementView(APIView):
    """PUT: the attending saves their requirements for one type they offer (fields left
    out keep what applies now). DELETE: back to the organization's default. Only the
    attending themselves: 403 for anyone else; bad values 400 with every field's error."""

    permission_classes = [IsMember]

    @extend_schema(
        parameters=[ATTENDING_ID, ROTATION_TYPE],
        request=RequirementSerializer,
        responses={
            200: AppliedRequirementSerializer,
            **error_responses(400, 401, 403, 404),
        },
    )
    def put(self, request, pk: int, rotation_type: str):
        attending = _attending(request, pk)
        body = RequirementSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        requirements.set_attending_requirements(
            attending,
            _type(rotation_type),
            dict(body.validated_data),
            by=current_membership(request),
        )
        return Response(_as_json(requirements.applied_for(attending, rotation_type)))

    @extend_schema(
        parameters=[ATTENDING_ID, ROTATION_TYPE],
        request=None,
        responses={204: None, **error_responses(400, 401, 403, 404)},
    )
    def delete(self, request, pk: int, rotation_type: str):
        attending = _attending(request, pk)
        requirements.reset_to_default(
            attending, _type(rotation_type), by=current_membership(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class DefaultRequirementsView(APIView):
    """The organization's default requirements for every rotation type (``built_in``
    where none is set). Any member reads them."""

    permission_classes = [IsMember]

    @extend_schema(
        responses={200: AppliedRequirementSerializer(many=True), **error_responses(401, 403, 404)}
    )
    def get(self, request):
        rows = requirements.rows_for(request.organization, [])
        return Response(
            [
                _as_json(requirements.choose(rows, request.organization, None, kind))
                for kind in RotationType.values
            ]
        )


class DefaultRequirementView(APIView):
    """An admin saves the organization's default for one type (fields left out keep
    what applies now); attendings without their own follow it."""

    permission_classes = [IsOrganizationAdmin]

    @extend_schema(
        parameters=[ROTATION_TYPE],
        request=RequirementSerializer,
        responses={200: AppliedRequirementSerializer, **error_responses(400, 401, 403, 404)},
    )
    def put(self, request, rotation_type: str):
        body = RequirementSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        requirements.set_organization_default(
            request.organization,
            _type(rotation_type),
            dict(body.validated_data),
            by=current_membership(request),
        )
        return Response(
            _as_json(
                requirements.applied_for(None, rotation_type, organization=request.organization)
            )
        )


class AttendingEligibilityView(APIView):
    """Whether the calling student qualifies for the attending's rotation types (§13):
    for ``rotation_type`` when given, else for each type the attending offers, judged for
    a rotation starting on ``start`` (default: next Monday). ``eligible`` is true when
    at least one type answered is. Students only (403)."""

    permission_classes = [IsStudent]

    @extend_schema(
        parameters=[
            ATTENDING_ID,
            OpenApiParameter(
                "rotation_type",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                required=False,
                enum=RotationType.values,
                description="Only this type. Default: each type the attending offers.",
            ),
            OpenApiParameter(
                "start",
                OpenApiTypes.DATE,
                OpenApiParameter.QUERY,
                required=False,
                description="The rotation's start (default: next Monday): final year, "
                "years since graduation and certificates are judged for it.",
            ),
        ],
        responses={
            200: {
                "type": "object",
                "properties": {
                    "attending": {"type": "integer"},
                    "on": {"type": "string", "format": "date"},
                    "eligible": {"type": "boolean"},
                    "types": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/Eligibility"},
                    },
                },
                "required": ["attending", "on", "eligible", "types"],
            },
            **error_responses(400, 401, 403, 404),
        },
    )
    def get(self, request, pk: int):
        attending = _attending(request, pk)
        query = EligibilityQuerySerializer(
            data={key: value for key, value in request.query_params.items() if value != ""}
        )
        query.is_valid(raise_exception=True)
        on = query.validated_data.get("start") or next_monday()
        kinds = (
            [query.validated_data["rotation_type"]]
            if query.validated_data.get("rotation_type")
            else requirements.types_for_settings(attending)
        )
        student = current_membership(request)
        facts = eligibility.student_facts(student, on=on)
        answers = eligibility.judge_many(
            facts, request.organization, [attending], lambda _attending: kinds
        )[attending.pk]
        return Response(
            {
                "attending": attending.pk,
                "on": on,
                "eligible": any(answer.eligible for answer in answers),
                "types": EligibilitySerializer(answers, many=True).data,
            }
        )
