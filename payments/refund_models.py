"""Refunds and the organization's cancellation schedule (DESIGN §5, §15).

A ``Refund`` is money going back to the student where it came from: a refund of one
PayPal capture through the gateway's API (``payment`` names it; the task sends it after
commit with ``PayPal-Request-Id`` = ``refund-<id>``), or one payout task per invoice and
method for Zelle or wire, which an admin completes with the transfer's reference. The
rows are written in the cancellation's transaction (the intent) and are the ledger of
what went back: with the payments received they balance to zero after a full refund.

A ``CancellationTier`` is one line of the organization's published schedule for the
student's own cancellation: cancelled at least ``days_before_start`` days before the
start, ``refund_percent`` of what was paid towards the price goes back where it came
from and ``credit_percent`` becomes credit. No rows means the default (§5): everything
paid towards the price becomes credit.
"""

from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Membership
from payments.models import Invoice, Payment, money_field
from rotations.choices import CancellationCause, PaymentMethod
from rotations.models import Rotation
from usdoctors.tenancy import TenantModel


class RefundStatus(models.TextChoices):
    PENDING = "pending", "To be sent"  # recorded; the gateway or an admin has not sent it
    PROCESSING = "processing", "Sent; the gateway is processing it"
    COMPLETED = "completed", "Sent"
    FAILED = "failed", "Failed; staff are looking at it"


class Refund(TenantModel):
    """Money going back to the student (§15): a gateway refund of one payment, or a
    Zelle/wire payout task for an invoice that an admin completes with a reference."""

    rotation = models.ForeignKey(Rotation, on_delete=models.PROTECT, related_name="refunds")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="refunds")
    student = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="refunds")
    cause = models.CharField(max_length=12, choices=CancellationCause.choices)
    method = models.CharField(
        max_length=8,
        choices=PaymentMethod.choices,
        help_text="Card/PayPal: refunded through the gateway; Zelle or wire: a payout task.",
    )
    payment = models.ForeignKey(
        Payment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refunds",
        help_text="The captured payment a gateway refund returns; empty for a payout.",
    )
    amount = money_field(help_text="What goes back, card fee included.")
    card_fee = money_field(default=0, help_text="The part of the amount that is card fees.")
    status = models.CharField(
        max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    expected_by = models.DateField(help_text="By when the student should have the money.")
    gateway_refund_id = models.CharField(max_length=64, blank=True)
    gateway_answer = models.JSONField(default=dict, blank=True)
    reference = models.CharField(
        max_length=100, blank=True, help_text="A payout's Zelle or wire reference."
    )
    completed_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=Q(card_fee__gte=0) & Q(card_fee__lte=models.F("amount")),
                name="refund_card_fee_within_amount",
            ),
            # A payment is refunded once, however often the cancellation is attempted.
            models.UniqueConstraint(
                fields=["organization", "payment"],
                condition=Q(payment__isnull=False),
                name="one_refund_per_payment",
            ),
            # One payout task per invoice and method (Zelle or wire).
            models.UniqueConstraint(
                fields=["organization", "invoice", "method"],
                condition=Q(payment__isnull=True),
                name="one_payout_per_invoice_method",
            ),
            models.CheckConstraint(
                condition=~Q(status="completed", payment__isnull=True, reference=""),
                name="completed_payout_has_reference",
            ),
        ]
        indexes = [models.Index(fields=["organization", "status", "method"])]

    def __str__(self) -> str:
        return f"Refund of {self.amount} by {self.get_method_display()} ({self.status})"

    @property
    def is_payout(self) -> bool:
        return self.payment_id is None


class CancellationTier(TenantModel):
    """One line of the organization's published schedule for the student's own
    cancellation (§5, §15), edited by staff on the organization's page in /admin/."""

    days_before_start = models.PositiveSmallIntegerField(
        help_text="Applies when the student cancels at least this many days before the start."
    )
    refund_percent = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(100)],
        help_text="Percent of what was paid (card fees excluded) refunded where it came from.",
    )
    credit_percent = models.PositiveSmallIntegerField(
        default=100,
        validators=[MaxValueValidator(100)],
        help_text="Percent of what was paid (card fees excluded) given as credit.",
    )

    class Meta:
        ordering = ["-days_before_start"]
        verbose_name = "cancellation schedule line"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "days_before_start"],
                name="one_cancellation_tier_per_day_count",
            ),
            models.CheckConstraint(
                condition=Q(refund_percent__lte=100)
                & Q(credit_percent__lte=100)
                & Q(refund_percent__lte=100 - models.F("credit_percent")),
                name="cancellation_tier_at_most_100_percent",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.days_before_start}+ days: {self.refund_percent}% refunded, "
            f"{self.credit_percent}% credit"
        )
