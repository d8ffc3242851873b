"""Celery entry points for the outbox: load by id, enter the tenant scope, call a service."""

from celery import shared_task

from notifications import services
from usdoctors.tenancy import active_organizations, organization_scope


@shared_task(acks_late=True)
def deliver_email(organization_id: int, email_id: int) -> bool:
    with organization_scope(organization_id):
        return services.deliver(email_id)


@shared_task
def retry_unsent_emails() -> int:
    sent = 0
    for organization in active_organizations():
        with organization_scope(organization.pk):
            sent += services.retry_unsent(organization)
    return sent
