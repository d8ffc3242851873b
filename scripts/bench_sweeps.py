"""The sweeps `make bench` times (scripts/bench.py): for each, how to write N due rows in
the first scale organization, the sweep's run over them (inside the organization's
scope) answering how many rows it handled, and its batch size.

Rows are written with bulk_create, around the services, as a backlog left by an outage
would be; each sweep then drains it in one run.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone
from django_scopes import scope, scopes_disabled

CHUNK = 5000


def organization():
    from usdoctors.models import Organization

    return Organization.objects.get(slug="scale1")


def people(count: int):
    """(students, attendings) of the scale organization, enough to spread ``count`` rows."""
    from accounts.models import Membership
    from rotations.models import AttendingProfile

    org = organization()
    students = list(
        Membership.objects.filter(organization=org, role="student").values_list("pk", flat=True)
    )
    attendings = list(
        AttendingProfile.objects.filter(organization=org)
        .order_by("pk")
        .values_list("pk", "weekly_rate")[: max(1, count // len(students) + 1)]
    )
    return org, students, attendings


def rotations(count: int, **fields) -> list:
    """``count`` rotations spread over the organization's students and attendings."""
    from rotations.models import Rotation

    org, students, attendings = people(count)
    now = timezone.now()
    rows = []
    for n in range(count):
        attending_id, rate = attendings[n // len(students) % len(attendings)]
        values = {
            "organization": org,
            "student_id": students[n % len(students)],
            "attending_id": attending_id,
            "rotation_type": "elective",
            "mode": "in_person",
            "weeks": 2,
            "weekly_rate": rate,
            "payment_method": "zelle",
            "requested_at": now - timedelta(days=10),
            "respond_by": now + timedelta(days=1),
        }
        rows.append(Rotation(**{**values, **fields}))
    with scopes_disabled():
        return Rotation.objects.bulk_create(rows, batch_size=CHUNK)


def today():
    return timezone.localdate()


def monday(weeks_ahead: int = 0):
    day = today()
    return day - timedelta(days=day.weekday()) + timedelta(weeks=weeks_ahead)


# --- Each sweep ---------------------------------------------------------------------------


def build_expired(count):
    rotations(
        count, status="requested", start=monday(4), respond_by=timezone.now() - timedelta(hours=1)
    )


def run_expiry():
    from rotations.sweeps import remind_and_expire_requests

    org = organization()
    with scope(organization=org.pk):
        return remind_and_expire_requests(org)["expired"]


def build_day3(count):
    now = timezone.now()
    rotations(
        count,
        status="requested",
        start=monday(5),
        requested_at=now - timedelta(days=3, hours=1),
        respond_by=now + timedelta(days=4),
    )


def run_reminders():
    from rotations.sweeps import remind_and_expire_requests

    org = organization()
    with scope(organization=org.pk):
        return remind_and_expire_requests(org)["reminded"]


def build_starting(count):
    rotations(count, status="approved", start=monday(0), decided_at=timezone.now())


def run_start():
    from rotations.sweeps import start_due_rotations

    org = organization()
    with scope(organization=org.pk):
        counts = start_due_rotations(org)
    return counts["started"] + counts["on_hold"]


def build_overdue_profiles(count):
    from accounts.models import Membership, StudentProfile, User

    org = organization()
    submitted = timezone.now() - timedelta(days=2)
    with scopes_disabled():
        users = User.objects.bulk_create(
            (User(email=f"pending{n}@bench.test", password="!") for n in range(count)),
            batch_size=CHUNK,
        )
        members = Membership.objects.bulk_create(
            (
                Membership(
                    organization=org,
                    user=user,
                    role="student",
                    verification_status="pending",
                    submitted_at=submitted,
                )
                for user in users
            ),
            batch_size=CHUNK,
        )
        StudentProfile.objects.bulk_create(
            (
                StudentProfile(
                    organization=org, membership=member, full_name=f"Pending Student {n}"
                )
                for n, member in enumerate(members)
            ),
            batch_size=CHUNK,
        )


def run_escalation():
    from accounts.services import escalate_overdue_profiles

    org = organization()
    with scope(organization=org.pk):
        return escalate_overdue_profiles(org)


def build_installments(count):
    from payments.models import Installment, Invoice

    booked = rotations(count, status="approved", start=monday(8), decided_at=timezone.now())
    with scopes_disabled():
        invoices = Invoice.objects.bulk_create(
            (
                Invoice(
                    organization_id=rotation.organization_id,
                    rotation=rotation,
                    student_id=rotation.student_id,
                    kind="rotation",
                    payment_method="zelle",
                    status="issued",
                    reference_code=f"BENCH{rotation.pk}",
                )
                for rotation in booked
            ),
            batch_size=CHUNK,
        )
        # Issued yesterday: the sweep leaves an invoice issued today to its own email.
        Invoice.objects.filter(pk__in=[invoice.pk for invoice in invoices]).update(
            created_at=timezone.now() - timedelta(days=1)
        )
        Installment.objects.bulk_create(
            (
                Installment(
                    organization_id=invoice.organization_id,
                    invoice=invoice,
                    sequence=1,
                    due_on=today() + timedelta(days=3),
                    amount=Decimal("1000.00"),
                    card_fee=Decimal("0"),
                    status="sent",
                )
                for invoice in invoices
            ),
            batch_size=CHUNK,
        )


def run_payment_reminders():
    from payments.reminders import send_payment_reminders

    org = organization()
    with scope(organization=org.pk):
        return sum(send_payment_reminders(org).values())


def build_document_reminders(count):
    # Starting on the Monday after next: 8 to 14 days away, the 14-day reminder's window.
    rotations(count, status="approved", start=monday(2), decided_at=timezone.now())


def run_document_reminders():
    from documents.reminders import send_document_reminders

    org = organization()
    with scope(organization=org.pk):
        return sum(send_document_reminders(org).values())


def build_letters(count):
    from lor.models import Letter

    past = rotations(count, status="completed", start=monday(-8))
    now = timezone.now()
    with scopes_disabled():
        Letter.objects.bulk_create(
            (
                Letter(
                    organization_id=rotation.organization_id,
                    student_id=rotation.student_id,
                    attending_id=rotation.attending_id,
                    rotation=rotation,
                    specialty="internal_medicine",
                    season=2028,
                    target_on=date(2027, 9, 15),
                    status="accepted",
                    decided_at=now,
                    released_at=now,
                    next_reminder_on=today(),
                )
                for rotation in past
            ),
            batch_size=CHUNK,
        )


def run_letter_reminders():
    from lor.reminders import send_letter_reminders

    org = organization()
    with scope(organization=org.pk):
        return send_letter_reminders(org)


def batch_size(module: str, name: str, default: int) -> int:
    import importlib

    try:
        return int(getattr(importlib.import_module(module), name))
    except (ImportError, AttributeError, TypeError, ValueError):
        return default


# (name, build due rows, run the sweep → rows handled, batch size)
SWEEPS = [
    (
        "request expiry",
        build_expired,
        run_expiry,
        batch_size("rotations.sweeps", "BATCH_SIZE", 2000),
    ),
    (
        "request reminders (day 3)",
        build_day3,
        run_reminders,
        batch_size("rotations.sweeps", "BATCH_SIZE", 2000),
    ),
    ("start date", build_starting, run_start, batch_size("rotations.sweeps", "BATCH_SIZE", 2000)),
    (
        "verification escalation",
        build_overdue_profiles,
        run_escalation,
        batch_size("accounts.services", "ESCALATION_BATCH_SIZE", 2000),
    ),
    (
        "installment reminders",
        build_installments,
        run_payment_reminders,
        batch_size("payments.reminders", "BATCH_SIZE", 2000),
    ),
    (
        "document reminders",
        build_document_reminders,
        run_document_reminders,
        batch_size("documents.reminders", "BATCH_SIZE", 2000),
    ),
    (
        "letter reminders",
        build_letters,
        run_letter_reminders,
        batch_size("lor.reminders", "BATCH_SIZE", 2000),
    ),
]
