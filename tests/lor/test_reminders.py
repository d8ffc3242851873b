"""Reminders to letter writers (DESIGN §8, §9; issue 9): weekly while a letter is
accepted, released and not uploaded, every 3 days in the last 3 weeks before the ERAS
target date, each sent once, by a set-based sweep whose query count does not grow with
the rows."""

from datetime import date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from lor import services
from lor.models import Letter
from lor.reminders import send_letter_reminders
from lor.tasks import send_letter_reminders as reminder_task
from notifications.models import OutboundEmail
from payments.receipts import record_receipt
from tests import factories

pytestmark = pytest.mark.django_db

SEASON = 2028  # ERAS target date 2027-09-15


def noon(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, clock(12)))


def writer(side, **fields):
    with scopes_disabled():
        return factories.AttendingProfileFactory(
            organization=side["org"], membership=side["attending"], **fields
        )


def accepted(side, *, fee=None, payment_method="paypal"):
    """The side's student asks the side's attending, who accepts today (by the clock)."""
    attending = writer(side, **({"lor_fee": fee} if fee else {}))
    with scopes_disabled():
        factories.completed_rotation(
            attending=attending, student=side["student"], payment_method=payment_method
        )
    with scope(organization=side["org"].pk):
        letter = services.request_letter(
            side["student"], attending, specialty="internal_medicine", season=SEASON
        )
        return services.accept_letter(letter, by=side["attending"])


def sweep(organization, **options) -> int:
    with scope(organization=organization.pk):
        return send_letter_reminders(organization, **options)


def reminders(letter=None) -> list[OutboundEmail]:
    with scopes_disabled():
        rows = OutboundEmail.objects.filter(template="letter_reminder").order_by("pk")
        if letter is not None:
            rows = rows.filter(dedupe_key__startswith=f"letter-reminder:{letter.pk}:")
        return list(rows)


def reload(letter) -> Letter:
    with scopes_disabled():
        return Letter.objects.get(pk=letter.pk)


def test_one_reminder_a_week_until_the_letter_is_uploaded_and_none_after(demo, northside):
    with time_machine.travel(noon(date(2026, 12, 7)), tick=False) as traveller:
        mine = accepted(demo)
        theirs = accepted(northside)
        for week in range(1, 7):
            traveller.shift(timedelta(weeks=1))
            reminder_task()
            reminder_task()  # twice the same day: nothing new
            assert len(reminders(mine)) == week, week
            assert len(reminders(theirs)) == week, week

        with scope(organization=demo["org"].pk):
            services.mark_uploaded(mine, by=demo["attending"])
        for _week in range(4):
            traveller.shift(timedelta(weeks=1))
            reminder_task()
            reminder_task()

    assert len(reminders(mine)) == 6  # none after the upload
    assert len(reminders(theirs)) == 10  # still owed: still reminded
    with scopes_disabled():
        attending = mine.attending
    sent = reminders(mine)
    assert {email.recipient for email in sent} == {attending.contact_email}
    assert [email.context["reminder"] for email in sent] == [1, 2, 3, 4, 5, 6]
    assert [timezone.localdate(email.created_at) for email in sent] == [
        date(2026, 12, 14),
        date(2026, 12, 21),
        date(2026, 12, 28),
        date(2027, 1, 4),
        date(2027, 1, 11),
        date(2027, 1, 18),
    ]
    assert sent[0].context["days_left_words"] == "275 days left"  # to 2027-09-15
    assert sent[0].context["letter_id"] == ""
    assert reload(mine).next_reminder_on is None


def test_day_by_day_for_3_weeks_sends_one_reminder_a_week(demo, northside):
    with time_machine.travel(noon(date(2026, 12, 7)), tick=False) as traveller:
        letter = accepted(demo)
        accepted(northside)
        reminded_on = []
        for _day in range(21):
            traveller.shift(timedelta(days=1))
            before = len(reminders(letter))
            sweep(demo["org"])
            sweep(demo["org"])
            if len(reminders(letter)) > before:
                reminded_on.append(timezone.localdate())

    assert reminded_on == [date(2026, 12, 14), date(2026, 12, 21), date(2026, 12, 28)]
    assert len(reminders(letter)) == 3


def test_every_3_days_in_the_last_3_weeks_then_weekly_again(demo, northside):
    with time_machine.travel(noon(date(2027, 8, 2)), tick=False) as traveller:
        letter = accepted(demo)
        accepted(northside)
        reminded_on = []
        while timezone.localdate() < date(2027, 10, 1):
            traveller.shift(timedelta(days=1))
            before = len(reminders(letter))
            sweep(demo["org"])
            sweep(demo["org"])
            if len(reminders(letter)) > before:
                reminded_on.append(timezone.localdate())

    assert reminded_on == [
        date(2027, 8, 9),  # weekly
        date(2027, 8, 16),
        date(2027, 8, 23),
        date(2027, 8, 25),  # the last 3 weeks before September 15 begin
        date(2027, 8, 28),  # every 3 days
        date(2027, 8, 31),
        date(2027, 9, 3),
        date(2027, 9, 6),
        date(2027, 9, 9),
        date(2027, 9, 12),
        date(2027, 9, 15),  # the target date itself
        date(2027, 9, 22),  # weekly again after it
        date(2027, 9, 29),
    ]
    assert [email.context["days_left_words"] for email in reminders(letter)][-4:] == [
        "3 days left",
        "today",
        "passed 7 days ago",
        "passed 14 days ago",
    ]


