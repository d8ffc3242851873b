"""Celery entry points for rotations: fan out per organization, enter its scope, run its
sweep (rotations.sweeps). One organization's failure is logged and never stops the
others (DESIGN §9); the totals add up the organizations that finished."""

from collections import Counter

from celery import shared_task

from rotations import sweeps
from usdoctors.tenancy import sweep_each_organization


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
