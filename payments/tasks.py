"""Celery entry points for payments: load by id, enter the tenant scope, call a service."""

import logging

from celery import shared_task
from django.conf import settings

from payments import sending
from payments.paypal import PayPalError
from usdoctors.tenancy import organization_scope, sweep_each_organization

logger = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(PayPalError,),
    retry_backoff=30,  # seconds: 30, 60, 120, ... (with jitter)
    retry_backoff_max=60 * 60,
    retry_jitter=True,
    max_retries=settings.PAYMENT_SEND_MAX_RETRIES,
)
def send_installment(organization_id: int, installment_id: int) -> str:
    """Send one installment's invoice through the organization's gateway (§6).

    Idempotent: an installment already sent, paid or cancelled is skipped, and the
    gateway call carries PayPal-Request-Id = ``installment-<id>``, so a retry (Celery's,
    or Redis redelivering an unacknowledged task) never creates a second invoice. A
    gateway error is stored on the installment and retried with backoff; after the last
    retry the due-installment sweep keeps trying."""
    with organization_scope(organization_id):
        return sending.send_installment(installment_id)


def enqueue_send_installment(organization_id: int, installment_id: int) -> None:
    """For ``transaction.on_commit``: queue the send; a broker outage is logged, never
    raised into the request that committed (the due-installment sweep sends it later)."""
    try:
        send_installment.delay(organization_id, installment_id)
    except Exception:
        logger.warning(
            "Could not enqueue installment %s; the due-installment sweep will send it.",
            installment_id,
        )


@shared_task(
    autoretry_for=(PayPalError,),
    retry_backoff=30,
    retry_backoff_max=60 * 60,
    retry_jitter=True,
    max_retries=settings.PAYMENT_SEND_MAX_RETRIES,
)
def cancel_installment_invoice(organization_id: int, installment_id: int) -> str:
    """Withdraw a cancelled installment's invoice at the organization's gateway (§6):
    PayPal cancels a sent invoice (and tells the payer) and deletes a scheduled one.
    Idempotent (payments.cancellation.cancel_at_gateway); gateway errors are retried."""
    from payments.cancellation import cancel_at_gateway

    with organization_scope(organization_id):
        return cancel_at_gateway(installment_id)


def enqueue_cancel_installment_invoice(organization_id: int, installment_id: int) -> None:
    """For ``transaction.on_commit``: queue the cancellation; a broker outage is logged,
    never raised into the request that committed."""
    try:
        cancel_installment_invoice.delay(organization_id, installment_id)
    except Exception:
        logger.warning(
            "Could not enqueue the gateway cancellation of installment %s.", installment_id
        )


@shared_task
def send_installments(organization_id: int, installment_ids: list[int]) -> dict[str, int]:
    """A batch of due installments handed over by the sweep (``send_due_installments``),
    sent one after another (sending.send_installments). Not retried as a whole: what
    failed stays pending with its error stored, and the next sweep hands it over again."""
    with organization_scope(organization_id):
        return sending.send_installments(installment_ids)


def enqueue_send_installments(organization_id: int, installment_ids: list[int]) -> None:
    """One task for a batch of the sweep; a broker outage is logged, and the next sweep
    hands the batch over again."""
    try:
        send_installments.delay(organization_id, installment_ids)
    except Exception:
        logger.warning(
            "Could not enqueue %s due installments; the next sweep will.", len(installment_ids)
        )


@shared_task
def send_due_installments() -> int:
    """Periodic: hand every card installment still pending on its due date (later
    installments of a plan, and sends whose retries ran out) to the gateway task, in
    batches: one query and one task per batch (sending.enqueue_due_installments); the
    task skips whatever another run already sent."""
    return sum(sweep_each_organization(sending.enqueue_due_installments))


@shared_task
def send_payment_reminders() -> int:
    """Beat: installment reminders 3 days before, on and after each due date (§6, §9)."""
    from payments.reminders import send_payment_reminders as sweep

    return sum(sum(counts.values()) for counts in sweep_each_organization(sweep))


@shared_task(
    autoretry_for=(PayPalError,),
    retry_backoff=30,
    retry_backoff_max=60 * 60,
    retry_jitter=True,
    max_retries=settings.PAYMENT_SEND_MAX_RETRIES,
)
def send_refund(organization_id: int, refund_id: int) -> str:
    """Refund one payment through the organization's gateway after the cancellation
    committed (§15). Idempotent (payments.refunds.refund_at_gateway: only a pending
    refund is sent, with PayPal-Request-Id ``refund-<id>``); gateway errors are retried."""
    from payments.refunds import refund_at_gateway

    with organization_scope(organization_id):
        return refund_at_gateway(refund_id)


def enqueue_send_refund(organization_id: int, refund_id: int) -> None:
    """For ``transaction.on_commit``: queue the refund; a broker outage is logged, never
    raised into the cancellation that committed (the refunds page shows it pending)."""
    try:
        send_refund.delay(organization_id, refund_id)
    except Exception:
        logger.warning("Could not enqueue refund %s; it stays pending.", refund_id)
