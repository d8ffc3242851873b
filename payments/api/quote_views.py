"""``GET /api/v1/quote`` (DESIGN §12): thin, parse → ``payments.quotes.quote_for`` →
serialize."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from payments.api.quote_serializers import QuoteQuerySerializer, QuoteSerializer
from payments.cancellation_schedule import policy as cancellation_policy
from payments.cancellation_schedule import schedule_for
from payments.quotes import quote_for
from rotations.requirements import terms_for
from rotations.search import public_attendings
from usdoctors.api import IsStudent, error_responses
from usdoctors.errors import DomainError, Invalid
from usdoctors.tenancy import current_membership


class QuoteView(APIView):
    """The price, the card fee and every installment with its due date, for a plan, a
    method, a start and a number of weeks with one attending (§6), for the student
    asking: their credit balance applies before installments. With the rotation type,
    its requirement's non-refundable application fee (on the first installment, in the
    totals) and whether housing is included (§13). Due dates assume the attending
    approves today. 400 names the field (``attending``, ``start``, ``weeks``, ``plan``,
    ``method``, ``rotation_type``); another organization's attending is a 404."""

    permission_classes = [IsStudent]

    @extend_schema(
        parameters=[QuoteQuerySerializer],
        responses={200: QuoteSerializer, **error_responses(400, 401, 403, 404)},
    )
    def get(self, request):
        query = QuoteQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        attending = get_object_or_404(public_attendings(request.organization), pk=data["attending"])
        today = timezone.localdate()
        try:
            terms = terms_for(attending, data.get("rotation_type"))
            quote = quote_for(
                current_membership(request),
                attending,
                start=data["start"],
                weeks=data["weeks"],
                plan=data["plan"],
                method=data["method"],
                rotation_type=terms.rotation_type,
                application_fee=terms.application_fee,
                on=today,
            )
        except DomainError as error:
            if error.field == "payment_method":  # this call names it ``method``
                raise Invalid(error.message, code=error.code, field="method") from error
            raise
        body = {
            "attending": attending.pk,
            "start": data["start"],
            "weeks": data["weeks"],
            "plan": quote.plan,
            "method": quote.method,
            "approved_on": today,
            "weekly_rate": attending.weekly_rate,
            "price": quote.price,
            "add_ons": quote.add_ons,
            "application_fee": quote.application_fee,
            "application_fee_refundable": False,
            "housing_included": terms.housing_included,
            "subtotal": quote.subtotal,
            "credit_applied": quote.credit_applied,
            "amount_due": quote.amount_due,
            "card_fee_rate": request.organization.card_surcharge_rate,
            "card_fees": quote.card_fees,
            "total_charged": quote.total_charged,
            "installments": quote.installments,
            "cancellation": _cancellation(request.organization, data["start"], today),
        }
        return Response(QuoteSerializer(body).data)


def _cancellation(organization, start, today) -> dict:
    words = cancellation_policy(organization, start, today)
    return {
        "tiers": [
            {
                "days_before_start": tier.days_before_start,
                "refund_percent": tier.refund_percent,
                "credit_percent": tier.credit_percent,
            }
            for tier in schedule_for(organization)
        ],
        "lines": words["lines"],
        "if_cancelled_today": words["now"],
        "protection": words["protection"],
    }
