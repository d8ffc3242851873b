"""Celery entry points for the outbox: load by id, enter the tenant scope, call a service."""

from celery import shared_task

from notifications import services
from usdoctors.tenancy import organization_scope, sweep_each_organization


@shared_task(acks_late=True)
def deliver_email(organization_id: int, email_id: int) -> bool:
    with organization_scope(organization_id):
        return services.deliver(email_id)


@shared_task
def retry_unsent_emails() -> int:
    return sum(sweep_each_organization(services.retry_unsent))


@shared_task(acks_late=True)
def deliver_emails(organization_id: int, email_ids: list[int]) -> int:
    """Deliver a sweep's batch of outbox rows (notifications.services.notify_many)."""
    with organization_scope(organization_id):
        return sum(services.deliver(email_id) for email_id in email_ids)
