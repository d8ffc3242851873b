"""Organizations: the tenants of the shared deployment (DESIGN §2)."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from usdoctors import encryption
from usdoctors.text import SHORT_TEXT_MAX, validate_no_bidi_controls

PAYPAL_BASE_URLS = {
    "sandbox": "https://api-m.sandbox.paypal.com",
    "live": "https://api-m.paypal.com",
}


class PaymentGatewayChoice(models.TextChoices):
    SIMULATED = "simulated", "Simulated (no real money)"
    PAYPAL = "paypal", "PayPal"


class PayPalEnvironment(models.TextChoices):
    SANDBOX = "sandbox", "Sandbox (test money)"
    LIVE = "live", "Live"


class Organization(models.Model):
    """An agency, hospital program or practice group running rotations here.

    Its settings carry the defaults DESIGN §2 names; every tenant-owned row points here.
    """

    slug = models.SlugField(
        unique=True,
        max_length=40,
        validators=[RegexValidator(r"^[a-z0-9-]+$", "Lowercase letters, digits and dashes.")],
        help_text="The organization's site address: slug.site-domain, e.g. "
        "demo.usdoctors.com for the slug demo. Lowercase letters, digits and dashes.",
    )
    name = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    card_surcharge_rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.0299"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("0.03"))],
        help_text="Added to each card payment; 0 turns it off, 3% is the card networks' cap.",
    )
    immigration_letter_fee = models.DecimalField(
        max_digits=8, decimal_places=2, default=Decimal("150.00")
    )
    attending_response_days = models.PositiveSmallIntegerField(default=7)
    verification_target_hours = models.PositiveSmallIntegerField(default=24)
    weekly_plan_min_lead_days = models.PositiveSmallIntegerField(default=21)
    booking_lead_weeks = models.PositiveSmallIntegerField(
        default=8,
        validators=[MaxValueValidator(52)],
        help_text="How many weeks before a rotation's start students should have it booked "
        "(the match-season planner counts back from it, DESIGN §14).",
    )
    support_email = models.EmailField(
        blank=True, help_text="Support and schools correspondence address."
    )
    # Housing partners are rows of their own (HousingPartner, below).
    currency = models.CharField(max_length=3, default="USD", editable=False)

    # Payments (DESIGN §6): each organization is paid into its own PayPal account. Edited
    # by platform staff in /admin/; the secret is stored encrypted (usdoctors.encryption)
    # and never shown back.
    payment_gateway = models.CharField(
        max_length=10,
        choices=PaymentGatewayChoice.choices,
        default=PaymentGatewayChoice.SIMULATED,
        help_text="Simulated until PayPal credentials are complete (payments.gateways).",
    )
    paypal_environment = models.CharField(
        max_length=7, choices=PayPalEnvironment.choices, default=PayPalEnvironment.SANDBOX
    )
    paypal_client_id = models.CharField("PayPal client id", max_length=128, blank=True)
    paypal_client_secret_encrypted = models.TextField(blank=True, editable=False)
    paypal_webhook_id = models.CharField(
        "PayPal webhook id",
        max_length=64,
        blank=True,
        help_text="The id PayPal gave the webhook pointing at "
        "https://<this organization's host>/api/v1/payments/paypal/webhook.",
    )
    zelle_instructions = models.TextField(
        blank=True, help_text="Shown to students paying by Zelle: recipient name, email or phone."
    )
    wire_instructions = models.TextField(
        blank=True, help_text="Shown to students paying by wire: bank, account, routing, SWIFT."
    )
    # Eligibility (DESIGN §13): graduates on B-1/B-2 may book observerships only, unless
    # the organization writes why it relaxes that rule (rotations.eligibility).
    b1_b2_relaxation_reason = models.TextField(
        "why graduates on B-1/B-2 may book hands-on rotations",
        blank=True,
        max_length=SHORT_TEXT_MAX,
        validators=[validate_no_bidi_controls],
        help_text="Empty: the built-in rule applies, graduates on a B-1/B-2 visa may book "
        "observerships only. Write the reason (e.g. your legal counsel's opinion) to let "
        "them book hands-on rotations.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(card_surcharge_rate__gte=0)
                & models.Q(card_surcharge_rate__lte=Decimal("0.03")),
                name="organization_surcharge_between_0_and_3_percent",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def paypal_client_secret(self) -> str:
        """The PayPal secret in clear, decrypted on use (never stored so)."""
        return encryption.decrypt(self.paypal_client_secret_encrypted)

    @paypal_client_secret.setter
    def paypal_client_secret(self, value: str) -> None:
        self.paypal_client_secret_encrypted = encryption.encrypt(value)

    @property
    def has_paypal_credentials(self) -> bool:
        return bool(
            self.paypal_client_id and self.paypal_client_secret_encrypted and self.paypal_webhook_id
        )

    @property
    def paypal_base_url(self) -> str:
        """PayPal's API for this account's environment; ``PAYPAL_BASE_URL`` overrides it
        for every organization (tests point it at the fake PayPal)."""
        return settings.PAYPAL_BASE_URL or PAYPAL_BASE_URLS[self.paypal_environment]


class OrganizationDomain(models.Model):
    """A custom domain that also resolves to the organization."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, unique=True)

    def __str__(self) -> str:
        return self.domain


# Imported here, not at the top: tenancy's TenantModel points back at Organization by name.
from usdoctors.tenancy import TenantModel  # noqa: E402


class UsedLink(TenantModel):
    """A single-use signed link that was used (DESIGN §10, usdoctors.signed_links).
    Written in the same transaction as the decision the link records; the unique nonce
    makes a second use fail, however close together the two arrive."""

    nonce = models.CharField(max_length=40)
    purpose = models.CharField(max_length=40)
    rotation_id = models.PositiveBigIntegerField(
        help_text="The rotation the link was for (an id: the kernel sits below rotations)."
    )
    used_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "nonce"], name="signed_link_used_once")
        ]

    def __str__(self) -> str:
        return f"{self.purpose} link for rotation {self.rotation_id}, used {self.used_at}"


class HousingPartner(TenantModel):
    """A place the organization recommends to stay during in-person rotations (DESIGN §2:
    the housing partners list). Students see the list on an approved in-person
    rotation's page and in its approval email (``rotations.housing``); staff edit it on
    the organization's page in /admin/."""

    name = models.CharField(max_length=150, validators=[validate_no_bidi_controls])
    url = models.URLField("link", max_length=500, blank=True)
    notes = models.TextField(
        blank=True,
        max_length=SHORT_TEXT_MAX,
        help_text="What students should know: distance, discount code, how to book.",
    )
    order = models.PositiveSmallIntegerField(default=0, help_text="Lower numbers come first.")

    class Meta:
        ordering = ["order", "pk"]
        indexes = [models.Index(fields=["organization", "order"])]

    def __str__(self) -> str:
        return self.name
