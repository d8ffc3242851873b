"""Celery entry points for accounts: fan out per organization, enter its scope."""

from celery import shared_task

from accounts import services
from usdoctors.tenancy import sweep_each_organization


@shared_task
def escalate_overdue_verifications() -> int:
    """Beat: escalate overdue profile verifications to each organization's admins (§3,
    §9), in set-based batches (``services.escalate_overdue_profiles``)."""
    return sum(sweep_each_organization(services.escalate_overdue_profiles))
