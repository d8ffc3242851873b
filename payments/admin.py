"""Money in the platform staff console (/admin/, scopes disabled: usdoctors.admin_site).

Staff can correct invoices, installments, payments, cards, school payments and webhook
records directly.
Credit is a ledger: entries are added (through ``payments.credits.add_credit``, so the
balance moves with them, never below zero) and never edited or deleted; a mistake is
fixed by a correcting entry.
"""

from django import forms
from django.contrib import admin

from payments.credits import add_credit, credit_balance
from payments.models import (
    CancellationTier,
    CardOnFile,
    CreditAccount,
    CreditEntry,
    Installment,
    Invoice,
    InvoiceLine,
    Payment,
    Refund,
    SchoolPayment,
    WebhookEvent,
)
from usdoctors.admin_site import ReadOnlyAdmin, add_organization_inline


class SameOrganizationInline(admin.TabularInline):
    """Rows added inline belong to the parent's organization (no field to get wrong)."""

    exclude = ("organization",)
    extra = 0


class InvoiceLineInline(SameOrganizationInline):
    model = InvoiceLine
    raw_id_fields = ("installment",)


class InstallmentInline(SameOrganizationInline):
    model = Installment
    fields = ("sequence", "due_on", "amount", "card_fee", "status", "paid_at", "gateway_invoice_id")
    show_change_link = True


class PaymentInline(SameOrganizationInline):
    model = Payment
    fields = ("amount", "method", "reference", "received_on", "recorded_by", "gateway_payment_id")
    raw_id_fields = ("recorded_by",)


class InlinesInParentOrganization(admin.ModelAdmin):
    def save_formset(self, request, form, formset, change):
        rows = formset.save(commit=False)
        for row in formset.deleted_objects:
            row.delete()
        for row in rows:
            row.organization_id = form.instance.organization_id
            row.save()
        formset.save_m2m()


@admin.register(Invoice)
class InvoiceAdmin(InlinesInParentOrganization):
    list_display = ("reference_code", "kind", "student", "organization", "status", "created_at")
    list_filter = ("organization", "kind", "status", "payment_method", "plan")
    search_fields = ("reference_code", "student__user__email")
    raw_id_fields = ("rotation", "student")
    inlines = [InvoiceLineInline, InstallmentInline]


@admin.register(Installment)
class InstallmentAdmin(InlinesInParentOrganization):
    list_display = ("__str__", "organization", "due_on", "amount", "card_fee", "status")
    list_filter = ("organization", "status")
    search_fields = ("invoice__reference_code", "gateway_invoice_id")
    raw_id_fields = ("invoice",)
    inlines = [PaymentInline]


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ("installment", "organization", "amount", "method", "received_on", "reference")
    list_filter = ("organization", "method")
    search_fields = ("reference", "gateway_payment_id", "installment__invoice__reference_code")
    raw_id_fields = ("installment", "recorded_by")


@admin.register(CreditAccount)
class CreditAccountAdmin(admin.ModelAdmin):
    """Read-only: a balance moves only with a ledger entry (add one below)."""

    list_display = ("student", "organization", "balance")
    list_filter = ("organization",)
    search_fields = ("student__user__email",)
    readonly_fields = ("organization", "student", "balance")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CreditEntryForm(forms.ModelForm):
    # No Meta: the admin builds the form class per request, inside the console's
    # disabled scopes; building it at import would query the scoped managers.

    def clean(self):
        cleaned = super().clean()
        student, amount = cleaned.get("student"), cleaned.get("amount")
        if student is not None and amount is not None:
            if amount == 0:
                self.add_error("amount", "Enter an amount other than zero.")
            elif amount < 0 and credit_balance(student) + amount < 0:
                self.add_error(
                    "amount",
                    f"The student has {credit_balance(student)} in credit; "
                    "the balance cannot go below zero.",
                )
            for name in ("rotation", "invoice"):
                related = cleaned.get(name)
                if related is not None and related.organization_id != student.organization_id:
                    self.add_error(name, "Choose one in the student's organization.")
        return cleaned


@admin.register(CreditEntry)
class CreditEntryAdmin(admin.ModelAdmin):
    """Append-only: a new entry goes through ``add_credit``; existing ones are read."""

    form = CreditEntryForm
    fields = ("student", "amount", "reason", "note", "rotation", "invoice")
    list_display = ("student", "organization", "amount", "reason", "note", "created_at")
    list_filter = ("organization", "reason")
    search_fields = ("student__user__email", "note")
    raw_id_fields = ("student", "rotation", "invoice")

    def has_change_permission(self, request, obj=None):
        return False  # staff read an entry; they correct it with a new one

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        entry = add_credit(
            obj.student,
            obj.amount,
            obj.reason,
            note=obj.note,
            rotation=obj.rotation,
            invoice=obj.invoice,
        )
        obj.pk, obj.organization_id, obj.created_at = (
            entry.pk,
            entry.organization_id,
            entry.created_at,
        )


@admin.register(CardOnFile)
class CardOnFileAdmin(admin.ModelAdmin):
    list_display = ("__str__", "student", "organization", "source", "status", "created_at")
    list_filter = ("organization", "status", "source")
    search_fields = ("student__user__email", "payment_token_id", "last4", "paypal_email")
    raw_id_fields = ("student",)


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("event_type", "event_id", "organization", "outcome", "received_at")
    list_filter = ("organization", "outcome", "event_type")
    search_fields = ("event_id",)


@admin.register(SchoolPayment)
class SchoolPaymentAdmin(admin.ModelAdmin):
    list_display = (
        "rotation",
        "organization",
        "school_email",
        "decision",
        "deadline",
        "charge_status",
    )
    list_filter = ("organization", "decision", "charge_status")
    search_fields = ("school_email", "rotation__student__user__email")
    raw_id_fields = ("rotation",)


# --- Refunds and the cancellation schedule (DESIGN §15) --------------------------------


class CancellationTiersFormSet(forms.BaseInlineFormSet):
    @classmethod
    def get_default_prefix(cls):
        return "cancellation_tiers"  # the tenant foreign key has no reverse name to derive one

    def clean(self):
        super().clean()
        seen = set()
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE"):
                continue
            days = data.get("days_before_start")
            if days in seen:
                form.add_error("days_before_start", "Each line needs its own number of days.")
            seen.add(days)
            if (data.get("refund_percent") or 0) + (data.get("credit_percent") or 0) > 100:
                form.add_error("credit_percent", "Refunded and credited add up to at most 100%.")


class CancellationTierInline(admin.TabularInline):
    """The organization's published schedule for a student's own cancellation, shown with
    the quote and on the rotation page. No lines: what was paid becomes credit (§5)."""

    model = CancellationTier
    formset = CancellationTiersFormSet
    fields = ("days_before_start", "refund_percent", "credit_percent")
    extra = 0
    verbose_name = "cancellation schedule line"
    verbose_name_plural = (
        "Cancellation schedule for a student's own cancellation (no lines: everything paid "
        "towards the price becomes credit; card fees are never returned)"
    )


add_organization_inline(CancellationTierInline)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    """Read-only: refunds are written by the cancellation and completed by the gateway
    task or an admin's payout page (payments.refunds), never edited here."""

    list_display = ("pk", "organization", "student", "amount", "method", "cause", "status")
    list_filter = ("organization", "status", "method", "cause")
    search_fields = ("invoice__reference_code", "reference", "gateway_refund_id")
