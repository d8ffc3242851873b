"""API for attendings' profiles and availability, rotations, date changes and messages
(DESIGN §4, §5, §12).

Views parse, call one service and serialize; the services raise domain errors that
``usdoctors.api.exception_handler`` turns into ``{"detail", "code"}``. A rotation the
caller may not see (another student's, another attending's, another organization's)
answers 404, exactly like an id that does not exist. Querysets are built per request,
inside the request's tenant scope.
"""

from django.db import transaction
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Membership
from rotations import attendings, availability, date_changes, messaging, services
from rotations.api.serializers import (
    AttendingProfileSerializer,
    AvailabilityPublishSerializer,
    AvailabilityWeekSerializer,
    CompletionSerializer,
    DateChangeProposalSerializer,
    DateChangeSerializer,
    MessagePostSerializer,
    MessageSerializer,
    NpiCheckSerializer,
    PostponeSerializer,
    PublishPreviewSerializer,
    ReasonSerializer,
    RotationDetailSerializer,
    RotationRequestSerializer,
    RotationSerializer,
    RotationStatusFilterSerializer,
)
from rotations.choices import DateChangeStatus
from rotations.models import (
    AttendingProfile,
    AvailabilityWeek,
    DateChange,
    Evaluation,
    Message,
    Rotation,
    RotationEvent,
)
from usdoctors.api import HasRole, IsMember, IsOrganizationAdmin, IsStudent, error_responses
from usdoctors.tenancy import current_membership


class IsAttending(HasRole):
    roles = ("attending",)
    message = "Only attendings can use this call."


# Every call needs a member of the request's organization: no or bad credentials answer
# 401, a signed-in user who is not a member 404 (§2), a refusal for the caller's role or
# state 403. Calls taking input add 400, state conflicts 409.
MEMBER_ERRORS = (401, 403, 404)

NO_ATTENDING_PROFILE = (
    "You have no attending profile yet; create it with PUT /api/v1/attending/profile."
)

# --- Attending profile -------------------------------------------------------------------


class AttendingProfileView(APIView):
    """The signed-in attending's own profile (§4).

    ``PUT`` creates the profile (201) or replaces it (200) and needs every required
    field; ``PATCH`` changes some fields of an existing profile (404 before the first
    ``PUT``). Changing the NPI clears the admins' verification of it.
    """

    permission_classes = [IsAttending]

    @extend_schema(responses={200: AttendingProfileSerializer, **error_responses(*MEMBER_ERRORS)})
    def get(self, request):
        return Response(AttendingProfileSerializer(self._profile_or_404(request)).data)

    @extend_schema(
        request=AttendingProfileSerializer,
        responses={
            200: AttendingProfileSerializer,
            201: AttendingProfileSerializer,
            **error_responses(400, *MEMBER_ERRORS),
        },
    )
    def put(self, request):
        membership = current_membership(request)
        with transaction.atomic():
            # One profile per attending: two first PUTs at once wait here for each other.
            Membership.objects.select_for_update().filter(pk=membership.pk).first()
            profile = AttendingProfile.objects.filter(membership=membership).first()
            serializer = AttendingProfileSerializer(profile, data=request.data)
            serializer.is_valid(raise_exception=True)
            if profile is None:
                serializer.save(organization=request.organization, membership=membership)
            else:
                serializer.save()
        created = profile is None
        return Response(
            serializer.data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @extend_schema(
        request=AttendingProfileSerializer,
        responses={200: AttendingProfileSerializer, **error_responses(400, *MEMBER_ERRORS)},
    )
    def patch(self, request):
        serializer = AttendingProfileSerializer(
            self._profile_or_404(request), data=request.data, partial=True
        )
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data)

    def _profile_or_404(self, request) -> AttendingProfile:
        profile = AttendingProfile.objects.filter(membership=current_membership(request)).first()
        if profile is None:
            raise exceptions.NotFound(NO_ATTENDING_PROFILE)
        return profile


