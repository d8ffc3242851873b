"""Celery entry points for accounts: fan out per organization, enter its scope."""

from celery import shared_task

from accounts import services
from usdoctors.tenancy import active_organizations, organization_scope


@shared_task
def escalate_overdue_verifications() -> int:
    escalated = 0
    for organization in active_organizations():
        with organization_scope(organization.pk) as scoped:
            escalated += services.escalate_overdue_profiles(scoped)
    return escalated
