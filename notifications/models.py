"""The email outbox (DESIGN §9): every email is first a row written in the same
transaction as the event that causes it."""

from django.db import models
from django.utils import timezone

from usdoctors.tenancy import TenantModel


class OutboundEmail(TenantModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Gave up"

    recipient = models.EmailField()
    template = models.CharField(max_length=100)
    context = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="outbound_email_dedupe_key_once_per_organization",
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.template} → {self.recipient} ({self.status})"
