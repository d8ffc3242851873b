"""Installment reminders (DESIGN §6, §9): 3 days before an installment is due, on the
due date, and once overdue — each sent once.

A set-based sweep (STYLE §6): per kind of reminder, a batch of due rows is selected
with everything the email needs and locked (``FOR UPDATE SKIP LOCKED``, so two sweeps
share the work instead of doubling it), the outbox rows are written with one INSERT …
ON CONFLICT DO NOTHING on their dedupe key (notifications.services.notify_many), and
the batch's "already sent" timestamps with one UPDATE. A batch costs the same few
queries whatever its size; batches repeat, each after the last ``(due_on, id)`` the one
before took, until the backlog is empty or the time budget is spent. Running the sweep
again sends nothing new: the timestamp is set, and the dedupe key would refuse the email
anyway.

Who is reminded: open (pending or sent) installments of invoices still owed, when the
student pays — a school payer's rotation is followed up through the school's link
(payments.school). The "before" and "on the day" reminders skip invoices issued today:
the payment request itself has just told the student.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from notifications.services import notify_many
from payments.models import Installment, InstallmentStatus, InvoiceKind, InvoiceStatus
from rotations.choices import Payer
from usdoctors import keyset
from usdoctors.links import organization_url

BEFORE_DAYS = 3
# Installments still to pay (the index open_installments_by_due holds them).
OPEN = (InstallmentStatus.PENDING, InstallmentStatus.SENT)
BATCH_SIZE = 2000
TIME_BUDGET_SECONDS = 60.0

# kind → the installment's "already sent" field.
REMINDER_FIELDS = {
    "before": "reminded_before_at",
    "due": "reminded_due_at",
    "overdue": "reminded_overdue_at",
}


def _long_date(day: date) -> str:
    return f"{day:%A %B} {day.day}, {day.year}"


def _due(kind: str, today: date, start_of_today: datetime) -> Q:
    issued_before_today = Q(invoice__created_at__lt=start_of_today)
    if kind == "before":
        return (
            Q(due_on__gt=today, due_on__lte=today + timedelta(days=BEFORE_DAYS))
            & issued_before_today
        )
    if kind == "due":
        return Q(due_on=today) & issued_before_today
    return Q(due_on__lt=today)


def send_payment_reminders(
    organization,
    *,
    today: date | None = None,
    batch_size: int = BATCH_SIZE,
    time_budget: float = TIME_BUDGET_SECONDS,
) -> dict[str, int]:
    """Queue every reminder due today in ``organization`` (inside its scope; the beat
    task fans out with ``sweep_each_organization``). Returns how many of each kind."""
    today = today or timezone.localdate()
    start_of_today = timezone.make_aware(datetime.combine(today, datetime.min.time()))
    deadline = time.monotonic() + time_budget
    counts = {}
    for kind in REMINDER_FIELDS:
        counts[kind] = 0
        after = None
        while time.monotonic() < deadline:
            sent, after = _remind_batch(
                organization, kind, today, start_of_today, batch_size, after
            )
            counts[kind] += sent
            if sent < batch_size:
                break
    return counts


@transaction.atomic
def _remind_batch(
    organization, kind, today, start_of_today, batch_size, after
) -> tuple[int, tuple | None]:
    """One batch of installments due this ``kind`` of reminder, after the ``(due_on, id)``
    key ``after`` (the walk moves on through the index ``open_installments_by_due``
    instead of passing the rows reminded already again). Returns how many were reminded
    and the last key taken."""
    field = REMINDER_FIELDS[kind]
    due = Installment.objects.select_for_update(skip_locked=True, of=("self",)).filter(
        _due(kind, today, start_of_today),
        organization=organization,
        status__in=OPEN,
        invoice__status__in=(InvoiceStatus.DRAFT, InvoiceStatus.ISSUED),
        **{f"{field}__isnull": True},
    )
    batch = list(
        due.filter(keyset.after("due_on", after))
        .exclude(invoice__kind=InvoiceKind.ROTATION, invoice__rotation__payer=Payer.SCHOOL)
        .select_related(
            "invoice__student__user",
            "invoice__student__profile",
            "invoice__rotation__attending",
        )
        .order_by("due_on", "pk")[:batch_size]
    )
    if not batch:
        return 0, None
    site = organization_url(organization, "")
    rows = []
    for installment in batch:
        invoice = installment.invoice
        rotation = invoice.rotation
        title = rotation.get_rotation_type_display().split(" (")[0]
        what = {
            InvoiceKind.LOR_FEE: "The letter of recommendation fee for "
            f"{rotation.attending.display_name}",
            InvoiceKind.IMMIGRATION_LETTER: f"The immigration letter for your {title.lower()}",
        }.get(
            invoice.kind,
            f"Payment {installment.sequence} for your {title.lower()} with "
            f"{rotation.attending.display_name}",
        )
        rows.append(
            (
                invoice.student.user.email,
                "payment_reminder",
                {
                    "when": kind,
                    "student_name": invoice.student.display_name,
                    "what": what,
                    "invoice_kind": invoice.kind,
                    "rotation_title": title,
                    "attending_name": rotation.attending.display_name,
                    "sequence": installment.sequence,
                    "amount": f"{installment.charged:,.2f}",
                    "due_on": _long_date(installment.due_on),
                    "method": invoice.get_payment_method_display(),
                    "reference_code": invoice.reference_code,
                    "rotation_url": f"{site}/rotations/{rotation.pk}/",
                },
                f"payment-reminder-{kind}:{installment.pk}",
            )
        )
    notify_many(organization, rows)
    Installment.objects.filter(pk__in=[installment.pk for installment in batch]).update(
        **{field: timezone.now()}
    )
    return len(batch), keyset.last_key(batch, "due_on")
