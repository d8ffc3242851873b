"""A moved rotation's unpaid installments follow the new start (DESIGN §5 date change, §6
plans; payments.rescheduling): through the real date-change services, the installment
due on the Friday before the old start, and any now due after the Friday before the new
start, become due on the new Friday (never before today); what was already requested
(sent, paid) keeps its date; amounts never change."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from notifications.models import OutboundEmail
from payments.models import Installment
from payments.schedule import friday_before
from payments.settlement import mark_installment_paid
from rotations.date_changes import accept_date_change, postpone_rotation, propose_date_change
from rotations.models import AvailabilityWeek
from tests import factories
from tests.payments.booking import book

pytestmark = pytest.mark.django_db


def installments_of(invoice) -> list[Installment]:
    with scopes_disabled():
        return list(Installment.objects.filter(invoice=invoice).order_by("sequence"))


def dates_and_amounts(invoice) -> list[tuple]:
    return [(i.due_on, i.amount, i.status) for i in installments_of(invoice)]


def open_weeks(attending, first_week, weeks: int) -> None:
    """Publish whichever of these weeks the attending has not published yet."""
    with scopes_disabled():
        for number in range(weeks):
            week = first_week + timedelta(weeks=number)
            if not AvailabilityWeek.objects.filter(attending=attending, week_start=week).exists():
                factories.publish(attending, week, 1)


def accept_a_date_change(rotation, new_start):
    """The student proposes ``new_start``; the attending accepts (the ``moved`` event)."""
    with scopes_disabled():
        attending = rotation.attending
        student = rotation.student
    open_weeks(attending, new_start, rotation.weeks)
    with scope(organization=rotation.organization):
        change = propose_date_change(
            rotation, by=student, new_start=new_start, reason="My visa interview moved."
        )
        accept_date_change(change, by=attending.membership)


def postpone(rotation, new_start, admin):
    """An admin moves the rotation (the same ``moved`` event)."""
    with scopes_disabled():
        attending = rotation.attending
    open_weeks(attending, new_start, rotation.weeks)
    with scope(organization=rotation.organization):
        postpone_rotation(rotation, by=admin, new_start=new_start, reason="Illness")


def total(invoice) -> Decimal:
    return sum((i.amount for i in installments_of(invoice)), Decimal("0"))


def test_two_payments_moved_three_weeks_later_pay_the_second_on_the_new_friday(demo, northside):
    rotation, invoice = book(demo["student"], plan="two_payment", method="paypal")
    elsewhere, elsewhere_invoice = book(northside["student"], plan="two_payment")
    first, second = installments_of(invoice)
    assert second.due_on == friday_before(rotation.start)
    untouched = dates_and_amounts(elsewhere_invoice)
    new_start = rotation.start + timedelta(weeks=3)

    accept_a_date_change(rotation, new_start)

    moved_first, moved_second = installments_of(invoice)
    assert moved_second.due_on == friday_before(new_start)
    assert moved_second.due_on == second.due_on + timedelta(weeks=3)
    assert (moved_first.due_on, moved_first.amount) == (first.due_on, first.amount)
    assert moved_second.amount == second.amount
    assert total(invoice) == Decimal("1200.00")
    assert dates_and_amounts(elsewhere_invoice) == untouched  # another tenant's rotation


def test_two_payments_moved_earlier_pay_the_second_on_the_earlier_friday(demo, northside):
    start = factories.next_monday(7)
    rotation, invoice = book(demo["student"], plan="two_payment", start=start)
    first, second = installments_of(invoice)
    new_start = factories.next_monday(4)

    postpone(rotation, new_start, demo["admin"])

    moved_first, moved_second = installments_of(invoice)
    assert moved_second.due_on == friday_before(new_start) < second.due_on
    assert moved_first.due_on == first.due_on
    assert [i.amount for i in (moved_first, moved_second)] == [first.amount, second.amount]
    assert total(invoice) == Decimal("1200.00")


def test_moved_so_early_the_friday_has_passed_the_payment_is_due_today_and_is_sent(
    demo, northside, eager_celery, django_capture_on_commit_callbacks
):
    """On a Saturday the rotation moves to the coming Monday: its Friday was yesterday, so
    the last card payment is due today — never in the past — and goes to the gateway
    (here the simulated one, which emails the pay link) once the move commits."""
    today = timezone.localdate()
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    with time_machine.travel(
        timezone.make_aware(datetime.combine(saturday, datetime.min.time())) + timedelta(hours=12),
        tick=False,
    ):
        rotation, invoice = book(demo["student"], plan="two_payment", method="paypal")
        new_start = saturday + timedelta(days=2)

        with django_capture_on_commit_callbacks(execute=True):
            postpone(rotation, new_start, demo["admin"])

        first, second = installments_of(invoice)
        assert friday_before(new_start) == saturday - timedelta(days=1)
        assert second.due_on == saturday
        assert second.status == "sent"
        assert second.gateway_invoice_id
        with scopes_disabled():
            assert OutboundEmail.objects.filter(
                template="installment_invoice", dedupe_key=f"installment-invoice:{second.pk}"
            ).exists()
        assert total(invoice) == Decimal("1200.00")


def test_a_sent_installment_keeps_its_date(demo, northside):
    """By Zelle every installment is requested at approval (the instructions email), so
    none of them moves when the rotation does."""
    start = factories.next_monday(7)
    rotation, invoice = book(demo["student"], plan="two_payment", method="zelle", start=start)
    before = dates_and_amounts(invoice)
    assert [status for _, _, status in before] == ["sent", "sent"]

    accept_a_date_change(rotation, factories.next_monday(4))

    assert dates_and_amounts(invoice) == before


def test_a_weekly_plans_installments_past_the_new_friday_are_pulled_to_it(demo, northside):
    start = factories.next_monday(8)
    rotation, invoice = book(demo["student"], plan="weekly", rate="700.00", start=start)  # 4 weeks
    before = installments_of(invoice)
    new_start = factories.next_monday(5)
    new_friday = friday_before(new_start)
    expected = [min(i.due_on, new_friday) for i in before]
    assert expected.count(new_friday) >= 2  # the old Friday and a weekly one are pulled in
    assert sum(1 for day in expected if day < new_friday) >= 2  # the earlier ones stay

    accept_a_date_change(rotation, new_start)

    after = installments_of(invoice)
    assert [i.due_on for i in after] == expected
    assert [i.amount for i in after] == [i.amount for i in before]
    assert total(invoice) == Decimal("2800.00")


def test_an_installment_paid_before_the_move_keeps_its_date(demo, northside):
    rotation, invoice = book(demo["student"], plan="two_payment", method="paypal")
    _, second = installments_of(invoice)
    with scope(organization=demo["org"]):
        mark_installment_paid(
            second,
            amount=second.charged,
            method="paypal",
            received_on=timezone.localdate(),
        )

    accept_a_date_change(rotation, rotation.start + timedelta(weeks=3))

    _, paid = installments_of(invoice)
    assert paid.status == "paid"
    assert paid.due_on == second.due_on
