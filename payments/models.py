"""Invoices, installments, payments, credit, cards on file and webhook events (DESIGN §6).

Amounts are ``Decimal`` cents (10 digits, 2 places). What is still owed is derived from
installments and payments, never stored a second time; the card surcharge is its own
invoice line per installment; the credit balance lives on one ``CreditAccount`` row per
student that the database keeps at or above zero (payments.credits).

Money records are kept: deleting a rotation or a member that has invoices, payments or
credit is refused (PROTECT), so history never disappears with them.
"""

import secrets

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Membership
from rotations.choices import PaymentMethod, Plan
from rotations.models import Rotation
from usdoctors.tenancy import TenantModel


def money_field(verbose_name=None, **kwargs):
    return models.DecimalField(verbose_name, max_digits=10, decimal_places=2, **kwargs)


# No 0/O or 1/I/L: the student types this into a Zelle memo or a wire reference.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_reference_code() -> str:
    """``USD-`` and 8 unambiguous characters (31^8 ≈ 8.5 × 10^11 codes)."""
    return "USD-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


class InvoiceKind(models.TextChoices):
    ROTATION = "rotation", "Rotation"
    IMMIGRATION_LETTER = "immigration_letter", "Immigration letter"
    LOR_FEE = "lor_fee", "Letter of recommendation fee"


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"  # written in the approval transaction, not yet sent
    ISSUED = "issued", "Issued"
    PAID = "paid", "Paid"
    CANCELLED = "cancelled", "Cancelled"


