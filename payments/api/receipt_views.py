"""``POST /api/v1/installments/{id}/record-payment`` (DESIGN §12, admins): thin, parse →
``payments.receipts.record_receipt`` → serialize."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from payments.models import Installment, Payment
from payments.receipts import record_receipt
from usdoctors.api import IsOrganizationAdmin, error_responses
from usdoctors.dates import validate_sane_date
from usdoctors.tenancy import current_membership


class ReceiptSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, help_text="What arrived, in USD."
    )
    received_on = serializers.DateField(validators=[validate_sane_date])
    reference = serializers.CharField(
        max_length=100, allow_blank=False, help_text="The Zelle or wire reference."
    )


class PaymentSerializer(serializers.ModelSerializer):
    method = serializers.CharField(read_only=True, help_text="zelle or wire.")
    installment_status = serializers.CharField(source="installment.status", read_only=True)
    invoice_status = serializers.CharField(source="installment.invoice.status", read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "installment",
            "amount",
            "method",
            "reference",
            "received_on",
            "installment_status",
            "invoice_status",
        ]
        read_only_fields = fields


class RecordPaymentView(APIView):
    """An admin records a Zelle or wire receipt, which pays the installment (§6): 201
    with the payment; the same reference again answers 200 with the payment already
    recorded. 400: an amount other than the installment's, a future date, no reference;
    409: paid or cancelled already, paid by card, reference used for another
    installment; another organization's installment is a 404."""

    permission_classes = [IsOrganizationAdmin]

    @extend_schema(
        request=ReceiptSerializer,
        responses={
            201: PaymentSerializer,
            200: PaymentSerializer,
            **error_responses(400, 401, 403, 404, 409),
        },
    )
    def post(self, request, pk: int):
        installment = get_object_or_404(Installment, pk=pk)
        serializer = ReceiptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment, created = record_receipt(
            installment, by=current_membership(request), **serializer.validated_data
        )
        payment = Payment.objects.select_related("installment__invoice").get(pk=payment.pk)
        return Response(
            PaymentSerializer(payment).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
