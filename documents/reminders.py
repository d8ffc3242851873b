"""Document reminders (DESIGN §7, §9): 14 and 7 days before a booked rotation starts,
while its checklist is incomplete, the student is emailed what is still missing — each
reminder once per (rotation, 14 | 7, start date).

Which reminder is due depends only on how far away the start is:

- the 14-day one while the start is 8 to 14 days away;
- the 7-day one while the start is 1 to 7 days away.

So a sweep that missed a day still sends a reminder that is due and not yet sent (the
7-day one, run 6 days before), and never sends the 14-day one once the 7-day one is due.
A rotation moved to another start is reminded again for its new dates: the start date
is part of the dedupe key.

Only ``approved`` rotations are reminded: a request may still be declined, and on the
start date the start-date sweep takes over (``on_hold`` names the missing items).

A set-based sweep (STYLE §6): a batch of rotations starting within the window is taken
in ``(start, id)`` order and locked (``FOR UPDATE SKIP LOCKED``: two sweeps share the
work, and a rotation whose dates are being moved is left for the next run); one query
drops those already reminded (their dedupe key is in the outbox), ``checklists()`` judges
the rest in a fixed number of queries, and ``notify_many`` writes the emails with one
INSERT … ON CONFLICT DO NOTHING on their dedupe keys. A batch costs the same few queries
whatever its size; batches repeat until the window is walked or the time budget is
spent. Running the sweep again sends nothing new.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from documents.checklist import checklists
from notifications.services import notify_many, queued_with_keys
from rotations.choices import RotationStatus
from rotations.models import Rotation
from rotations.services import long_date, type_title
from usdoctors import keyset
from usdoctors.links import organization_url

# Days before the start, latest first: a reminder is due from that many days before the
# start until the next (closer) one is due.
REMINDER_DAYS = (14, 7)
BATCH_SIZE = 2000
TIME_BUDGET_SECONDS = 60.0
EMAIL_TYPE = "documents_reminder"


def due_reminder(start: date, today: date) -> int | None:
    """Which reminder (14 or 7) is due today for a rotation starting on ``start``."""
    days_left = (start - today).days
    for days, closer in zip(REMINDER_DAYS, REMINDER_DAYS[1:] + (0,), strict=True):
        if closer < days_left <= days:
            return days
    return None


def dedupe_key(rotation: Rotation, days: int) -> str:
    return f"documents-reminder-{days}:{rotation.pk}:{rotation.start.isoformat()}"


def send_document_reminders(
    organization,
    *,
    today: date | None = None,
    batch_size: int = BATCH_SIZE,
    time_budget: float = TIME_BUDGET_SECONDS,
) -> dict[str, int]:
    """Queue every document reminder due today in ``organization`` (inside its scope;
    the beat task fans out with ``sweep_each_organization``). Returns how many of each
    were queued, ``{"14": n, "7": n}``."""
    today = today or timezone.localdate()
    deadline = time.monotonic() + time_budget
    counts = {str(days): 0 for days in REMINDER_DAYS}
    after = None
    while time.monotonic() < deadline:
        after = _remind_batch(organization, today, after, batch_size, counts)
        if after is None:
            break
    return counts


@transaction.atomic
def _remind_batch(organization, today, after, batch_size, counts) -> tuple | None:
    """One batch of approved rotations starting within the reminder window, after the
    ``(start, id)`` key ``after``. Returns the last key taken, or None when the window
    holds no more."""
    batch = Rotation.objects.select_for_update(skip_locked=True, of=("self",)).filter(
        organization=organization,
        status=RotationStatus.APPROVED,
        start__gt=today,
        start__lte=today + timedelta(days=max(REMINDER_DAYS)),
    )
    batch = list(
        batch.filter(keyset.after("start", after))
        .select_related("student__user", "student__profile", "attending")
        .order_by("start", "pk")[:batch_size]
    )
    if not batch:
        return None
    keys = {
        rotation.pk: dedupe_key(rotation, due_reminder(rotation.start, today)) for rotation in batch
    }
    already_sent = set(
        queued_with_keys(organization, keys.values()).values_list("dedupe_key", flat=True)
    )
    waiting = [rotation for rotation in batch if keys[rotation.pk] not in already_sent]
    items = checklists(waiting, loaded=True) if waiting else {}
    rows = []
    for rotation in waiting:
        missing = [item.words() for item in items[rotation.pk] if not item.done]
        if not missing:
            continue
        days = due_reminder(rotation.start, today)
        rows.append(
            (
                rotation.student.user.email,
                EMAIL_TYPE,
                {
                    "student_name": rotation.student.display_name,
                    "rotation_title": type_title(rotation),
                    "start": long_date(rotation.start),
                    "days_left": (rotation.start - today).days,
                    "missing": missing,
                    "rotation_url": organization_url(organization, f"/rotations/{rotation.pk}/"),
                    "documents_url": organization_url(organization, "/documents/"),
                },
                keys[rotation.pk],
            )
        )
        counts[str(days)] += 1
    notify_many(organization, rows)
    if len(batch) < batch_size:
        return None  # the window is walked
    return keyset.last_key(batch, "start")