class Invoice(TenantModel):
    """What a student owes for one rotation, letter or LOR (§6). Its total is the sum of
    its lines; what is still owed comes from its installments and their payments."""

    rotation = models.ForeignKey(Rotation, on_delete=models.PROTECT, related_name="invoices")
    student = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="invoices")
    kind = models.CharField(max_length=20, choices=InvoiceKind.choices)
    payment_method = models.CharField(max_length=8, choices=PaymentMethod.choices)
    plan = models.CharField(max_length=12, choices=Plan.choices, default=Plan.FULL)
    status = models.CharField(
        max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    reference_code = models.CharField(
        max_length=20,
        default=new_reference_code,
        help_text="What the student writes on a Zelle or wire payment so admins can match it.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    issued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One rotation invoice and one immigration letter per rotation; a student may
            # ask the rotation's attending for more than one letter, each with its fee.
            models.UniqueConstraint(
                fields=["organization", "rotation", "kind"],
                condition=~Q(kind="lor_fee"),
                name="one_invoice_per_rotation_kind",
            ),
            models.UniqueConstraint(
                fields=["organization", "reference_code"],
                name="invoice_reference_code_unique_per_organization",
            ),
        ]
        indexes = [models.Index(fields=["organization", "student", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} invoice {self.reference_code}"


class LineKind(models.TextChoices):
    PRICE = "price", "Price"
    ADD_ON = "add_on", "Add-on"
    APPLICATION_FEE = "application_fee", "Application fee"
    CARD_FEE = "card_fee", "Card fee"
    CREDIT = "credit", "Credit applied"


class InvoiceLine(TenantModel):
    """One labelled amount on an invoice: the price, an add-on, a card fee (one line per
    installment paid by card, §6), or credit applied (a negative line)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=16, choices=LineKind.choices)
    label = models.CharField(max_length=200)
    amount = money_field()
    installment = models.ForeignKey(
        "Installment",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="lines",
        help_text="For a card fee: the installment whose payment it is charged on.",
    )

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind=LineKind.CREDIT) & Q(amount__lte=0))
                | (~Q(kind=LineKind.CREDIT) & Q(amount__gte=0)),
                name="invoice_line_credit_negative_others_not",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.amount}"


class InstallmentStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # written, not yet sent to the payer
    SENT = "sent", "Sent"  # PayPal invoice sent, or Zelle/wire instructions shown
    PAID = "paid", "Paid"
    CANCELLED = "cancelled", "Cancelled"


class Installment(TenantModel):
    """One payment the plan asks for (§6): its share of the invoice (the first one's
    ``amount`` includes the application fee, kept apart in ``application_fee``) and, paid
    by card, its own surcharge on that whole amount. The reminder timestamps are the
    sweep's "already sent" flags."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="installments")
    sequence = models.PositiveSmallIntegerField(help_text="1 for the first installment.")
    due_on = models.DateField()
    amount = money_field()
    card_fee = money_field(default=0)
    application_fee = money_field(
        default=0,
        help_text="The part of the amount that is the non-refundable application fee "
        "(first installment only, §6): a student's own cancellation never returns it.",
    )
    status = models.CharField(
        max_length=10, choices=InstallmentStatus.choices, default=InstallmentStatus.PENDING
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    gateway_invoice_id = models.CharField(
        max_length=64, blank=True, help_text="The gateway's invoice id (PayPal INV2-…)."
    )
    gateway_answer = models.JSONField(
        default=dict, blank=True, help_text="What the gateway last answered about it."
    )
    reminded_before_at = models.DateTimeField(null=True, blank=True)  # 3 days before due
    reminded_due_at = models.DateTimeField(null=True, blank=True)  # on the due date
    reminded_overdue_at = models.DateTimeField(null=True, blank=True)  # after the due date

    class Meta:
        ordering = ["invoice", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "invoice", "sequence"],
                name="one_installment_per_invoice_sequence",
            ),
            models.UniqueConstraint(
                fields=["organization", "gateway_invoice_id"],
                condition=~Q(gateway_invoice_id=""),
                name="installment_gateway_invoice_once",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="installment_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(card_fee__gte=0), name="installment_card_fee_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(application_fee__gte=0) & Q(application_fee__lte=F("amount")),
                name="installment_application_fee_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(sequence__gte=1), name="installment_sequence_from_one"
            ),
            models.CheckConstraint(
                condition=~Q(status=InstallmentStatus.PAID) | Q(paid_at__isnull=False),
                name="paid_installment_has_paid_at",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "due_on"]),
            # The reminder sweep's walk over open installments (payments.reminders).
            models.Index(
                fields=["organization", "due_on", "id"],
                condition=models.Q(status__in=["pending", "sent"]),
                name="open_installments_by_due",
            ),
        ]

    def __str__(self) -> str:
        return f"Installment {self.sequence} of {self.invoice}: {self.charged} due {self.due_on}"

    @property
    def charged(self):
        """What the payer is asked for: the share plus its card fee."""
        return self.amount + self.card_fee


class Payment(TenantModel):
    """Money received for an installment: a PayPal payment confirmed by a verified
    webhook, or a Zelle/wire receipt an admin recorded (§6)."""

    installment = models.ForeignKey(Installment, on_delete=models.PROTECT, related_name="payments")
    amount = money_field(help_text="What was received, card fee included.")
    method = models.CharField(max_length=8, choices=PaymentMethod.choices)
    reference = models.CharField(
        max_length=100, blank=True, help_text="The Zelle or wire reference the payer gave."
    )
    received_on = models.DateField()
    recorded_by = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The admin who recorded a Zelle or wire receipt; empty for the gateway.",
    )
    gateway_payment_id = models.CharField(
        max_length=64, blank=True, help_text="The gateway's payment or capture id."
    )
    gateway_answer = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            # A gateway payment is recorded once, however often its webhook arrives.
            models.UniqueConstraint(
                fields=["organization", "gateway_payment_id"],
                condition=~Q(gateway_payment_id=""),
                name="payment_gateway_id_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} by {self.get_method_display()} on {self.received_on}"


class CreditReason(models.TextChoices):
    CANCELLED_ROTATION = "cancelled_rotation", "Paid for a cancelled rotation"
    APPLIED = "applied", "Applied to an invoice"
    REFUNDED = "refunded", "Refunded to the student"
    ADJUSTMENT = "adjustment", "Adjustment by staff"


class CreditAccount(TenantModel):
    """A student's credit balance in one organization (§6). It moves only together with
    a ``CreditEntry`` in the same transaction, under this row's lock; the database
    refuses a negative balance whatever the code does."""

    student = models.ForeignKey(
        Membership, on_delete=models.PROTECT, related_name="credit_accounts"
    )
    balance = money_field(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "student"], name="one_credit_account_per_student"
            ),
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="credit_balance_never_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"Credit of {self.student}: {self.balance}"


class CreditEntry(TenantModel):
    """One line of a student's credit ledger: positive adds credit, negative uses it.
    The entries sum to the account's balance (written only by payments.credits)."""

    student = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="credit_entries")
    amount = money_field()
    reason = models.CharField(max_length=20, choices=CreditReason.choices)
    note = models.CharField(max_length=300, blank=True)
    rotation = models.ForeignKey(
        Rotation, on_delete=models.PROTECT, null=True, blank=True, related_name="credit_entries"
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="credit_entries"
    )
    created_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = "credit entries"
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="credit_entry_not_zero"),
        ]
        indexes = [models.Index(fields=["organization", "student", "created_at"])]

    def __str__(self) -> str:
        return f"{self.amount:+} {self.get_reason_display()}"


class CardStatus(models.TextChoices):
    PENDING = "pending", "Being set up"
    ACTIVE = "active", "Active"
    REMOVED = "removed", "Removed"
    FAILED = "failed", "Failed"


class CardSource(models.TextChoices):
    """What the vault token pays with: a card typed into PayPal's card fields, or the
    payer's PayPal account (chosen on PayPal's approval page: a card in their wallet or
    their balance). Charges name the source: ``payment_source.card`` or ``.paypal``."""

    CARD = "card", "Card"
    PAYPAL = "paypal", "PayPal account"


