"""Document reminders (DESIGN §7, §9): 14 and 7 days before a booked rotation starts,
while its checklist is incomplete, each sent once per (rotation, 14 | 7, start date), by
a set-based sweep whose query count does not grow with the rows."""

import logging
from datetime import datetime, timedelta
from datetime import time as clock

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from documents.checklist import checklist
from documents.models import DocumentType
from documents.reminders import send_document_reminders
from documents.review import approve_document
from documents.tasks import send_document_reminders as reminder_task
from documents.uploads import upload_document
from notifications.models import OutboundEmail
from rotations.models import Rotation
from tests import factories
from tests.conftest import MINIMAL_PDF
from usdoctors.links import organization_url

pytestmark = pytest.mark.django_db

QUERY_BOUND = 15  # the same for 200 rows and for 2,000


def morning(day):
    return timezone.make_aware(datetime.combine(day, clock(9)))


def approved(side, *, start=None, status="approved", student=None):
    with scopes_disabled():
        return factories.RotationFactory(
            organization=side["org"],
            student=student or side["student"],
            status=status,
            start=start or factories.next_monday(4),
        )


def reminders() -> list[OutboundEmail]:
    with scopes_disabled():
        return list(OutboundEmail.objects.filter(template="documents_reminder").order_by("pk"))


def sent(rotation=None) -> list[tuple]:
    """(recipient, days_left) of each reminder, oldest first."""
    return [
        (email.recipient, email.context["days_left"])
        for email in reminders()
        if rotation is None or email.context["rotation_url"].endswith(f"/rotations/{rotation.pk}/")
    ]


def complete_checklist(rotation, admin) -> None:
    with scope(organization=rotation.organization):
        for item in checklist(rotation):
            expires = rotation.end + timedelta(days=90) if item.document_type.needs_expiry else None
            document = upload_document(
                rotation.student,
                item.document_type,
                SimpleUploadedFile("record.pdf", MINIMAL_PDF, content_type="application/pdf"),
                issued_on=timezone.localdate() - timedelta(days=5),
                expires_on=expires,
            )
            approve_document(document, by=admin)
        assert all(item.done for item in checklist(rotation))


def test_the_14_and_7_day_reminders_are_each_sent_once(demo, northside):
    rotation = approved(demo)
    theirs = approved(northside, start=rotation.start)
    mine, their_email = demo["student"].user.email, northside["student"].user.email
    expected = []
    for days_before in range(16, -1, -1):  # every day from 16 days before to the start
        with time_machine.travel(morning(rotation.start - timedelta(days=days_before))):
            reminder_task()
            reminder_task()  # twice the same day: nothing new
        if days_before in (14, 7):
            expected += [(mine, days_before), (their_email, days_before)]
        assert sorted(sent()) == sorted(expected), days_before

    assert [days for _, days in sent(rotation)] == [14, 7]
    assert [days for _, days in sent(theirs)] == [14, 7]
    email = [e for e in reminders() if e.recipient == mine][0]
    start = rotation.start
    with scope(organization=demo["org"]):
        words = [item.words() for item in checklist(rotation)]
    assert email.context == {
        "student_name": demo["student"].display_name,
        "rotation_title": "Clerkship",
        "start": f"{start:%A %B} {start.day}, {start.year}",
        "days_left": 14,
        "missing": words,
        "rotation_url": organization_url(demo["org"], f"/rotations/{rotation.pk}/"),
        "documents_url": organization_url(demo["org"], "/documents/"),
    }
    assert "Upload your TB test and immunization report." in email.context["missing"]


def test_the_reminder_lists_only_what_is_not_done(demo, northside):
    rotation = approved(demo)
    complete_checklist(rotation, demo["admin"])
    with scope(organization=demo["org"]):
        passport = DocumentType.objects.get(code="passport_visa")
        upload_document(
            demo["student"],
            passport,
            SimpleUploadedFile("passport.pdf", MINIMAL_PDF, content_type="application/pdf"),
            issued_on=timezone.localdate() - timedelta(days=5),
            expires_on=rotation.end + timedelta(days=90),
        )  # a new passport: waiting for review again
    with scope(organization=demo["org"]):
        send_document_reminders(demo["org"], today=rotation.start - timedelta(days=14))
    (email,) = reminders()
    assert email.context["missing"] == [
        "Your Passport with visa or immigration status is waiting for review."
    ]


