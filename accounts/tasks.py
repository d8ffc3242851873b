"""Celery entry points for accounts: fan out per organization, enter its scope."""

from celery import shared_task

from accounts import services
from usdoctors.tenancy import each_organization


@shared_task
def escalate_overdue_verifications() -> int:
    return sum(services.escalate_overdue_profiles(org) for org in each_organization())