class CardOnFile(TenantModel):
    """A card a student saved in the gateway's vault (school payer, §6). We keep the
    vault's token ids and what identifies the card to a person, never the card itself.
    A PayPal-account token has no brand or last digits: it shows the PayPal email."""

    student = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="cards")
    status = models.CharField(max_length=8, choices=CardStatus.choices, default=CardStatus.PENDING)
    source = models.CharField(max_length=8, choices=CardSource.choices, default=CardSource.CARD)
    setup_token_id = models.CharField(max_length=64, blank=True)
    payment_token_id = models.CharField(
        max_length=64, blank=True, help_text="The vault's payment token: what a charge uses."
    )
    brand = models.CharField(max_length=32, blank=True)
    last4 = models.CharField(max_length=4, blank=True)
    paypal_email = models.EmailField(
        blank=True, help_text="PayPal-account tokens: the payer's PayPal email."
    )
    gateway_answer = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "card on file"
        verbose_name_plural = "cards on file"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "student"],
                condition=Q(status=CardStatus.ACTIVE),
                name="one_active_card_per_student",
            ),
            models.UniqueConstraint(
                fields=["organization", "payment_token_id"],
                condition=~Q(payment_token_id=""),
                name="card_payment_token_once",
            ),
            models.CheckConstraint(
                condition=~Q(status=CardStatus.ACTIVE) | ~Q(payment_token_id=""),
                name="active_card_has_payment_token",
            ),
        ]

    @property
    def description(self) -> str:
        """How the student recognises it: "VISA ending 1111", "PayPal (ana@example.com)"."""
        if self.source == CardSource.PAYPAL:
            return f"PayPal ({self.paypal_email})" if self.paypal_email else "PayPal"
        return f"{self.brand or 'Card'} ending {self.last4 or '····'}"

    def __str__(self) -> str:
        return f"{self.description} ({self.status})"


class WebhookOutcome(models.TextChoices):
    RECEIVED = "received", "Received, not yet processed"
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Ignored (not an event we act on)"
    INVALID = "invalid", "Refused (failed verification)"
    FAILED = "failed", "Failed while processing"


class WebhookEvent(TenantModel):
    """A gateway event received on the organization's host. A verified event's id is
    unique per organization, so an event delivered twice is acted on once (§6)."""

    event_id = models.CharField(max_length=100)
    event_type = models.CharField(max_length=100)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=10, choices=WebhookOutcome.choices, default=WebhookOutcome.RECEIVED
    )
    outcome_detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            # Refused deliveries do not count: a forged event must not claim the id of
            # the real one that follows it.
            models.UniqueConstraint(
                fields=["organization", "event_id"],
                condition=~Q(outcome=WebhookOutcome.INVALID),
                name="webhook_event_once_per_organization",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} ({self.outcome})"


class SchoolDecision(models.TextChoices):
    AWAITING = "awaiting", "Awaiting the school's answer"
    CONFIRMED = "confirmed", "The school confirmed it pays"
    REFUSED = "refused", "The school refused to pay"
    LAPSED = "lapsed", "No answer by the Friday before the start"


class SchoolChargeStatus(models.TextChoices):
    NONE = "none", "No charge needed"
    PENDING = "pending", "To be charged to the card on file"
    CAPTURING = "capturing", "Charged; PayPal has not confirmed the capture yet"
    CHARGED = "charged", "Charged to the card on file"
    DECLINED = "declined", "The card on file was declined"


class SchoolPayment(TenantModel):
    """A school-paid rotation (§6, payments.school): the school's answer to its signed
    confirm/refuse link, and — refused, or no answer by the deadline — the charge of the
    student's card on file, recorded as intent here before the gateway is called."""

    rotation = models.ForeignKey(Rotation, on_delete=models.PROTECT, related_name="school_payments")
    school_email = models.EmailField()
    decision = models.CharField(
        max_length=10, choices=SchoolDecision.choices, default=SchoolDecision.AWAITING
    )
    deadline = models.DateField(help_text="The Friday before the start: the link expires then.")
    decided_at = models.DateTimeField(null=True, blank=True)
    charge_status = models.CharField(
        max_length=10, choices=SchoolChargeStatus.choices, default=SchoolChargeStatus.NONE
    )
    charge_amount = money_field(null=True, blank=True, help_text="Card fee included.")
    charge_requested_at = models.DateTimeField(null=True, blank=True)
    charged_at = models.DateTimeField(null=True, blank=True)
    charge_answer = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "rotation"], name="one_school_payment_per_rotation"
            ),
        ]
        indexes = [models.Index(fields=["organization", "decision", "deadline"])]

    def __str__(self) -> str:
        return f"School payment for rotation {self.rotation_id}: {self.decision}"


# Refunds and the cancellation schedule (DESIGN §15) live in their own module; imported
# here so Django registers them with the app's other models.
from payments.refund_models import CancellationTier, Refund, RefundStatus  # noqa: E402, F401