def test_no_reminder_once_the_checklist_is_complete(demo, northside):
    rotation = approved(demo)
    complete_checklist(rotation, demo["admin"])
    theirs = approved(northside, start=rotation.start)
    for days_before in (14, 7):
        with time_machine.travel(morning(rotation.start - timedelta(days=days_before))):
            reminder_task()
    assert sent(rotation) == []
    assert [days for _, days in sent(theirs)] == [14, 7]


def test_only_booked_rotations_are_reminded(demo, northside):
    start = factories.next_monday(4)
    with scopes_disabled():
        students = [factories.StudentFactory(organization=demo["org"]) for _ in range(4)]
    booked = approved(demo, start=start, student=students[0])
    others = [
        approved(demo, start=start, student=student, status=status)
        for student, status in zip(
            students[1:], ("cancelled", "requested", "declined"), strict=True
        )
    ]
    with time_machine.travel(morning(start - timedelta(days=14))):
        reminder_task()
    assert sent() == [(students[0].user.email, 14)]
    for rotation in others:
        assert sent(rotation) == []
    assert sent(booked) == [(students[0].user.email, 14)]


def test_a_missed_day_still_sends_the_7_day_reminder_but_never_a_late_14_day_one(demo, northside):
    rotation = approved(demo)
    with time_machine.travel(morning(rotation.start - timedelta(days=10))):
        reminder_task()  # the sweep did not run on day 14: the 14-day one is still due
    assert [days for _, days in sent(rotation)] == [10]
    with time_machine.travel(morning(rotation.start - timedelta(days=6))):
        reminder_task()  # nor on day 7
        reminder_task()
    assert [days for _, days in sent(rotation)] == [10, 6]

    with scopes_disabled():
        late = approved(demo, student=factories.StudentFactory(organization=demo["org"]))
    with time_machine.travel(morning(late.start - timedelta(days=7))):
        reminder_task()  # first run when the 7-day one is due: only that one
    with time_machine.travel(morning(late.start - timedelta(days=3))):
        reminder_task()
    assert [days for _, days in sent(late)] == [7]
    with time_machine.travel(morning(late.start)):
        reminder_task()  # on the start date the start-date sweep takes over
    assert [days for _, days in sent(late)] == [7]


def test_a_moved_rotation_is_reminded_again_for_its_new_start(demo, northside):
    rotation = approved(demo)
    with scope(organization=demo["org"]):
        send_document_reminders(demo["org"], today=rotation.start - timedelta(days=14))
    new_start = rotation.start + timedelta(weeks=2)
    with scopes_disabled():
        Rotation.objects.filter(pk=rotation.pk).update(start=new_start)
    with scope(organization=demo["org"]):
        send_document_reminders(demo["org"], today=new_start - timedelta(days=14))
        send_document_reminders(demo["org"], today=new_start - timedelta(days=14))
    assert [e.dedupe_key for e in reminders()] == [
        f"documents-reminder-14:{rotation.pk}:{rotation.start.isoformat()}",
        f"documents-reminder-14:{rotation.pk}:{new_start.isoformat()}",
    ]


def bulk_rotations(side, count, start) -> list[Rotation]:
    with scopes_disabled():
        students = [factories.StudentFactory(organization=side["org"]) for _ in range(10)]
        attendings = [factories.AttendingProfileFactory(organization=side["org"]) for _ in range(4)]
        return Rotation.objects.bulk_create(
            Rotation(
                organization=side["org"],
                student=students[number % len(students)],
                attending=attendings[number % len(attendings)],
                rotation_type="clerkship",
                mode="in_person",
                start=start + timedelta(weeks=number % 2),
                weeks=2,
                weekly_rate=attendings[0].weekly_rate,
                status="approved",
                respond_by=timezone.now(),
            )
            for number in range(count)
        )


