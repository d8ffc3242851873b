"""``GET /api/v1/quote`` (DESIGN §6, §12): what a rotation would cost and how it is paid,
before anything is requested."""

from rest_framework import serializers

from rotations.api.serializers import NamedChoiceField
from rotations.choices import PaymentMethod, Plan, RotationType
from rotations.models import MAX_WEEKS
from usdoctors.dates import validate_sane_date


class QuoteQuerySerializer(serializers.Serializer):
    attending = serializers.IntegerField(help_text="The attending profile's id.")
    start = serializers.DateField(
        help_text="The first day: a Monday in the future.", validators=[validate_sane_date]
    )
    weeks = serializers.IntegerField(
        min_value=1,
        max_value=MAX_WEEKS,
        help_text=f"1 to {MAX_WEEKS}, and at least the attending's minimum.",
    )
    plan = NamedChoiceField(
        Plan,
        help_text="``weekly`` needs the start at least the organization's lead time "
        "(21 days by default) after today.",
    )
    method = NamedChoiceField(PaymentMethod, help_text="How the student will pay.")
    rotation_type = NamedChoiceField(
        RotationType,
        required=False,
        help_text="The rotation type: its requirement's application fee is on the first "
        "installment and housing is shown. May be left out only when every type the "
        "attending offers carries the same fee and housing.",
    )


class QuotedAmountField(serializers.DecimalField):
    def __init__(self, **kwargs):
        super().__init__(max_digits=12, decimal_places=2, read_only=True, **kwargs)


class QuoteAddOnSerializer(serializers.Serializer):
    label = serializers.CharField(read_only=True)
    amount = QuotedAmountField()


class QuoteInstallmentSerializer(serializers.Serializer):
    sequence = serializers.IntegerField(read_only=True, help_text="1 for the first.")
    due_on = serializers.DateField(read_only=True)
    amount = QuotedAmountField(
        help_text="This installment's share of what is due, the application fee included "
        "(first installment)."
    )
    application_fee = QuotedAmountField(
        help_text="The part of the amount that is the non-refundable application fee."
    )
    card_fee = QuotedAmountField(
        help_text="The card surcharge on this payment; 0.00 by Zelle or wire."
    )
    charged = QuotedAmountField(help_text="What the student pays for it: amount + card fee.")


class CancellationTierSerializer(serializers.Serializer):
    days_before_start = serializers.IntegerField(
        read_only=True, help_text="Applies to a cancellation at least this many days before."
    )
    refund_percent = serializers.IntegerField(
        read_only=True, help_text="Of what was paid towards the price, back to how it was paid."
    )
    credit_percent = serializers.IntegerField(
        read_only=True, help_text="Of what was paid towards the price, as credit."
    )


class CancellationPolicySerializer(serializers.Serializer):
    """The organization's published schedule for the student's own cancellation (§15),
    and the protection when the attending or the visa fails the student."""

    tiers = CancellationTierSerializer(
        many=True, read_only=True, help_text="Most days first; later than all: nothing back."
    )
    lines = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="The schedule in words."
    )
    if_cancelled_today = serializers.CharField(
        read_only=True, help_text="What a cancellation today would give back, in words."
    )
    protection = serializers.CharField(read_only=True)


class QuoteSerializer(serializers.Serializer):
    """A quote as approval would invoice it, assuming the attending approves today."""

    attending = serializers.IntegerField(read_only=True)
    start = serializers.DateField(read_only=True)
    weeks = serializers.IntegerField(read_only=True)
    plan = NamedChoiceField(Plan, read_only=True)
    method = NamedChoiceField(PaymentMethod, read_only=True)
    approved_on = serializers.DateField(
        read_only=True,
        help_text="The approval date the due dates count from: today, for a quote.",
    )
    weekly_rate = QuotedAmountField()
    price = QuotedAmountField(help_text="Weekly rate × weeks.")
    add_ons = QuoteAddOnSerializer(many=True, read_only=True)
    application_fee = QuotedAmountField(
        help_text="The requirement's application fee: non-refundable, paid with the first "
        "installment (credit does not pay it); 0.00 when there is none."
    )
    application_fee_refundable = serializers.BooleanField(
        read_only=True,
        help_text="Always false: a student's own cancellation never returns it (refund "
        "protection does).",
    )
    housing_included = serializers.BooleanField(
        read_only=True, help_text="Whether the requirement says housing is included."
    )
    subtotal = QuotedAmountField(help_text="Price plus add-ons plus the application fee.")
    credit_applied = QuotedAmountField(help_text="How much of the student's credit is used.")
    amount_due = QuotedAmountField(help_text="Subtotal less credit: what the installments split.")
    card_fee_rate = serializers.DecimalField(
        max_digits=5,
        decimal_places=4,
        read_only=True,
        help_text="The organization's card surcharge on each card payment (0.0299 = 2.99%).",
    )
    card_fees = QuotedAmountField(help_text="The card fees of all installments.")
    total_charged = QuotedAmountField(
        help_text="Everything the student pays: amount due + card fees. Send it as "
        "``confirmed_total`` with ``POST /rotations``."
    )
    installments = QuoteInstallmentSerializer(many=True, read_only=True)
    cancellation = CancellationPolicySerializer(
        read_only=True,
        help_text="If the student cancels: the schedule shown with every quote (§15). Card "
        "fees and the application fee are never part of it.",
    )
