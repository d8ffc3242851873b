"""Organizations: the tenants of the shared deployment (DESIGN §2)."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

DOCUMENT_TYPES_REQUIRED_BY_DEFAULT = [
    "letter_of_good_standing",
    "tb_test_immunizations",
    "liability_insurance",
    "passport_visa",
]


def default_required_document_types() -> list[str]:
    return list(DOCUMENT_TYPES_REQUIRED_BY_DEFAULT)


class Organization(models.Model):
    """An agency, hospital program or practice group running rotations here.

    Its settings carry the defaults DESIGN §2 names; every tenant-owned row points here.
    """

    slug = models.SlugField(
        unique=True,
        max_length=40,
        validators=[RegexValidator(r"^[a-z0-9-]+$", "Lowercase letters, digits and dashes.")],
        help_text="The subdomain: <slug>.<SITE_DOMAIN>.",
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
    required_document_types = models.JSONField(default=default_required_document_types)
    support_email = models.EmailField(
        blank=True, help_text="Support and schools correspondence address."
    )
    housing_partners = models.JSONField(default=list, blank=True)
    currency = models.CharField(max_length=3, default="USD", editable=False)

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


class OrganizationDomain(models.Model):
    """A custom domain that also resolves to the organization."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, unique=True)

    def __str__(self) -> str:
        return self.domain
