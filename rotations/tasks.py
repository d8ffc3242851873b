"""Celery entry points for rotations: fan out per organization, enter its scope."""

from celery import shared_task

from rotations import services
from usdoctors.tenancy import active_organizations, organization_scope


@shared_task
def remind_and_expire_requests() -> dict:
    totals = {"expired": 0, "reminded": 0}
    for organization in active_organizations():
        with organization_scope(organization.pk) as scoped:
            for key, value in services.remind_and_expire_requests(scoped).items():
                totals[key] += value
    return totals


@shared_task
def start_due_rotations() -> dict:
    totals = {"started": 0, "on_hold": 0}
    for organization in active_organizations():
        with organization_scope(organization.pk) as scoped:
            for key, value in services.start_due_rotations(scoped).items():
                totals[key] += value
    return totals
