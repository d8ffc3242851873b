"""Django's /admin/ is the platform staff's cross-tenant console (DESIGN §2): superusers
only, and TenantMiddleware runs it with scopes explicitly disabled. Organization admins
do their work in our own pages."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.db import models
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.http import urlencode

from usdoctors.models import HousingPartner, Organization, OrganizationDomain, UsedLink


def staff_only_admin(site: admin.AdminSite) -> None:
    site.site_header = "USDoctors platform console"
    site.site_title = "USDoctors platform"
    site.has_permission = lambda request: request.user.is_active and request.user.is_superuser

    def login(request, extra_context=None):
        """Staff sign in on the site's own login page, which asks for their second
        factor (accounts.mfa); Django's admin password form would skip it."""
        if request.user.is_authenticated:
            if not site.has_permission(request):
                raise PermissionDenied("The platform console is for platform staff.")
            return redirect("admin:index")
        next_url = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index")
        query = urlencode({REDIRECT_FIELD_NAME: next_url})
        return redirect(f"{resolve_url(settings.LOGIN_URL)}?{query}")

    site.login = login


# Inlines apps above the kernel add to the Organization page (documents: the required set),
# so the kernel never imports them (STYLE §1).
organization_inlines: list[type[admin.options.InlineModelAdmin]] = []


def add_organization_inline(inline: type[admin.options.InlineModelAdmin]) -> None:
    if inline not in organization_inlines:
        organization_inlines.append(inline)


class DomainInline(admin.TabularInline):
    model = OrganizationDomain
    extra = 0


class HousingPartnersFormSet(forms.BaseInlineFormSet):
    @classmethod
    def get_default_prefix(cls):
        return "housing_partners"  # the tenant foreign key has no reverse name to derive one


class HousingPartnerInline(admin.TabularInline):
    """The organization's housing partners: students see them on an approved in-person
    rotation's page and in its approval email."""

    model = HousingPartner
    formset = HousingPartnersFormSet
    fields = ("order", "name", "url", "notes")
    extra = 0
    verbose_name_plural = (
        "Housing partners (shown to students on approved in-person rotations and in the "
        "approval email)"
    )
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 2})},
        models.URLField: {"assume_scheme": "https"},
    }


class PercentField(forms.DecimalField):
    """A rate stored as a fraction (0.0299), shown and typed as a percent (2.99).

    ``cleaned_data`` holds the fraction, so the model stores what it always stored; a
    percent with more than two decimals would not survive the round trip and is refused.
    """

    def __init__(self, *, max_percent: Decimal, **kwargs):
        self.max_percent = max_percent
        kwargs.setdefault("widget", forms.NumberInput(attrs={"step": "0.01", "min": "0"}))
        super().__init__(max_digits=5, decimal_places=2, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, Decimal):  # the stored fraction; typed text is shown as typed
            return (value * 100).quantize(Decimal("0.01"))
        return value

    def clean(self, value):
        percent = super().clean(value)  # digits, two decimals at most, required
        if percent is None:
            return None
        if not Decimal("0") <= percent <= self.max_percent:
            raise forms.ValidationError(
                f"Enter a percent from 0 to {self.max_percent}.", code="percent_out_of_range"
            )
        return (percent / 100).quantize(Decimal("0.0001"))

    def has_changed(self, initial, data):
        try:
            return self.clean(data) != initial
        except forms.ValidationError:
            return True


class OrganizationForm(forms.ModelForm):
    """The PayPal secret is write-only: never rendered back, kept when left blank. The
    card surcharge is shown and typed as a percent (2.99) and stored as a rate (0.0299)."""

    card_surcharge_rate = PercentField(
        label="Card surcharge (%)",
        max_percent=Decimal("3"),
        help_text="Percent added to each card payment, e.g. 2.99; 0 turns it off, "
        "3 is the card networks' cap.",
    )

    new_paypal_client_secret = forms.CharField(
        label="PayPal client secret",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted and never shown. Leave blank to keep the current secret.",
    )
    clear_paypal_client_secret = forms.BooleanField(
        label="Remove the stored PayPal secret", required=False
    )

    class Meta:
        model = Organization
        fields = "__all__"  # noqa: DJ007 - the admin lists them in its fieldsets

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:
            domain = settings.SITE_DOMAIN
            # No angle brackets: the admin renders help text as HTML, where "<slug>" was
            # swallowed as a tag (the old text read "The subdomain: ..").
            self.fields["slug"].help_text = (
                f"The organization's site address: slug.{domain}, e.g. demo.{domain} "
                "for the slug demo. Lowercase letters, digits and dashes."
            )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("payment_gateway") == "paypal":
            has_secret = bool(
                cleaned.get("new_paypal_client_secret")
                or (
                    self.instance.paypal_client_secret_encrypted
                    and not cleaned.get("clear_paypal_client_secret")
                )
            )
            for name, present in (
                ("paypal_client_id", bool(cleaned.get("paypal_client_id"))),
                ("paypal_webhook_id", bool(cleaned.get("paypal_webhook_id"))),
                ("new_paypal_client_secret", has_secret),
            ):
                if not present:
                    self.add_error(name, "PayPal needs the client id, secret and webhook id.")
        return cleaned

    def save(self, commit=True):
        organization = super().save(commit=False)
        if self.cleaned_data.get("new_paypal_client_secret"):
            organization.paypal_client_secret = self.cleaned_data["new_paypal_client_secret"]
        elif self.cleaned_data.get("clear_paypal_client_secret"):
            organization.paypal_client_secret = ""
        if commit:
            organization.save()
            self.save_m2m()
        return organization


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    form = OrganizationForm
    list_display = ("name", "slug", "is_active", "payment_gateway", "verification_target_hours")
    search_fields = ("name", "slug")
    readonly_fields = ("paypal_secret_stored",)
    inlines = [DomainInline, HousingPartnerInline]
    fieldsets = (
        (None, {"fields": ("slug", "name", "is_active", "support_email")}),
        (
            "Rules",
            {
                "fields": (
                    "card_surcharge_rate",
                    "immigration_letter_fee",
                    "attending_response_days",
                    "verification_target_hours",
                    "weekly_plan_min_lead_days",
                    "booking_lead_weeks",
                    "b1_b2_relaxation_reason",
                )
            },
        ),
        (
            "Payments (paid into this organization's own account)",
            {
                "fields": (
                    "payment_gateway",
                    "paypal_environment",
                    "paypal_client_id",
                    "paypal_secret_stored",
                    "new_paypal_client_secret",
                    "clear_paypal_client_secret",
                    "paypal_webhook_id",
                    "zelle_instructions",
                    "wire_instructions",
                )
            },
        ),
    )

    def get_inlines(self, request, obj):
        return [*self.inlines, *organization_inlines]

    @admin.display(description="PayPal secret stored")
    def paypal_secret_stored(self, organization) -> str:
        return "yes" if organization.paypal_client_secret_encrypted else "no"


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record staff may read but never add, change or delete here: what it records is
    written by the code that owns it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(UsedLink)
class UsedLinkAdmin(ReadOnlyAdmin):
    """Read-only: a row is the record that a single-use link was spent."""

    list_display = ("purpose", "rotation_id", "organization", "used_at")
    list_filter = ("organization", "purpose")
    search_fields = ("nonce",)
    readonly_fields = ("organization", "nonce", "purpose", "rotation_id", "used_at")
