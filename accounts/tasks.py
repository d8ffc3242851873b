"""Celery entry points for accounts: fan out per organization, enter its scope."""

from celery import shared_task

from accounts import services
from usdoctors.tenancy import sweep_each_organization


@shared_task
def escalate_overdue_verifications() -> int:
    return sum(sweep_each_organization(services.escalate_overdue_profiles))