def test_reminding_2000_rotations_costs_the_same_queries_as_200(
    demo, northside, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    start = factories.next_monday(4)
    today = start - timedelta(days=14)
    bulk_rotations(demo, 200, start)
    with scope(organization=demo["org"]), django_assert_max_num_queries(QUERY_BOUND):
        counts = send_document_reminders(demo["org"], today=today)
    assert counts == {"14": 100, "7": 0}  # the other half starts 21 days away

    bulk_rotations(northside, 2000, start)
    with scope(organization=northside["org"]), django_assert_max_num_queries(QUERY_BOUND):
        with django_capture_on_commit_callbacks() as callbacks:
            counts = send_document_reminders(northside["org"], today=start - timedelta(days=7))
    assert counts == {"14": 1000, "7": 1000}
    assert len(callbacks) == 1  # one delivery task for the batch
    assert len(reminders()) == 2100

    # Again: nothing new, still the same bounded cost.
    with scope(organization=northside["org"]), django_assert_max_num_queries(QUERY_BOUND):
        counts = send_document_reminders(northside["org"], today=start - timedelta(days=7))
    assert counts == {"14": 0, "7": 0}
    assert len(reminders()) == 2100


def test_small_batches_walk_the_whole_window(demo, northside):
    start = factories.next_monday(4)
    rotations = bulk_rotations(demo, 23, start)
    with scope(organization=demo["org"]):
        counts = send_document_reminders(demo["org"], today=start - timedelta(days=7), batch_size=5)
    assert counts == {"14": 11, "7": 12}
    assert len({e.dedupe_key for e in reminders()}) == len(rotations)


def test_a_spent_time_budget_leaves_the_rest_for_the_next_run(demo, northside):
    rotation = approved(demo)
    with scope(organization=demo["org"]):
        counts = send_document_reminders(
            demo["org"], today=rotation.start - timedelta(days=14), time_budget=0
        )
    assert counts == {"14": 0, "7": 0} and reminders() == []
    with scope(organization=demo["org"]):
        send_document_reminders(demo["org"], today=rotation.start - timedelta(days=14))
    assert [days for _, days in sent(rotation)] == [14]


def test_one_organizations_failure_is_logged_and_the_others_are_still_reminded(
    demo, northside, caplog
):
    mine = approved(demo)
    theirs = approved(northside, start=mine.start)
    # A real failure inside demo's batch: PostgreSQL refuses demo's outbox rows.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION refuse_demo_email() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'demo outbox is broken'; END $$ LANGUAGE plpgsql;
            CREATE TRIGGER refuse_demo_email BEFORE INSERT ON notifications_outboundemail
            FOR EACH ROW WHEN (NEW.organization_id = %s) EXECUTE FUNCTION refuse_demo_email();
            """,
            [demo["org"].pk],
        )
    with time_machine.travel(morning(mine.start - timedelta(days=14))):
        with caplog.at_level(logging.ERROR, logger="usdoctors.tenancy"):
            totals = reminder_task()
    assert totals == {"14": 1, "7": 0}
    assert sent(mine) == [] and [days for _, days in sent(theirs)] == [14]
    failures = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(failures) == 1 and "demo" in failures[0].getMessage()

    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER refuse_demo_email ON notifications_outboundemail")
    with time_machine.travel(morning(mine.start - timedelta(days=13))):
        reminder_task()  # the next run catches up: nothing was lost
    assert [days for _, days in sent(mine)] == [13]
    assert [days for _, days in sent(theirs)] == [14]


def test_beat_runs_the_sweep_every_hour():
    from django.conf import settings

    from usdoctors.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["document-reminders"]
    assert entry["task"] == reminder_task.name == "documents.tasks.send_document_reminders"
    assert entry["task"] in app.tasks
    assert entry["schedule"] == 60 * 60.0
