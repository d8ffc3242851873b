"""API for accounts (DESIGN §12): me, profile, token, verification, tickets, students."""

from allauth.account.models import EmailAddress
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, generics, status
from rest_framework.authtoken.models import Token
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import login_limits, services, tickets
from accounts.api.serializers import (
    TICKET_REQUEST,
    DecisionMessageSerializer,
    MeSerializer,
    QueueEntrySerializer,
    RejectionSerializer,
    StudentProfileSerializer,
    SupportTicketSerializer,
    TicketReplySerializer,
    TokenRequestSerializer,
    TokenSerializer,
)
from accounts.models import StudentProfile, SupportTicket
from accounts.privacy import visible_student_or_404
from usdoctors.api import IsMember, IsOrganizationAdmin, IsStudent, error_responses
from usdoctors.errors import Invalid
from usdoctors.parsers import JSONParser
from usdoctors.tenancy import current_membership

# Every call but POST /auth/token needs a member of the request's organization: no or bad
# credentials answer 401, a signed-in user who is not a member 404 (§2), a refusal for the
# caller's role or state 403. Calls taking input add 400, state conflicts 409.
MEMBER_ERRORS = (401, 403, 404)


class MeView(APIView):
    permission_classes = [IsMember]

    @extend_schema(responses={200: MeSerializer, **error_responses(*MEMBER_ERRORS)})
    def get(self, request):
        return Response(MeSerializer(current_membership(request)).data)


class ProfileView(APIView):
    """The signed-in student's profile. Editable while ``incomplete`` or ``needs_info``;
    409 while under review or once decided."""

    permission_classes = [IsStudent]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(responses={200: StudentProfileSerializer, **error_responses(*MEMBER_ERRORS)})
    def get(self, request):
        return Response(StudentProfileSerializer(current_membership(request).profile).data)

    @extend_schema(
        request=StudentProfileSerializer,
        responses={200: StudentProfileSerializer, **error_responses(400, *MEMBER_ERRORS, 409)},
    )
    def patch(self, request):
        membership = current_membership(request)
        services.ensure_profile_editable(membership)
        serializer = StudentProfileSerializer(membership.profile, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data)


class ProfileSubmitView(APIView):
    """Submit the profile for verification: ``incomplete``/``needs_info`` → ``pending``."""

    permission_classes = [IsStudent]

    @extend_schema(
        request=None,
        responses={200: StudentProfileSerializer, **error_responses(400, *MEMBER_ERRORS, 409)},
    )
    def post(self, request):
        membership = services.submit_profile(current_membership(request))
        return Response(StudentProfileSerializer(membership.profile).data)


class TokenView(APIView):
    """Exchange email and password for an API token (``Authorization: Token <key>``).
    The email must be verified and the user a member of this organization; an account
    with two-factor sign-in also sends its authenticator app's current ``code``."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: TokenSerializer, **error_responses(400, 429)},
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            user = self.signed_in_member(request, serializer.validated_data)
        except login_limits.TooManyLoginAttempts as refused:
            raise exceptions.Throttled(wait=refused.retry_after, detail=refused.message) from None
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})

    @staticmethod
    def signed_in_member(request, data: dict):
        """The member these credentials (and two-factor code) sign in, else Invalid;
        TooManyLoginAttempts once the account or address is out of attempts."""
        user = login_limits.authenticate(
            request, email=data["email"].lower(), password=data["password"]
        )
        if user is None or not user.is_active:
            raise Invalid("Email or password is not right.", code="invalid_credentials")
        if not EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True):
            raise Invalid("Confirm your email address first.", code="email_unverified")
        request.user = user
        if current_membership(request) is None:
            raise Invalid("Email or password is not right.", code="invalid_credentials")
        login_limits.verify_second_factor(request, user, data.get("code", ""))
        return user


@extend_schema_view(
    get=extend_schema(
        responses={200: QueueEntrySerializer(many=True), **error_responses(*MEMBER_ERRORS)}
    )
)
class VerificationQueueView(generics.ListAPIView):
    """Pending profiles, oldest first, with their age and the organization's target."""

    permission_classes = [IsOrganizationAdmin]
    serializer_class = QueueEntrySerializer

    def get_queryset(self):
        return services.verification_queue(self.request.organization)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        now = timezone.now()
        target = request.organization.verification_target_hours
        rows = [
            {
                "membership": membership,
                "age_hours": round(services.pending_age(membership, now).total_seconds() / 3600, 2),
                "target_hours": target,
                "overdue": services.is_overdue(membership, now),
            }
            for membership in page
        ]
        return self.get_paginated_response(QueueEntrySerializer(rows, many=True).data)


@extend_schema_view(
    get=extend_schema(responses={200: StudentProfileSerializer, **error_responses(*MEMBER_ERRORS)})
)
class AdminProfileView(generics.RetrieveAPIView):
    permission_classes = [IsOrganizationAdmin]
    serializer_class = StudentProfileSerializer

    def get_queryset(self):
        # Built per request, inside the request's tenant scope. A class-level queryset is
        # built once, at import, inside whichever organization's request first loaded the
        # URLconf: every later request would reuse that organization's filter (§2).
        return StudentProfile.objects.select_related("membership__user")


