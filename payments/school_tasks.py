"""Celery entry points for school payers (payments.school): ids in, tenant scope entered."""

from celery import shared_task

from payments import school
from usdoctors.tenancy import organization_scope, sweep_each_organization


@shared_task
def charge_school_payment_task(organization_id: int, school_payment_id: int) -> str:
    with organization_scope(organization_id):
        return school.charge_school_payment(school_payment_id)


@shared_task
def charge_school_payments_task(organization_id: int, school_payment_ids: list[int]) -> dict:
    """A batch of charges handed over by the deadline sweep (school.charge_school_payments)."""
    with organization_scope(organization_id):
        return school.charge_school_payments(school_payment_ids)


@shared_task
def charge_unanswered_schools() -> list[dict]:
    """Beat: the school-confirmation deadline (§9), in set-based batches handed to
    ``charge_school_payments_task``."""
    return sweep_each_organization(school.charge_unanswered_schools)
