"""API for cards on file and the immigration letter (DESIGN §6, §12): parse → one
service in payments.school / payments.immigration_letter → serialize."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from payments import immigration_letter, school
from rotations.services import visible_rotations
from usdoctors.api import IsStudent, error_responses
from usdoctors.errors import Invalid
from usdoctors.tenancy import current_membership


class CardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    brand = serializers.CharField()
    last4 = serializers.CharField()
    setup_token_id = serializers.CharField()


class CardRequestSerializer(serializers.Serializer):
    setup_token_id = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="PayPal: the setup token the student approved in PayPal's card fields. "
        "The simulated gateway needs nothing.",
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
        if school.gateway_name(request.organization) == "paypal":
            token = body.validated_data.get("setup_token_id", "")
            if not token:
                raise Invalid("Send the approved setup_token_id.", field="setup_token_id")
            card = school.finish_paypal_card(student, token)
        else:
            card = school.save_simulated_card(student)
        return Response(card_body(card), status=status.HTTP_201_CREATED)


class CardSetupTokenView(APIView):
    """PayPal only: start saving a card. Give the answer's ``setup_token_id`` to PayPal's
    card fields; once the student approves it there, post it to payment-methods/card."""

    permission_classes = [IsStudent]

    @extend_schema(
        request=None, responses={201: CardSerializer, **error_responses(400, 401, 403, 404, 409)}
    )
    def post(self, request):
        if school.gateway_name(request.organization) != "paypal":
            raise Invalid(
                "This organization uses simulated payments: post to payment-methods/card."
            )
        card = school.start_paypal_card(current_membership(request))
        return Response(card_body(card), status=status.HTTP_201_CREATED)


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