class VerifyNpiView(APIView):
    """Mark an attending's NPI number as checked by this organization's admins; students
    then see it "verified by admins". ``registry_checked`` must be true: the admin
    confirms they looked the number up in the NPPES registry (the profile's
    ``npi_registry_url``); else 400 and nothing changes. 409 when the attending has
    entered no NPI; verifying again keeps the first verification time."""

    permission_classes = [IsOrganizationAdmin]

    @extend_schema(
        request=NpiCheckSerializer,
        responses={
            200: AttendingProfileSerializer,
            **error_responses(400, *MEMBER_ERRORS, 409),
        },
    )
    def post(self, request, pk: int):
        attending = get_object_or_404(AttendingProfile, pk=pk)
        serializer = NpiCheckSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attending = attendings.verify_npi(
            attending,
            by=current_membership(request),
            registry_checked=serializer.validated_data["registry_checked"],
        )
        return Response(AttendingProfileSerializer(attending).data)


# --- Availability ------------------------------------------------------------------------


class AvailabilityPublishView(APIView):
    """Publish every week from ``first_week`` to ``last_week`` (Mondays, inclusive) with
    ``capacity`` students at once (§4). Published weeks never change silently: with
    ``preview`` the answer lists the weeks whose capacity would change (old → new) and
    writes nothing; publishing changes them only with that preview's ``confirmation`` as
    ``confirm_changes`` (else 409 ``capacity_change_unconfirmed``). A capacity below a
    week's booked places is always refused (409 ``capacity_below_booked``)."""

    permission_classes = [IsAttending]

    @extend_schema(
        request=AvailabilityPublishSerializer,
        responses={
            200: PublishPreviewSerializer,
            201: AvailabilityWeekSerializer(many=True),
            **error_responses(400, *MEMBER_ERRORS, 409),
        },
    )
    def post(self, request):
        serializer = AvailabilityPublishSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        attending = availability.attending_profile_of(current_membership(request))
        arguments = {
            "first_week": data["first_week"],
            "last_week": data["last_week"],
            "capacity": data["capacity"],
        }
        if data["preview"]:
            plan = availability.plan_publish(attending, **arguments)
            return Response(
                PublishPreviewSerializer({**vars(plan), "confirmation": plan.confirmation}).data
            )
        weeks = availability.publish_weeks(
            attending, **arguments, confirmed=data["confirm_changes"]
        )
        return Response(
            AvailabilityWeekSerializer(weeks, many=True).data, status=status.HTTP_201_CREATED
        )


