"""Celery entry points for rotations: fan out per organization, enter its scope, run its
sweep (rotations.sweeps). One organization's failure is logged and never stops the
others (DESIGN §9); the totals add up the organizations that finished."""

import logging
from collections import Counter

from celery import shared_task

from rotations import sweeps
from usdoctors.tenancy import organization_scope, sweep_each_organization

logger = logging.getLogger(__name__)


def _totals(results: list[dict], **zero: int) -> dict:
    totals = Counter(zero)
    for counts in results:
        totals.update(counts)
    return dict(totals)


@shared_task
def remind_and_expire_requests() -> dict:
    results = sweep_each_organization(sweeps.remind_and_expire_requests)
    return _totals(results, expired=0, reminded=0)


@shared_task
def start_due_rotations() -> dict:
    return _totals(sweep_each_organization(sweeps.start_due_rotations), started=0, on_hold=0)


@shared_task
def refresh_stale_next_free_weeks() -> int:
    """Beat: keep again the free-week summary search reads (rotations.free_weeks) of
    attendings whose summary was never kept or was kept before this week began."""
    from rotations.free_weeks import refresh_stale_next_free_weeks as refresh

    return sum(sweep_each_organization(refresh))


@shared_task
def recheck_stale_npis() -> int:
    """Beat, daily: check again in the NPPES registry the NPIs settled more than a year
    ago (rotations.npi_checks.queue_stale_checks)."""
    from rotations.npi_checks import queue_stale_checks

    return sum(sweep_each_organization(queue_stale_checks))


@shared_task
def run_npi_checks(organization_id: int, check_ids: list[int]) -> dict[str, int]:
    """Ask the registry about each pending check and record the answers, one after the
    other (rotations.npi_checks.run_check: idempotent, outside any transaction)."""
    from rotations.npi_checks import run_check

    with organization_scope(organization_id):
        return dict(Counter(run_check(check_id) for check_id in check_ids))


def enqueue_npi_checks(organization_id: int, check_ids: list[int]) -> None:
    """For ``transaction.on_commit``: queue the checks; a broker outage is logged, never
    raised into the request that committed (the daily sweep sends pending checks again)."""
    try:
        run_npi_checks.delay(organization_id, list(check_ids))
    except Exception:
        logger.warning("Could not enqueue NPI checks %s; the daily sweep sends them.", check_ids)
