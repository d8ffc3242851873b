"""``POST /api/v1/payments/paypal/webhook`` (DESIGN §6, §12): PayPal's deliveries for the
organization whose host they arrive on. Thin: the raw body and headers go to
``payments.webhooks.process_webhook`` with that organization's gateway."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from payments.gateways import gateway_for
from payments.webhooks import process_webhook
from usdoctors.api import error_responses

WebhookAnswer = inline_serializer(
    "WebhookAnswer",
    fields={
        "outcome": serializers.ChoiceField(choices=["processed", "ignored", "duplicate"]),
        "detail": serializers.CharField(),
        "event_id": serializers.CharField(required=False),
    },
)


class PayPalWebhookView(APIView):
    """A PayPal webhook event, as PayPal sends it (``PAYPAL-TRANSMISSION-*``,
    ``PAYPAL-CERT-URL``, ``PAYPAL-AUTH-ALGO`` headers, the event as the body).

    Verified with this organization's webhook id; an unverified delivery answers 400 and
    changes nothing. Each event id is acted on once (a replay answers 200 ``duplicate``).
    Acted on: ``INVOICING.INVOICE.PAID`` (after re-fetching the invoice from PayPal), and
    ``PAYMENT.CAPTURE.COMPLETED`` / ``.DENIED`` for a card-on-file charge whose capture
    PayPal held (after re-fetching the capture: COMPLETED records the payment once,
    DECLINED tells the student the card was declined). Others answer 200 ``ignored``, as
    does an invoice or capture that is not this organization's or is recorded already.
    503 when PayPal could not be asked: PayPal delivers again later."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={200: WebhookAnswer, **error_responses(400, 404, 503)},
        auth=[],
    )
    def post(self, request):
        organization = request.organization
        result = process_webhook(
            organization, gateway_for(organization), request.headers, request.body
        )
        body = result.as_json()
        return Response(body, status=result.status)
