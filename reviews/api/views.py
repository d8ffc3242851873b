"""Reviews API under /api/v1/ (DESIGN §12, §15). Views parse, call one service and
serialize (STYLE §2).

- ``GET /attendings/{id}/reviews``: the reviews of a listed attending the caller may
  read: revealed and not hidden ones for everyone; admins all (hidden ones with the
  reason, not yet revealed ones too). Newest revealed first, paginated.
- ``POST /attendings/{id}/reviews`` (students): review your completed rotation with this
  attending, once, within 30 days of completion.
- ``POST /reviews/{id}/answer`` (the attending reviewed): answer once.
- ``POST /reviews/{id}/hide`` (admins): hide with a reason, which is kept.

Another organization's attending, rotation or review, or a review the caller may not
read yet, answers 404 like an id that does not exist.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from reviews import services
from reviews.api.serializers import (
    ReviewAnswerSerializer,
    ReviewHideSerializer,
    ReviewSerializer,
    ReviewWriteSerializer,
)
from reviews.models import Review
from rotations import search
from rotations.services import visible_rotations
from usdoctors.api import IsMember, IsOrganizationAdmin, IsStudent, error_responses
from usdoctors.tenancy import current_membership

MEMBER_ERRORS = (401, 403, 404)
ATTENDING_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The attending's id."
)
REVIEW_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The review's id."
)


def review_response(request, review: Review, *, status_code=status.HTTP_200_OK) -> Response:
    viewer = current_membership(request)
    review = Review.objects.select_related(
        "rotation", "attending", "student__profile", "student__user"
    ).get(pk=review.pk)
    return Response(ReviewSerializer(review, context={"viewer": viewer}).data, status=status_code)


def visible_review_or_404(request, pk: int) -> Review:
    review = get_object_or_404(Review.objects.select_related("attending", "rotation"), pk=pk)
    if not services.can_see_review(current_membership(request), review):
        raise Http404
    return review


class AttendingReviewsView(generics.ListAPIView):
    """``GET``: the reviews of this attending you may read (revealed and not hidden;
    admins: all, with the hide reason), newest revealed first. ``POST`` (students):
    review your completed rotation with this attending: once, within 30 days of
    completion; refused with 409 ``rotation_not_completed``, ``already_reviewed`` or
    ``review_window_closed``, 400 for a bad field, 404 for a rotation that is not yours
    with this attending, and nothing is saved. The review and the attending's evaluation
    are revealed together: when both are in, or 14 days after completion."""

    serializer_class = ReviewSerializer

    def get_permissions(self):
        return [IsStudent()] if self.request.method == "POST" else [IsMember()]

    def attending(self):
        return get_object_or_404(
            search.public_attendings(self.request.organization), pk=self.kwargs["pk"]
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Review.objects.none()
        return services.visible_reviews(current_membership(self.request), self.attending())

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["viewer"] = current_membership(self.request)
        return context

    @extend_schema(
        parameters=[ATTENDING_ID],
        responses={200: ReviewSerializer(many=True), **error_responses(*MEMBER_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        parameters=[ATTENDING_ID],
        request=ReviewWriteSerializer,
        responses={201: ReviewSerializer, **error_responses(400, *MEMBER_ERRORS, 409)},
    )
    def post(self, request, pk: int):
        attending = self.attending()
        serializer = ReviewWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        rotation = get_object_or_404(
            visible_rotations(current_membership(request)).filter(attending=attending),
            pk=data.pop("rotation"),
        )
        review = services.write_review(rotation, by=current_membership(request), **data)
        return review_response(request, review, status_code=status.HTTP_201_CREATED)


class ReviewAnswerView(APIView):
    """The attending answers a revealed review of theirs, once: 403 for anyone else who
    can read it, 409 ``already_answered`` (or ``review_hidden``), 400 for an empty
    answer."""

    permission_classes = [IsMember]

    @extend_schema(
        parameters=[REVIEW_ID],
        request=ReviewAnswerSerializer,
        responses={200: ReviewSerializer, **error_responses(400, *MEMBER_ERRORS, 409)},
    )
    def post(self, request, pk: int):
        review = visible_review_or_404(request, pk)
        serializer = ReviewAnswerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.answer_review(
            review, by=current_membership(request), text=serializer.validated_data["answer"]
        )
        return review_response(request, review)


class ReviewHideView(APIView):
    """An admin hides a review with a reason, which is kept: the review stops showing
    to students and the attending and stops counting in the attending's summary. 409
    ``already_hidden``; 400 without a reason."""

    permission_classes = [IsOrganizationAdmin]

    @extend_schema(
        parameters=[REVIEW_ID],
        request=ReviewHideSerializer,
        responses={200: ReviewSerializer, **error_responses(400, *MEMBER_ERRORS, 409)},
    )
    def post(self, request, pk: int):
        review = visible_review_or_404(request, pk)
        serializer = ReviewHideSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.hide_review(
            review, by=current_membership(request), reason=serializer.validated_data["reason"]
        )
        return review_response(request, review)
