"""Reminders to letter writers (DESIGN §8, §9): while a letter is accepted, released
to the student and not yet uploaded, its attending is reminded weekly, and every 3
days in the last 3 weeks before the season's ERAS target date
(``lor.services.next_reminder``). Each reminder is sent once: its dedupe key is the
letter and the reminder's number, and the letter's ``next_reminder_on`` moves on in the
same transaction as the email row.

A set-based sweep (STYLE §6): a batch of due letters is taken in
``(next_reminder_on, id)`` order and locked (``FOR UPDATE SKIP LOCKED``: two sweeps
share the work, a letter being marked uploaded is left for the next run); one
``notify_many`` writes the emails with one INSERT … ON CONFLICT DO NOTHING, and one
``update_each`` moves each letter's next date. A batch costs the same few queries
whatever its size; batches repeat, each after the last ``(next_reminder_on, id)`` the
one before took, until no letter is due or the time budget is spent.
"""

from __future__ import annotations

import time
from datetime import date

from django.db import transaction
from django.utils import timezone

from lor.models import Letter, LetterStatus
from lor.services import letter_context, next_reminder, writer_address
from notifications.services import notify_many
from usdoctors import keyset
from usdoctors.bulk import update_each

BATCH_SIZE = 2000
TIME_BUDGET_SECONDS = 60.0
EMAIL_TYPE = "letter_reminder"


def send_letter_reminders(
    organization,
    *,
    today: date | None = None,
    batch_size: int = BATCH_SIZE,
    time_budget: float = TIME_BUDGET_SECONDS,
) -> int:
    """Queue every letter reminder due today in ``organization`` (inside its scope; the
    beat task fans out with ``sweep_each_organization``). Returns how many."""
    today = today or timezone.localdate()
    deadline = time.monotonic() + time_budget
    sent = 0
    after = None
    while time.monotonic() < deadline:
        count, after = _remind_batch(organization, today, batch_size, after)
        sent += count
        if count < batch_size:
            break
    return sent


@transaction.atomic
def _remind_batch(organization, today: date, batch_size: int, after) -> tuple[int, tuple | None]:
    """One batch of due letters after the ``(next_reminder_on, id)`` key ``after``: the
    walk moves on through the index ``lor_letter_reminder_due`` instead of passing the
    entries the batches before left behind. Returns how many and the last key taken."""
    due = Letter.objects.select_for_update(skip_locked=True, of=("self",)).filter(
        organization=organization,
        status=LetterStatus.ACCEPTED,
        released_at__isnull=False,
        next_reminder_on__lte=today,
    )
    batch = list(
        due.filter(keyset.after("next_reminder_on", after))
        .select_related(
            "attending__membership__user",
            "student__user",
            "student__profile",
            "rotation",
        )
        .order_by("next_reminder_on", "pk")[:batch_size]
    )
    if not batch:
        return 0, None
    last = keyset.last_key(batch, "next_reminder_on")
    rows = []
    for letter in batch:
        letter.organization = organization  # loaded once, not joined to every letter
        letter.reminders_sent += 1
        rows.append(
            (
                writer_address(letter.attending),
                EMAIL_TYPE,
                {
                    **letter_context(letter, today),
                    "letter_id": letter.eras_letter_id,
                    "reminder": letter.reminders_sent,
                },
                f"letter-reminder:{letter.pk}:{letter.reminders_sent}",
            )
        )
        letter.next_reminder_on = next_reminder(today, letter.target_on)
    notify_many(organization, rows)
    update_each(batch, ["reminders_sent", "next_reminder_on"])
    return len(batch), last
