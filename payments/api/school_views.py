"""API for cards on file and the immigration letter (DESIGN §6, §12): parse → one
service in payments.school / payments.immigration_letter → serialize."""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from payments import cards, immigration_letter
from rotations.services import visible_rotations
from usdoctors.api import IsStudent, error_responses
from usdoctors.errors import Invalid
from usdoctors.tenancy import current_membership


class CardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    source = serializers.ChoiceField(
        choices=["card", "paypal"],
        help_text="card: a card typed into PayPal's card fields (brand, last4); paypal: the "
        "student's PayPal account (paypal_email), paying with what they chose on PayPal.",
    )
    brand = serializers.CharField()
    last4 = serializers.CharField()
    paypal_email = serializers.CharField()
    description = serializers.CharField(help_text='e.g. "VISA ending 1111", "PayPal (…)".')
    setup_token_id = serializers.CharField()


class CardApprovalSerializer(CardSerializer):
    approve_url = serializers.URLField(
        help_text="PayPal's approval page: send the student's browser there."
    )


class CardRequestSerializer(serializers.Serializer):
    setup_token_id = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="PayPal: the setup token the student approved — in PayPal's card fields, "
        "or on PayPal's approval page (the approval_token_id PayPal returns with). "
        "The simulated gateway needs nothing.",
    )


class CardApprovalRequestSerializer(serializers.Serializer):
    return_url = serializers.URLField(
        required=False,
        max_length=2000,
        help_text="Where PayPal sends the student after approving, with approval_token_id; "
        "on this organization's host. Default: the card page's return, which finishes "
        "the setup for the signed-in student.",
    )
    cancel_url = serializers.URLField(
        required=False,
        max_length=2000,
        help_text="Where PayPal sends the student who cancels; on this organization's host. "
        "Default: the card page.",
    )


def card_body(card) -> dict:
    return CardSerializer(card).data


class CardOnFileView(APIView):
    """Put a card on file (school payers, §6). With PayPal, exchange the approved setup
    token for the vault's payment token; with the simulated gateway, save a test card.
    The new card replaces the one on file."""

    permission_classes = [IsStudent]

    @extend_schema(
        request=CardRequestSerializer,
        responses={201: CardSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request):
        body = CardRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        student = current_membership(request)
        if cards.gateway_name(request.organization) == "paypal":
            token = body.validated_data.get("setup_token_id", "")
            if not token:
                raise Invalid("Send the approved setup_token_id.", field="setup_token_id")
            card = cards.finish_paypal_card(student, token)
        else:
            card = cards.save_simulated_card(student)
        return Response(card_body(card), status=status.HTTP_201_CREATED)


class CardSetupTokenView(APIView):
    """PayPal only: start saving a card. Give the answer's ``setup_token_id`` to PayPal's
    card fields; once the student approves it there, post it to payment-methods/card."""

    permission_classes = [IsStudent]

    @extend_schema(
        request=None, responses={201: CardSerializer, **error_responses(400, 401, 403, 404, 409)}
    )
    def post(self, request):
        if cards.gateway_name(request.organization) != "paypal":
            raise Invalid(
                "This organization uses simulated payments: post to payment-methods/card."
            )
        card = cards.start_paypal_card(current_membership(request))
        return Response(card_body(card), status=status.HTTP_201_CREATED)


def _own_url(request, body, field: str, default_name: str) -> str:
    url = body.validated_data.get(field) or request.build_absolute_uri(reverse(default_name))
    if not url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        raise Invalid("Give a URL on this organization's own site.", field=field)
    return url


class CardPayPalApprovalView(APIView):
    """PayPal only: start saving the student's PayPal account without PayPal's scripts.
    Send the student's browser to the answer's ``approve_url``; there they log in to
    PayPal and pick the card (or balance) to keep on file. PayPal then sends them to
    ``return_url`` with ``approval_token_id``: by default our card page's return, which
    finishes it; or post that id as ``setup_token_id`` to payment-methods/card. The
    new card replaces the one on file once finished; until then nothing changes."""

    permission_classes = [IsStudent]

    @extend_schema(
        request=CardApprovalRequestSerializer,
        responses={201: CardApprovalSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request):
        if cards.gateway_name(request.organization) != "paypal":
            raise Invalid(
                "This organization uses simulated payments: post to payment-methods/card."
            )
        body = CardApprovalRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        card = cards.start_paypal_account(
            current_membership(request),
            return_url=_own_url(request, body, "return_url", "card_on_file_return"),
            cancel_url=_own_url(request, body, "cancel_url", "card_on_file_cancel"),
        )
        return Response(
            {**card_body(card), "approve_url": cards.approve_url(card)},
            status=status.HTTP_201_CREATED,
        )


class ImmigrationLetterView(APIView):
    """Ask for the immigration letter of one of your rotations (§6): 400 under 4 weeks,
    409 when the rotation is not going ahead. Answers its invoice; asking again answers
    the same invoice."""

    permission_classes = [IsStudent]

    @extend_schema(
        request=None,
        responses={
            201: inline_serializer(
                "ImmigrationLetterInvoice",
                {
                    "invoice": serializers.IntegerField(),
                    "reference_code": serializers.CharField(),
                    "amount": serializers.DecimalField(max_digits=10, decimal_places=2),
                    "paid": serializers.BooleanField(),
                    "download_url": serializers.CharField(),
                },
            ),
            **error_responses(400, 401, 403, 404, 409),
        },
    )
    def post(self, request, pk: int):
        membership = current_membership(request)
        rotation = get_object_or_404(visible_rotations(membership), pk=pk)
        invoice = immigration_letter.request_immigration_letter(rotation, by=membership)
        installments = list(invoice.installments.all())
        return Response(
            {
                "invoice": invoice.pk,
                "reference_code": invoice.reference_code,
                "amount": str(sum((i.amount + i.card_fee for i in installments), 0)),
                "paid": immigration_letter.is_paid(invoice),
                "download_url": f"/rotations/{rotation.pk}/immigration-letter/letter.pdf",
            },
            status=status.HTTP_201_CREATED,
        )
