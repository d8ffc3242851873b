"""The rotation sweeps (DESIGN §5, §9): reminders and expiry of unanswered requests, and
the start date. Celery beat runs them for each organization (``rotations.tasks``).

Each is set-based (STYLE §6). A batch of due rotations is locked in a fixed order by
their keys alone (``FOR UPDATE SKIP LOCKED``: two sweeps share the work, and a rotation
another transaction is changing is left for the next run), then loaded with what its
emails and readiness checks need (``select_related``). Its status changes are one
``UPDATE``, its history rows one ``bulk_create``, and its emails one ``notify_many``
(INSERT … ON CONFLICT DO NOTHING on their dedupe keys, so a row already queued is
skipped by the database). Admins are looked up once per run. A batch therefore costs the
same few queries whatever its size, and holds only its own rows in memory.

Each rotation that changes status is still announced through ``rotations.lifecycle``,
one call per rotation inside the batch's transaction (free when nobody subscribes); a
subscriber's error rolls back the whole batch.

Batches repeat until the backlog is empty (a batch comes back short) or the time budget
is spent; what is left waits for the next run. Running a sweep again changes nothing and
sends nothing new: the rows it handled no longer match, and the dedupe keys hold.
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Callable
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from notifications.services import admin_recipients, admin_rows, notify_many
from rotations import lifecycle, readiness
from rotations.choices import RotationStatus
from rotations.models import Rotation, RotationEvent
from rotations.services import rotation_context
from usdoctors import keyset
from usdoctors.bulk import update_each
from usdoctors.dates import today

REMINDER_DAYS = (3, 6)
BATCH_SIZE = 2000
TIME_BUDGET_SECONDS = 60.0


def _lock_batch(organization, *due, order: tuple[str, ...], size: int, related) -> list:
    """Lock the first ``size`` of the organization's rotations meeting the ``due``
    conditions, in ``order`` (rows another transaction holds are skipped), then load them
    (``_load``). Two queries: the locking one sorts only ids, so a batch never joins and
    sorts the whole backlog."""
    ids = list(
        Rotation.objects.select_for_update(skip_locked=True)
        .filter(*due, organization=organization)
        .order_by(*order)
        .values_list("pk", flat=True)[:size]
    )
    return _load(organization, ids, order=order, related=related)


def _load(organization, ids, *, order: tuple[str, ...], related) -> list[Rotation]:
    """The rotations ``ids`` in ``order``, with the ``related`` rows their emails and
    checks need, each given the organization at hand (what ``rotation_context`` reads)."""
    if not ids:
        return []
    batch = list(Rotation.objects.filter(pk__in=ids).select_related(*related).order_by(*order))
    for rotation in batch:
        rotation.organization = organization
    return batch


def _drain(take_batch: Callable[[], int], *, batch_size: int, deadline: float) -> int:
    """Take batches until one comes back short (nothing more is due) or the time is up.
    Returns how many rotations they handled."""
    handled = 0
    while time.monotonic() < deadline:
        taken = take_batch()
        handled += taken
        if taken < batch_size:
            break
    return handled


def _history(organization, rotations, *, note: Callable[[Rotation], str] = lambda _: ""):
    """One history row per rotation for the status it has just entered, by nobody (the
    sweep), in one INSERT."""
    RotationEvent.objects.bulk_create(
        RotationEvent(
            organization_id=organization.pk,
            rotation_id=rotation.pk,
            status=rotation.status,
            note=note(rotation).strip(),
        )
        for rotation in rotations
    )


# --- Requests: reminders on days 3 and 6, expiry on day 7 -----------------------------


def remind_and_expire_requests(
    organization,
    *,
    now: datetime | None = None,
    batch_size: int = BATCH_SIZE,
    time_budget: float = TIME_BUDGET_SECONDS,
) -> dict:
    """An unanswered request expires at its response deadline (7 days by default): it
    becomes ``expired``, its history says so, it is announced ``expired`` (by nobody, no
    reason) and the student is emailed ``rotation_expired``. Before that, its attending
    is reminded on day 3 and day 6 (``rotation_request_reminder``), each once: the day's
    flag is set with the email. Expiry goes first, then the day-3 and day-6 reminders,
    all within one time budget.

    Returns ``{"expired": n, "reminded": n}``."""
    now = now or timezone.now()
    deadline = time.monotonic() + time_budget
    counts = {
        "expired": _drain(
            lambda: _expire_batch(organization, now, batch_size),
            batch_size=batch_size,
            deadline=deadline,
        ),
        "reminded": 0,
    }
    for day in REMINDER_DAYS:
        counts["reminded"] += _drain(
            lambda day=day: _remind_batch(organization, now, day, batch_size),
            batch_size=batch_size,
            deadline=deadline,
        )
    return counts


@transaction.atomic
def _expire_batch(organization, now: datetime, batch_size: int) -> int:
    """Expire one batch of requests past their deadline, oldest deadline first. Six
    queries: lock, load, UPDATE, history INSERT, outbox INSERT, pending outbox SELECT."""
    batch = _lock_batch(
        organization,
        Q(status=RotationStatus.REQUESTED, respond_by__lte=now),
        order=("respond_by", "pk"),
        size=batch_size,
        related=("student__user", "student__profile", "attending"),
    )
    if not batch:
        return 0
    decided_at = timezone.now()
    Rotation.objects.filter(pk__in=[rotation.pk for rotation in batch]).update(
        status=RotationStatus.EXPIRED,
        decided_at=Coalesce("decided_at", Value(decided_at)),
        decision_note="",
    )
    for rotation in batch:
        rotation.status = RotationStatus.EXPIRED
        rotation.decided_at = rotation.decided_at or decided_at
        rotation.decision_note = ""
    _history(organization, batch)
    for rotation in batch:
        lifecycle.announce("expired", rotation, by=None, reason="")
    notify_many(
        organization,
        (
            (
                rotation.student.user.email,
                "rotation_expired",
                rotation_context(rotation),
                f"rotation_expired:{rotation.pk}",
            )
            for rotation in batch
        ),
    )
    return len(batch)


@transaction.atomic
def _remind_batch(organization, now: datetime, day: int, batch_size: int) -> int:
    """Remind the attendings of one batch of requests ``day`` days old and not yet
    reminded for that day, oldest first. Five queries: lock, load, UPDATE of the day's flag,
    outbox INSERT, pending outbox SELECT."""
    flag = f"reminded_day{day}_at"
    batch = _lock_batch(
        organization,
        Q(
            status=RotationStatus.REQUESTED,
            requested_at__lte=now - timedelta(days=day),
            respond_by__gt=now,
            **{f"{flag}__isnull": True},
        ),
        order=("requested_at", "pk"),
        size=batch_size,
        related=("student__user", "student__profile", "attending__membership__user"),
    )
    if not batch:
        return 0
    Rotation.objects.filter(pk__in=[rotation.pk for rotation in batch]).update(**{flag: now})
    notify_many(
        organization,
        (
            (
                rotation.attending.membership.user.email,
                "rotation_request_reminder",
                {**rotation_context(rotation), "day": day},
                f"rotation-reminder:{rotation.pk}:day{day}",
            )
            for rotation in batch
        ),
    )
    return len(batch)


# --- The start date ---------------------------------------------------------------------


def start_due_rotations(
    organization,
    *,
    on: date | None = None,
    batch_size: int = BATCH_SIZE,
    time_budget: float = TIME_BUDGET_SECONDS,
) -> dict:
    """On the start date, approved rotations that are ready (readiness checks: paid as
    due or school confirmed, documents complete) go ``in_progress``; the others go
    ``on_hold`` and the student and each admin are told what is missing (each readiness
    item's words and deadline), once per rotation and start date. On-hold rotations
    start as soon as they become ready; one still not ready is left as it is. Each
    rotation that changes goes through the lifecycle as ``started`` or ``on_hold``.

    Rotations due to start are taken first, then those on hold, each walked in
    ``(start, id)`` order batch after batch, so on-hold rotations that stay unready never
    keep a newly due rotation from starting, however many there are. Those this run has
    just put on hold are not judged again in the same run.

    Returns ``{"started": n, "on_hold": n}``."""
    on = on or today()
    deadline = time.monotonic() + time_budget
    admins = admin_recipients(organization)  # once per run, not per rotation
    counts = {"started": 0, "on_hold": 0}
    held_now = _Keys()
    for status in (RotationStatus.APPROVED, RotationStatus.ON_HOLD):
        after = None
        while time.monotonic() < deadline:
            after = _start_batch(
                organization, status, on, after, batch_size, admins, counts, held_now
            )
            if after is None:
                break
    return counts


class _Keys:
    """The ``(start, id)`` keys of the rotations this run put on hold, in the order the
    walk met them, in two compact arrays (16 bytes a rotation, not a Python object each).
    The walk over rotations on hold, which comes after, meets them in that same order, so
    ``met`` tells it, moving forward only, which of them to skip."""

    def __init__(self):
        self.days, self.ids, self.position = array("l"), array("q"), 0

    def add(self, rotation: Rotation) -> None:
        self.days.append(rotation.start.toordinal())
        self.ids.append(rotation.pk)

    def met(self, start: date, pk: int) -> bool:
        key = (start.toordinal(), pk)
        while self.position < len(self.ids) and self._at(self.position) < key:
            self.position += 1
        return self.position < len(self.ids) and self._at(self.position) == key

    def _at(self, position: int) -> tuple[int, int]:
        return self.days[position], self.ids[position]


@transaction.atomic
def _start_batch(
    organization, status, on, after, batch_size, admins, counts, held_now
) -> tuple | None:
    """One batch of rotations in ``status`` due by ``on``, after the ``(start, id)`` key
    ``after``: locked by their keys alone (as ``_lock_batch`` does), then, but for those
    ``held_now`` (put on hold earlier in this run), loaded and judged by
    ``readiness.missing_for_start_many`` (a fixed number of queries per registered batch
    check). Besides those: lock, load, UPDATE of the started, UPDATE of the held,
    history INSERT, outbox INSERT and pending outbox SELECT. Returns the last key taken,
    or None when no more are due."""
    due = Rotation.objects.select_for_update(skip_locked=True).filter(
        organization=organization, status=status, start__lte=on
    )
    due = due.filter(keyset.after("start", after))
    keys = list(due.order_by("start", "pk").values_list("start", "pk")[:batch_size])
    if not keys:
        return None
    if status == RotationStatus.ON_HOLD:  # those held by this run were judged already
        ids = [pk for start, pk in keys if not held_now.met(start, pk)]
    else:
        ids = [pk for _, pk in keys]
    batch = _load(
        organization,
        ids,
        order=("start", "pk"),
        related=("student__user", "student__profile", "attending"),
    )
    missing = readiness.missing_for_start_many(batch)
    started = [rotation for rotation in batch if not missing[rotation.pk]]
    held = [
        rotation
        for rotation in batch
        if missing[rotation.pk] and rotation.status == RotationStatus.APPROVED
    ]
    lines = {rotation.pk: [item.line for item in missing[rotation.pk]] for rotation in held}
    for rotation in started:
        rotation.status = RotationStatus.IN_PROGRESS
        rotation.hold_reason = ""
    for rotation in held:
        rotation.status = RotationStatus.ON_HOLD
        rotation.hold_reason = "\n".join(lines[rotation.pk])
        held_now.add(rotation)
    if started:
        Rotation.objects.filter(pk__in=[rotation.pk for rotation in started]).update(
            status=RotationStatus.IN_PROGRESS, hold_reason=""
        )
    _put_on_hold(held)
    _history(organization, started + held, note=lambda rotation: rotation.hold_reason)
    for rotation in started:
        lifecycle.announce("started", rotation, by=None)
    for rotation in held:
        lifecycle.announce("on_hold", rotation, by=None, missing=tuple(missing[rotation.pk]))
    emails = []
    for rotation in held:
        context = {**rotation_context(rotation), "missing": lines[rotation.pk]}
        key = f"rotation-on-hold:{rotation.pk}:{rotation.start.isoformat()}"
        emails.append((rotation.student.user.email, "rotation_on_hold", context, key))
        emails += admin_rows(admins, "rotation_on_hold_admin", context, dedupe_key=key)
    notify_many(organization, emails)
    counts["started"] += len(started)
    counts["on_hold"] += len(held)
    if len(keys) < batch_size:
        return None  # nothing more is due in this status
    return keys[-1]


def _put_on_hold(held: list[Rotation]) -> None:
    """Write each held rotation's status and its own hold reason in one UPDATE (the ids
    come from the locked batch)."""
    update_each(held, ["hold_reason"], same={"status": RotationStatus.ON_HOLD})