def test_no_reminder_while_the_fee_is_unpaid_then_weekly_once_paid(demo, northside):
    with time_machine.travel(noon(date(2026, 12, 7)), tick=False) as traveller:
        letter = accepted(demo, fee=Decimal("50.00"), payment_method="zelle")
        accepted(northside)
        for _week in range(4):
            traveller.shift(timedelta(weeks=1))
            sweep(demo["org"])
        assert reminders(letter) == []
        assert reload(letter).next_reminder_on is None

        with scopes_disabled():
            installment = letter.invoice.installments.get()
        with scope(organization=demo["org"].pk):
            record_receipt(
                installment,
                amount=Decimal("50.00"),
                received_on=timezone.localdate(),
                reference="ZELLE-LOR-7",
                by=demo["admin"],
            )
        traveller.shift(timedelta(days=6))
        sweep(demo["org"])
        assert reminders(letter) == []
        traveller.shift(timedelta(days=1))
        sweep(demo["org"])

    assert len(reminders(letter)) == 1


@pytest.mark.parametrize(
    "status, released",
    [
        ("requested", False),
        ("declined", False),
        ("uploaded", True),
        ("accepted", False),  # accepted with a fee not paid yet
    ],
)
def test_no_reminder_for_a_letter_not_owed(demo, northside, status, released):
    today = date(2026, 12, 14)
    with scopes_disabled():
        rotation = factories.completed_rotation(organization=demo["org"])
        # A due date left on the row must not matter: the state decides.
        factories.LetterFactory(
            rotation=rotation,
            status=status,
            released_at=timezone.now() if released else None,
            next_reminder_on=today - timedelta(days=1),
        )
        owed = factories.LetterFactory(
            rotation=factories.completed_rotation(organization=demo["org"]),
            status="accepted",
            released_at=timezone.now(),
            next_reminder_on=today,
        )

    assert sweep(demo["org"], today=today) == 1
    [email] = reminders()
    assert email.dedupe_key == f"letter-reminder:{owed.pk}:1"


def test_each_organization_sweeps_its_own_letters_and_the_task_sweeps_both(demo, northside):
    with time_machine.travel(noon(date(2026, 12, 7)), tick=False) as traveller:
        mine = accepted(demo)
        theirs = accepted(northside)
        traveller.shift(timedelta(weeks=1))

        assert sweep(demo["org"]) == 1
        assert len(reminders(mine)) == 1 and reminders(theirs) == []
        assert reload(theirs).next_reminder_on == date(2026, 12, 14)

        assert reminder_task() == 1  # Demo's was sent already; Northside's now
        assert len(reminders(mine)) == 1 and len(reminders(theirs)) == 1
        with scopes_disabled():
            [email] = reminders(theirs)
            assert email.organization_id == northside["org"].pk
            assert email.recipient == theirs.attending.contact_email


def due_letters(organization, count: int, due_on: date) -> list[Letter]:
    """``count`` accepted, released letters due ``due_on``, one attending and as many
    students, each from their own completed rotation (built in bulk: one query per
    table)."""
    from accounts.models import Membership, User
    from rotations.models import Rotation

    with scopes_disabled():
        attending = factories.AttendingProfileFactory(organization=organization)
        users = User.objects.bulk_create([factories.UserFactory.build() for _ in range(count)])
        students = Membership.objects.bulk_create(
            [
                Membership(
                    organization=organization,
                    user=user,
                    role="student",
                    verification_status="verified",
                )
                for user in users
            ]
        )
        start = factories.next_monday(-6)
        rotations = Rotation.objects.bulk_create(
            [
                factories.RotationFactory.build(
                    organization=organization,
                    attending=attending,
                    student=student,
                    status="completed",
                    start=start,
                    weeks=4,
                    completed_at=timezone.now(),
                )
                for student in students
            ]
        )
        return Letter.objects.bulk_create(
            [
                factories.LetterFactory.build(
                    organization=organization,
                    rotation=rotation,
                    student=rotation.student,
                    attending=attending,
                    status="accepted",
                    released_at=timezone.now(),
                    next_reminder_on=due_on,
                )
                for rotation in rotations
            ]
        )


def test_a_sweep_costs_the_same_queries_for_10_and_500_letters(demo, northside):
    first_day = date(2026, 12, 14)
    due_letters(northside["org"], 10, first_day)  # not swept by Demo's sweep
    due_letters(demo["org"], 10, first_day)
    with CaptureQueriesContext(connection) as ten:
        assert sweep(demo["org"], today=first_day) == 10

    next_day = first_day + timedelta(days=1)
    due_letters(demo["org"], 500, next_day)
    with CaptureQueriesContext(connection) as five_hundred:
        assert sweep(demo["org"], today=next_day) == 500

    assert len(five_hundred) == len(ten), [q["sql"][:120] for q in five_hundred.captured_queries]
    assert len(ten) <= 10
    assert len(reminders()) == 510
    with scopes_disabled():
        assert not Letter.objects.filter(
            organization=demo["org"], next_reminder_on__lte=next_day
        ).exists()
        assert Letter.objects.filter(organization=northside["org"], reminders_sent=0).count() == 10


def test_batches_send_every_due_letter_once(demo, northside):
    today = date(2026, 12, 14)
    letters = due_letters(demo["org"], 20, today)
    due_letters(northside["org"], 3, today)

    assert sweep(demo["org"], today=today, batch_size=7) == 20
    assert sweep(demo["org"], today=today, batch_size=7) == 0

    sent = reminders()
    assert sorted(email.dedupe_key for email in sent) == sorted(
        f"letter-reminder:{letter.pk}:1" for letter in letters
    )
    with scopes_disabled():
        rows = Letter.objects.filter(pk__in=[letter.pk for letter in letters])
        assert set(rows.values_list("reminders_sent", "next_reminder_on")) == {
            (1, date(2026, 12, 21))
        }
