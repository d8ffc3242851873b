"""API: search attendings, read one, read their published weeks (DESIGN §4, §12).

Querysets are built per request, inside the request's tenant scope (never as a class
attribute, which would keep the first request's organization filter).
"""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.choices import Specialty
from rotations import search
from rotations.api.search_serializers import (
    AttendingSearchQuerySerializer,
    AttendingSearchResultSerializer,
    AttendingSerializer,
    AttendingWeekSerializer,
)
from rotations.choices import US_STATES, Mode, PracticeSetting, RotationType
from rotations.models import MAX_WEEKS, AvailabilityWeek
from usdoctors.api import IsMember, Pagination, error_responses
from usdoctors.tenancy import current_membership

# Any member may call these: no or bad credentials answer 401, a signed-in user who is not
# a member 404 (§2), a refusal for the caller's role or state 403.
MEMBER_ERRORS = (401, 403, 404)


def _query(name, description, type_=OpenApiTypes.STR, enum=None) -> OpenApiParameter:
    return OpenApiParameter(
        name, type_, OpenApiParameter.QUERY, required=False, description=description, enum=enum
    )


SEARCH_PARAMETERS = [
    _query("specialty", "Only this specialty.", enum=Specialty.values),
    _query("state", "Only this US state (two letters).", enum=[code for code, _ in US_STATES]),
    _query("rotation_type", "Only attendings offering this type.", enum=RotationType.values),
    _query("mode", "Only attendings offering this mode.", enum=Mode.values),
    _query("setting", "Only this practice setting.", enum=PracticeSetting.values),
    _query(
        "has_residency_program",
        "true: the site has a residency program in the specialty; false: it has none.",
        OpenApiTypes.BOOL,
    ),
    _query("max_weekly_rate", "Weekly rate at most this (USD).", OpenApiTypes.DECIMAL),
    _query(
        "weeks",
        f"N, 1–{MAX_WEEKS}: need N consecutive free weeks (published, booked < capacity) "
        "and price N weeks. Attendings whose minimum is above N are left out. Without it "
        "the attending's minimum weeks are used.",
        OpenApiTypes.INT,
    ),
    _query(
        "start_from",
        "The run of free weeks starts on or after this date (any weekday). "
        "Defaults to the first Monday after today.",
        OpenApiTypes.DATE,
    ),
    _query(
        "start_to",
        "The run of free weeks starts on or before this date (any weekday); not before start_from.",
        OpenApiTypes.DATE,
    ),
    _query(
        "eligible_only",
        "true: only attendings the calling student qualifies for (§13) for rotation_type, "
        "or for at least one type they offer. Students only: 400 for other members.",
        OpenApiTypes.BOOL,
    ),
    _query(
        "sort",
        "price: weekly rate ascending. soonest (default): earliest first_start, "
        "attendings without a free week last. reviewed: best reviewed first (average "
        "teaching rating, then number of reviews), attendings without reviews last.",
        enum=list(search.SORTS),
    ),
]
ATTENDING_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The attending's id."
)


class SearchPagination(Pagination):
    """Each page read with its count in one query (rotations.search.SearchPaginator)."""

    django_paginator_class = search.SearchPaginator
    page_size = search.PAGE_SIZE


class AttendingSearchView(generics.ListAPIView):
    """Search the organization's attendings (§4). Any member may search.

    Filters narrow; ``weeks``/``start_from``/``start_to`` ask for N consecutive free
    weeks whose first Monday falls in the window. Each result carries the total for the
    weeks priced and what a card payment would add. Bad parameters answer 400 with
    ``errors`` per parameter.
    """

    permission_classes = [IsMember]
    serializer_class = AttendingSearchResultSerializer
    pagination_class = SearchPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return []
        params = {key: value for key, value in self.request.query_params.items() if value != ""}
        query = AttendingSearchQuerySerializer(data=params)
        query.is_valid(raise_exception=True)
        filters = search.SearchFilters.from_data(query.validated_data)
        return search.search_attendings(
            self.request.organization, filters, student=current_membership(self.request)
        )

    @extend_schema(
        parameters=SEARCH_PARAMETERS,
        responses={
            200: AttendingSearchResultSerializer(many=True),
            **error_responses(400, *MEMBER_ERRORS),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class AttendingDetailView(APIView):
    """One attending's public profile: the NPI with ``npi_verified`` once an admin
    checked it; never the private contact email. Another organization's id is 404."""

    permission_classes = [IsMember]

    @extend_schema(
        parameters=[ATTENDING_ID],
        responses={200: AttendingSerializer, **error_responses(*MEMBER_ERRORS)},
    )
    def get(self, request, pk: int):
        attending = get_object_or_404(search.public_attendings(request.organization), pk=pk)
        return Response(AttendingSerializer(attending).data)


class AttendingAvailabilityView(generics.ListAPIView):
    """An attending's published weeks from today on, in date order, with capacity,
    booked and free places."""

    permission_classes = [IsMember]
    serializer_class = AttendingWeekSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AvailabilityWeek.objects.none()
        attending = get_object_or_404(
            search.public_attendings(self.request.organization), pk=self.kwargs["pk"]
        )
        return search.published_weeks(attending, since=timezone.localdate())

    @extend_schema(
        parameters=[ATTENDING_ID],
        responses={
            200: AttendingWeekSerializer(many=True),
            **error_responses(*MEMBER_ERRORS),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