class _ProfileDecisionView(APIView):
    permission_classes = [IsOrganizationAdmin]
    request_serializer = None

    def decide(self, membership, admin, data):
        raise NotImplementedError

    def post(self, request, pk: int):
        profile = get_object_or_404(StudentProfile, pk=pk)
        data = {}
        if self.request_serializer:
            serializer = self.request_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        self.decide(profile.membership, current_membership(request), data)
        profile.refresh_from_db()
        return Response(StudentProfileSerializer(profile).data)


DECISION_ERRORS = error_responses(400, *MEMBER_ERRORS, 409)


class VerifyProfileView(_ProfileDecisionView):
    @extend_schema(request=None, responses={200: StudentProfileSerializer, **DECISION_ERRORS})
    def post(self, request, pk: int):
        return super().post(request, pk)

    def decide(self, membership, admin, data):
        services.verify_profile(membership, by=admin)


class RequestInfoView(_ProfileDecisionView):
    request_serializer = DecisionMessageSerializer

    @extend_schema(
        request=DecisionMessageSerializer,
        responses={200: StudentProfileSerializer, **DECISION_ERRORS},
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def decide(self, membership, admin, data):
        services.request_profile_info(membership, by=admin, message=data["message"])


class RejectProfileView(_ProfileDecisionView):
    request_serializer = RejectionSerializer

    @extend_schema(
        request=RejectionSerializer, responses={200: StudentProfileSerializer, **DECISION_ERRORS}
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def decide(self, membership, admin, data):
        services.reject_profile(membership, by=admin, reason=data["reason"])


def _visible_tickets(request):
    return tickets.visible_tickets(current_membership(request)).prefetch_related(
        "replies__author__user"
    )


@extend_schema_view(
    get=extend_schema(
        responses={200: SupportTicketSerializer(many=True), **error_responses(*MEMBER_ERRORS)}
    )
)
class TicketListView(generics.ListCreateAPIView):
    """Your tickets (admins: all of the organization's). ``email_change`` needs
    ``new_email``, an address no other account uses."""

    permission_classes = [IsMember]
    serializer_class = SupportTicketSerializer

    def get_queryset(self):
        return _visible_tickets(self.request)

    @extend_schema(
        request=TICKET_REQUEST,
        responses={201: SupportTicketSerializer, **error_responses(400, *MEMBER_ERRORS)},
    )
    def post(self, request, *args, **kwargs):
        serializer = SupportTicketSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket = tickets.open_ticket(current_membership(request), **serializer.validated_data)
        return Response(SupportTicketSerializer(ticket).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(responses={200: SupportTicketSerializer, **error_responses(*MEMBER_ERRORS)})
)
class TicketDetailView(generics.RetrieveAPIView):
    permission_classes = [IsMember]
    serializer_class = SupportTicketSerializer

    def get_queryset(self):
        return _visible_tickets(self.request)


class TicketReplyView(APIView):
    permission_classes = [IsMember]

    @extend_schema(
        request=TicketReplySerializer,
        responses={201: TicketReplySerializer, **error_responses(400, *MEMBER_ERRORS, 409)},
    )
    def post(self, request, pk: int):
        ticket = get_object_or_404(_visible_tickets(request), pk=pk)
        serializer = TicketReplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reply = tickets.reply_to_ticket(
            ticket, author=current_membership(request), message=serializer.validated_data["message"]
        )
        return Response(TicketReplySerializer(reply).data, status=status.HTTP_201_CREATED)


class TicketCloseView(APIView):
    """Close a ticket: its asker or an admin (``accounts.tickets.close_ticket``). Someone
    else's ticket answers 404; a closed ticket, or an approved email change waiting for
    its confirmation, 409."""

    permission_classes = [IsMember]

    @extend_schema(
        request=None,
        responses={200: SupportTicketSerializer, **error_responses(*MEMBER_ERRORS, 409)},
    )
    def post(self, request, pk: int):
        ticket = get_object_or_404(_visible_tickets(request), pk=pk)
        ticket = tickets.close_ticket(ticket, by=current_membership(request))
        return Response(SupportTicketSerializer(ticket).data)


class TicketApproveView(APIView):
    """Approve an email-change ticket: the new address is sent a confirmation link and
    becomes the login once confirmed."""

    permission_classes = [IsOrganizationAdmin]

    @extend_schema(
        request=None,
        responses={200: SupportTicketSerializer, **error_responses(400, *MEMBER_ERRORS, 409)},
    )
    def post(self, request, pk: int):
        ticket = get_object_or_404(SupportTicket, pk=pk)
        ticket = tickets.approve_email_change(
            ticket, by=current_membership(request), request=request._request
        )
        return Response(SupportTicketSerializer(ticket).data)


class StudentDetailView(APIView):
    """A student's profile: visible to the student, the organization's admins and
    attendings with an approved or in-progress rotation with them; otherwise 404."""

    permission_classes = [IsMember]

    @extend_schema(responses={200: StudentProfileSerializer, **error_responses(*MEMBER_ERRORS)})
    def get(self, request, pk: int):
        profile = get_object_or_404(
            StudentProfile.objects.select_related("membership__user"), pk=pk
        )
        visible_student_or_404(current_membership(request), profile.membership)
        return Response(StudentProfileSerializer(profile).data)