class AvailabilityWeekView(APIView):
    """Withdraw one of your published weeks; 409 while a student is booked into it."""

    permission_classes = [IsAttending]

    @extend_schema(responses={204: None, **error_responses(*MEMBER_ERRORS, 409)})
    def delete(self, request, pk: int):
        week = get_object_or_404(
            AvailabilityWeek.objects.select_related("attending__membership"), pk=pk
        )
        availability.remove_week(week, by=current_membership(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Rotations ---------------------------------------------------------------------------


def visible_rotation_or_404(request, pk: int) -> Rotation:
    return get_object_or_404(services.visible_rotations(current_membership(request)), pk=pk)


def rotation_detail(request, pk: int, *, status_code: int = status.HTTP_200_OK) -> Response:
    """The rotation as the caller may see it, with its history, open date change,
    evaluation and experience entry, in a fixed number of queries."""
    rotations = (
        services.visible_rotations(current_membership(request))
        .select_related("evaluation")
        .prefetch_related(
            Prefetch(
                "events",
                queryset=RotationEvent.objects.select_related(
                    "by__user", "by__profile", "by__attending_profile"
                ),
            ),
            Prefetch(
                "date_changes",
                queryset=DateChange.objects.filter(status=DateChangeStatus.PROPOSED),
                to_attr="open_date_changes",
            ),
        )
    )
    rotation = get_object_or_404(rotations, pk=pk)
    serializer = RotationDetailSerializer(rotation, context={"viewer": current_membership(request)})
    return Response(serializer.data, status=status_code)


class RotationListView(generics.ListAPIView):
    """``GET``: the rotations you may see (students: theirs; attendings: those requested
    of them; admins: all of the organization's), newest start first, optionally only
    one ``status``. ``POST`` (students): request a rotation; capacity is not taken until
    the attending approves."""

    serializer_class = RotationSerializer

    def get_permissions(self):
        return [IsStudent()] if self.request.method == "POST" else [IsMember()]

    def get_queryset(self):
        rotations = services.visible_rotations(current_membership(self.request))
        filters = RotationStatusFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        if "status" in filters.validated_data:
            rotations = rotations.filter(status=filters.validated_data["status"])
        return rotations

    @extend_schema(
        parameters=[RotationStatusFilterSerializer],
        responses={200: RotationSerializer(many=True), **error_responses(400, *MEMBER_ERRORS)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=RotationRequestSerializer,
        responses={201: RotationDetailSerializer, **error_responses(400, *MEMBER_ERRORS, 409)},
    )
    def post(self, request):
        serializer = RotationRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rotation = services.request_rotation(
            current_membership(request), **serializer.validated_data
        )
        return rotation_detail(request, rotation.pk, status_code=status.HTTP_201_CREATED)


class RotationDetailView(APIView):
    permission_classes = [IsMember]

    @extend_schema(responses={200: RotationDetailSerializer, **error_responses(*MEMBER_ERRORS)})
    def get(self, request, pk: int):
        return rotation_detail(request, pk)


ACTION_ERRORS = error_responses(400, *MEMBER_ERRORS, 409)


class _RotationActionView(APIView):
    """Look the rotation up among those the caller may see (404 otherwise), parse the
    body, call the service, answer with the rotation as it is now."""

    permission_classes = [IsMember]
    request_serializer = None

    def act(self, rotation: Rotation, membership, data: dict) -> None:
        raise NotImplementedError

    def post(self, request, pk: int):
        rotation = visible_rotation_or_404(request, pk)
        data = {}
        if self.request_serializer:
            serializer = self.request_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        self.act(rotation, current_membership(request), data)
        return rotation_detail(request, pk)


class ApproveRotationView(_RotationActionView):
    """The attending approves a request within its response window. The weeks are locked
    and each must still have a free place: 409 names the first full week."""

    @extend_schema(request=None, responses={200: RotationDetailSerializer, **ACTION_ERRORS})
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, rotation, membership, data):
        services.approve_rotation(rotation, by=membership)


class DeclineRotationView(_RotationActionView):
    """The attending declines a request; the student is told, with the reason if given."""

    request_serializer = ReasonSerializer

    @extend_schema(
        request=ReasonSerializer, responses={200: RotationDetailSerializer, **ACTION_ERRORS}
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, rotation, membership, data):
        services.decline_rotation(rotation, by=membership, reason=data["reason"])


class WithdrawRotationView(_RotationActionView):
    """The student withdraws a request the attending has not answered yet."""

    @extend_schema(request=None, responses={200: RotationDetailSerializer, **ACTION_ERRORS})
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, rotation, membership, data):
        services.withdraw_rotation(rotation, by=membership)


class CancelRotationView(_RotationActionView):
    """The student or an admin cancels an approved or on-hold rotation; its places go
    back to the attending and what was paid becomes credit."""

    request_serializer = ReasonSerializer

    @extend_schema(
        request=ReasonSerializer, responses={200: RotationDetailSerializer, **ACTION_ERRORS}
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, rotation, membership, data):
        services.cancel_rotation(rotation, by=membership, reason=data["reason"])


class CompleteRotationView(_RotationActionView):
    """After the end date the attending marks an in-progress rotation completed, with an
    evaluation (1–5 per competency, comments, activities for the experience entry)."""

    request_serializer = CompletionSerializer

    @extend_schema(
        request=CompletionSerializer, responses={200: RotationDetailSerializer, **ACTION_ERRORS}
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, rotation, membership, data):
        ratings = {name: data[name] for name, _label in Evaluation.COMPETENCIES}
        services.complete_rotation(
            rotation,
            by=membership,
            ratings=ratings,
            comments=data["comments"],
            activities=data["activities"],
        )


class PostponeRotationView(_RotationActionView):
    """An admin moves an approved or on-hold rotation to a new start (e.g. illness), with
    the same effect as an accepted date change; the reason is required. Other members get
    403 for the rotations they can see (404 for the rest, like every rotation call)."""

    request_serializer = PostponeSerializer

    @extend_schema(
        request=PostponeSerializer, responses={200: RotationDetailSerializer, **ACTION_ERRORS}
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def act(self, rotation, membership, data):
        date_changes.postpone_rotation(
            rotation, by=membership, new_start=data["new_start"], reason=data["reason"]
        )


# --- Date changes ------------------------------------------------------------------------


class ProposeDateChangeView(APIView):
    """The student proposes a new start for an approved rotation. The new weeks must be
    free now (409, with the hint that cancelling turns what was paid into credit); one
    proposal waits at a time."""

    permission_classes = [IsMember]

    @extend_schema(
        request=DateChangeProposalSerializer,
        responses={201: DateChangeSerializer, **error_responses(400, *MEMBER_ERRORS, 409)},
    )
    def post(self, request, pk: int):
        rotation = visible_rotation_or_404(request, pk)
        serializer = DateChangeProposalSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        change = date_changes.propose_date_change(
            rotation, by=current_membership(request), **serializer.validated_data
        )
        return Response(DateChangeSerializer(change).data, status=status.HTTP_201_CREATED)


def visible_date_change_or_404(request, pk: int) -> DateChange:
    visible = services.visible_rotations(current_membership(request)).values("pk")
    return get_object_or_404(
        DateChange.objects.select_related(
            "rotation__attending__membership__user", "rotation__student__user"
        ).filter(rotation__in=visible),
        pk=pk,
    )


class AcceptDateChangeView(APIView):
    """The attending accepts: the old weeks are released and the new ones taken in one
    locked step; 409 names the first full week and nothing moves."""

    permission_classes = [IsMember]

    @extend_schema(
        request=None,
        responses={200: DateChangeSerializer, **error_responses(*MEMBER_ERRORS, 409)},
    )
    def post(self, request, pk: int):
        change = date_changes.accept_date_change(
            visible_date_change_or_404(request, pk), by=current_membership(request)
        )
        return Response(DateChangeSerializer(change).data)


class DeclineDateChangeView(APIView):
    """The attending declines; the rotation keeps its dates and the student is told they
    may cancel instead."""

    permission_classes = [IsMember]

    @extend_schema(
        request=ReasonSerializer,
        responses={200: DateChangeSerializer, **error_responses(400, *MEMBER_ERRORS, 409)},
    )
    def post(self, request, pk: int):
        change = visible_date_change_or_404(request, pk)
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        change = date_changes.decline_date_change(
            change, by=current_membership(request), reason=serializer.validated_data["reason"]
        )
        return Response(DateChangeSerializer(change).data)


# --- Messages ----------------------------------------------------------------------------


class RotationMessagesView(generics.ListAPIView):
    """The rotation's thread, oldest first. The student and the attending write once the
    rotation is approved (409 before); the organization's admins read it but cannot
    write (403). The other side is emailed at most once every 15 minutes."""

    permission_classes = [IsMember]
    serializer_class = MessageSerializer

    def get_rotation(self) -> Rotation:
        rotation = visible_rotation_or_404(self.request, self.kwargs["pk"])
        if not messaging.can_read(current_membership(self.request), rotation):
            raise exceptions.NotFound()
        return rotation

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request
            return Message.objects.none()
        return Message.objects.filter(rotation=self.get_rotation()).select_related(
            "author__user", "author__profile", "author__attending_profile"
        )

    @extend_schema(responses={200: MessageSerializer(many=True), **error_responses(*MEMBER_ERRORS)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=MessagePostSerializer,
        responses={201: MessageSerializer, **error_responses(400, *MEMBER_ERRORS, 409)},
    )
    def post(self, request, pk: int):
        rotation = self.get_rotation()
        serializer = MessagePostSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = messaging.post_message(
            rotation, author=current_membership(request), body=serializer.validated_data["body"]
        )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)
