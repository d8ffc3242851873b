"""Letters API under /api/v1/ (DESIGN §8, §12).

Views parse, call one service and serialize (STYLE §2). A letter is visible to its
student, its attending and the organization's admins; anyone else — another student or
attending of this organization, any member of another — gets 404, exactly like an id
that does not exist. Who may act on a visible letter is the service's rule (403 for the
wrong role, 409 for the wrong state).

The attending's address reaches the student only through ``lor.services.writer_email``
(the serializer's ``writer_email``), after release.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Membership
from lor import services
from lor.api.serializers import (
    LetterDeclineSerializer,
    LetterFilterSerializer,
    LetterIdSerializer,
    LetterRequestSerializer,
    LetterSerializer,
)
from lor.listing import in_list_order, visible_letters
from lor.models import Letter
from rotations.models import AttendingProfile
from usdoctors.api import IsMember, IsStudent, error_responses
from usdoctors.tenancy import current_membership

# No or bad credentials 401, a refusal for the caller's role 403, not a member of this
# organization (or a letter you may not see) 404.
MEMBER_ERRORS = (401, 403, 404)
ACTION_ERRORS = error_responses(400, *MEMBER_ERRORS, 409)
NO_BODY_ACTION_ERRORS = error_responses(*MEMBER_ERRORS, 409)


def letter_context(viewer: Membership) -> dict:
    return {"viewer": viewer, "today": timezone.localdate()}


def letter_response(request, pk: int, *, status_code: int = status.HTTP_200_OK) -> Response:
    """The letter as the caller may see it now."""
    viewer = current_membership(request)
    letter = get_object_or_404(visible_letters(viewer), pk=pk)
    return Response(
        LetterSerializer(letter, context=letter_context(viewer)).data, status=status_code
    )


def visible_letter_or_404(request, pk: int) -> Letter:
    return get_object_or_404(visible_letters(current_membership(request)), pk=pk)


class LetterListView(generics.ListAPIView):
    """``GET``: the letters you may see. Students: yours, newest first. Attendings: those
    asked of you, open ones (requested, accepted) first, soonest ERAS target date first.
    Admins: all of the organization's, newest first. Optionally only one ``status``.
    ``POST`` (students): ask an attending with whom you completed a rotation here for a
    letter; refused with 409 ``no_completed_rotation``, ``letter_already_requested`` or
    ``does_not_write_letters``, 400 ``season_not_open`` or a bad field, and nothing is
    saved. The attending is emailed the request."""

    serializer_class = LetterSerializer

    def get_permissions(self):
        return [IsStudent()] if self.request.method == "POST" else [IsMember()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request
            return Letter.objects.none()
        viewer = current_membership(self.request)
        filters = LetterFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        letters = visible_letters(viewer)
        if "status" in filters.validated_data:
            letters = letters.filter(status=filters.validated_data["status"])
        return in_list_order(letters, viewer)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context.update(letter_context(current_membership(self.request)))
        return context

    @extend_schema(
        parameters=[LetterFilterSerializer],
        responses={200: LetterSerializer(many=True), **error_responses(400, *MEMBER_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=LetterRequestSerializer,
        responses={201: LetterSerializer, **error_responses(400, *MEMBER_ERRORS, 409)},
    )
    def post(self, request):
        serializer = LetterRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        student = current_membership(request)
        attending = (
            AttendingProfile.objects.filter(
                organization_id=student.organization_id, pk=data["attending"]
            )
            .select_related("membership__user")
            .first()
        )
        if attending is None:
            raise exceptions.NotFound(
                "No such attending in this organization.", code="no_such_attending"
            )
        letter = services.request_letter(
            student,
            attending,
            specialty=data["specialty"],
            season=data["season"],
            message=data["message"],
        )
        return letter_response(request, letter.pk, status_code=status.HTTP_201_CREATED)


class LetterDetailView(APIView):
    """One letter, for its student, its attending and the organization's admins (404 for
    anyone else). The attending sees the student's evaluation from the rotation while
    deciding."""

    permission_classes = [IsMember]

    @extend_schema(responses={200: LetterSerializer, **error_responses(*MEMBER_ERRORS)})
    def get(self, request, pk: int):
        return letter_response(request, pk)


class _LetterActionView(APIView):
    """Look the letter up among those the caller may see (404 otherwise), parse the
    body, call the service, answer with the letter as it is now."""

    permission_classes = [IsMember]
    request_serializer = None

    def act(self, letter: Letter, membership: Membership, data: dict) -> None:
        raise NotImplementedError

    def post(self, request, pk: int):
        letter = visible_letter_or_404(request, pk)
        data = {}
        if self.request_serializer:
            serializer = self.request_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        self.act(letter, current_membership(request), data)
        return letter_response(request, pk)


class AcceptLetterView(_LetterActionView):
    """The attending accepts a requested letter (403 for anyone else, 409 once decided).
    Without a fee the student gets the address at once, in the app and by email; with
    a fee the student is invoiced and gets it once the invoice is paid."""

    @extend_schema(request=None, responses={200: LetterSerializer, **NO_BODY_ACTION_ERRORS})
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, letter, membership, data):
        services.accept_letter(letter, by=membership)


class DeclineLetterView(_LetterActionView):
    """The attending declines a requested letter, with an optional reason the student
    reads (403 for anyone else, 409 once decided). The student may ask again."""

    request_serializer = LetterDeclineSerializer

    @extend_schema(
        request=LetterDeclineSerializer, responses={200: LetterSerializer, **ACTION_ERRORS}
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, letter, membership, data):
        services.decline_letter(letter, by=membership, reason=data["reason"])


class LetterIdView(_LetterActionView):
    """The student attaches the ERAS Letter ID of an accepted letter; the attending is
    emailed it. 400 ``letter_id_required`` or ``letter_id_invalid``; 409
    ``letter_id_in_use`` when another letter here has it, ``wrong_status`` unless the
    letter is accepted; 403 for anyone but the student."""

    request_serializer = LetterIdSerializer

    @extend_schema(request=LetterIdSerializer, responses={200: LetterSerializer, **ACTION_ERRORS})
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, letter, membership, data):
        services.attach_letter_id(letter, by=membership, letter_id=data["letter_id"])


class LetterUploadedView(_LetterActionView):
    """The attending marks an accepted letter uploaded to ERAS; the student is told and
    the reminders stop (403 for anyone else, 409 unless accepted)."""

    @extend_schema(request=None, responses={200: LetterSerializer, **NO_BODY_ACTION_ERRORS})
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, letter, membership, data):
        services.mark_uploaded(letter, by=membership)
