"""Celery entry points for rotations: fan out per organization, enter its scope."""

from collections import Counter

from celery import shared_task

from rotations import services
from usdoctors.tenancy import each_organization


@shared_task
def remind_and_expire_requests() -> dict:
    totals = Counter(expired=0, reminded=0)
    for organization in each_organization():
        totals.update(services.remind_and_expire_requests(organization))
    return dict(totals)


@shared_task
def start_due_rotations() -> dict:
    totals = Counter(started=0, on_hold=0)
    for organization in each_organization():
        totals.update(services.start_due_rotations(organization))
    return dict(totals)
