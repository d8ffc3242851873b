"""Celery entry points for documents: fan out per organization, enter its scope."""

from collections import Counter

from celery import shared_task

from documents.reminders import send_document_reminders as sweep
from usdoctors.tenancy import sweep_each_organization


@shared_task
def send_document_reminders() -> dict:
    """Beat: document reminders 14 and 7 days before a rotation starts (§7, §9).
    One organization's failure is logged and never stops the others."""
    totals = Counter({"14": 0, "7": 0})
    for counts in sweep_each_organization(sweep):
        totals.update(counts)
    return dict(totals)
