"""Celery entry points for letters: fan out per organization, enter its scope."""

from celery import shared_task

from lor.reminders import send_letter_reminders as sweep
from usdoctors.tenancy import sweep_each_organization


@shared_task
def send_letter_reminders() -> int:
    """Beat: remind attendings of accepted letters not yet uploaded (§8, §9). One
    organization's failure is logged and never stops the others."""
    return sum(sweep_each_organization(sweep))
