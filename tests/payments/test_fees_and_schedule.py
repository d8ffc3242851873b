"""Plan and fee rules as properties (DESIGN §6), over totals, dates, rates and plans.

Pure functions: no database. The weekly rule tested here is the one stated in
``payments.schedule.weekly_due_dates``: due every 7 days from approval while the next
is at least 7 days before the Friday before the start, the last on that Friday.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from payments.fees import card_fee, method_fee
from payments.schedule import (
    AddOn,
    friday_before,
    installment_schedule,
    quote,
    split_evenly,
)
from usdoctors.errors import Invalid

PROPERTIES = settings(max_examples=200, deadline=None)
CENT = Decimal("0.01")
LEAD = 21  # the default weekly_plan_min_lead_days
RATE = Decimal("0.0299")  # the default card surcharge

# Totals up to the largest a money column holds (10 digits, 2 places).
total_cents = st.integers(min_value=1, max_value=99_999_999_99)
amount_cents = st.integers(min_value=0, max_value=99_999_999_99)
# Surcharge rates as organizations store them: 0 to 3% in steps of 0.01% (4 places).
rate_basis_points = st.integers(min_value=0, max_value=300)
approval_dates = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))
plans = st.sampled_from(["full", "two_payment", "weekly"])
methods = st.sampled_from(["paypal", "zelle", "wire"])


def dollars(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def rate_of(basis_points: int) -> Decimal:
    return Decimal(basis_points).scaleb(-4)


def monday_on_or_after(day: date) -> date:
    return day + timedelta(days=-day.weekday() % 7)


def dates_of(schedule):
    return [due_on for due_on, _amount in schedule]


def amounts_of(schedule):
    return [amount for _due_on, amount in schedule]


def weekly_is_allowed(approved_on: date, start: date, min_lead_days: int) -> bool:
    """The refusal rule, restated: the lead, and room for 3 installments (the Friday
    before the start at least 14 days after approval)."""
    return (start - approved_on).days >= min_lead_days and (
        friday_before(start) - approved_on
    ).days >= 14


# --- Installments sum to the total and differ by at most a cent ------------------------


@PROPERTIES
@given(
    total=total_cents,
    plan=plans,
    approved_on=approval_dates,
    days_ahead=st.integers(min_value=0, max_value=400),
    min_lead_days=st.integers(min_value=0, max_value=60),
)
@example(total=1, plan="two_payment", approved_on=date(2025, 3, 3), days_ahead=35, min_lead_days=21)
@example(total=2, plan="weekly", approved_on=date(2025, 3, 3), days_ahead=35, min_lead_days=21)
def test_installments_sum_exactly_to_the_total_and_differ_by_at_most_a_cent(
    total, plan, approved_on, days_ahead, min_lead_days
):
    start = approved_on + timedelta(days=days_ahead)
    if plan == "weekly" and not weekly_is_allowed(approved_on, start, min_lead_days):
        with pytest.raises(Invalid):
            installment_schedule(dollars(total), plan, approved_on, start, min_lead_days)
        return

    schedule = installment_schedule(dollars(total), plan, approved_on, start, min_lead_days)

    amounts = amounts_of(schedule)
    assert sum(amounts) == dollars(total)
    assert max(amounts) - min(amounts) <= CENT
    assert all(amount > 0 and amount == amount.quantize(CENT) for amount in amounts)
    assert amounts == sorted(amounts, reverse=True)  # the first ones take the extra cents
    assert dates_of(schedule)[0] == approved_on
    assert dates_of(schedule) == sorted(dates_of(schedule))


@PROPERTIES
@given(total=st.integers(min_value=0, max_value=99_999_999_99), parts=st.integers(1, 60))
def test_split_evenly_is_exact_in_cents(total, parts):
    amounts = split_evenly(dollars(total), parts)
    assert len(amounts) == parts
    assert sum(amounts) == dollars(total)
    assert max(amounts) - min(amounts) <= CENT
    assert amounts == sorted(amounts, reverse=True)


def test_a_total_smaller_than_the_number_of_installments_keeps_only_whole_cents():
    """Two cents over a weekly plan of five dates: two payments of a cent, no $0.00 ones."""
    schedule = installment_schedule(
        Decimal("0.02"), "weekly", date(2025, 3, 3), date(2025, 4, 7), LEAD
    )
    assert schedule == [
        (date(2025, 3, 3), Decimal("0.01")),
        (date(2025, 3, 10), Decimal("0.01")),
    ]


def test_nothing_owed_means_no_installments():
    assert (
        installment_schedule(Decimal("0.00"), "full", date(2025, 3, 3), date(2025, 4, 7), 21) == []
    )


# --- Plans: due dates -------------------------------------------------------------------


@PROPERTIES
@given(
    total=total_cents,
    approved_on=approval_dates,
    extra_days=st.integers(min_value=0, max_value=365),
)
def test_weekly_installments_are_7_days_apart_the_last_on_the_friday_before_the_start(
    total, approved_on, extra_days
):
    """Mondays at least 21 days after approval: always allowed, at least 3 installments,
    7 days apart except the last gap (7 to 13 days), the last on the Friday before."""
    start = monday_on_or_after(approved_on + timedelta(days=LEAD + extra_days))
    total = max(total, 100)  # at least a cent for each of the (at most 56) installments

    due = dates_of(installment_schedule(dollars(total), "weekly", approved_on, start, LEAD))

    friday = start - timedelta(days=3)
    assert friday.weekday() == 4
    assert len(due) >= 3
    assert due[0] == approved_on
    assert due[-1] == friday
    gaps = [(later - earlier).days for earlier, later in zip(due, due[1:], strict=False)]
    assert all(gap == 7 for gap in gaps[:-1])
    assert 7 <= gaps[-1] <= 13
    assert len(due) == (friday - approved_on).days // 7 + 1


@PROPERTIES
@given(
    approved_on=approval_dates,
    days_ahead=st.integers(min_value=0, max_value=120),
    min_lead_days=st.integers(min_value=0, max_value=60),
)
def test_weekly_plan_is_allowed_exactly_when_the_lead_and_three_installments_fit(
    approved_on, days_ahead, min_lead_days
):
    """Any start weekday and any organization lead: refused iff the lead is short or
    fewer than 3 installments would fit; otherwise the dates keep the rule."""
    start = approved_on + timedelta(days=days_ahead)
    if not weekly_is_allowed(approved_on, start, min_lead_days):
        with pytest.raises(Invalid) as refused:
            installment_schedule(Decimal("900.00"), "weekly", approved_on, start, min_lead_days)
        assert (refused.value.code, refused.value.field) == ("plan_not_allowed", "plan")
        return
    due = dates_of(
        installment_schedule(Decimal("900.00"), "weekly", approved_on, start, min_lead_days)
    )
    gaps = [(later - earlier).days for earlier, later in zip(due, due[1:], strict=False)]
    assert len(due) >= 3
    assert (due[0], due[-1], due[-1].weekday()) == (approved_on, friday_before(start), 4)
    assert due[-1] < start <= due[-1] + timedelta(days=7)
    assert all(gap == 7 for gap in gaps[:-1]) and 7 <= gaps[-1] <= 13


@PROPERTIES
@given(approved_on=approval_dates, days_ahead=st.integers(min_value=0, max_value=LEAD - 1))
def test_weekly_plan_needs_21_days_lead(approved_on, days_ahead):
    start = approved_on + timedelta(days=days_ahead)
    with pytest.raises(Invalid) as refused:
        installment_schedule(Decimal("1200.00"), "weekly", approved_on, start, LEAD)
    assert refused.value.code == "plan_not_allowed"
    assert refused.value.field == "plan"
    assert refused.value.message == (
        "Weekly installments need the rotation to start at least 21 days from now; "
        "choose full or two payments."
    )


def test_weekly_plan_with_exactly_21_days_lead_has_three_installments():
    """Approved on a Monday, starting three Mondays later: approval, a week later, and
    the Friday before the start (11 days after that)."""
    schedule = installment_schedule(
        Decimal("1000.00"), "weekly", date(2025, 3, 3), date(2025, 3, 24), LEAD
    )
    assert schedule == [
        (date(2025, 3, 3), Decimal("333.34")),
        (date(2025, 3, 10), Decimal("333.33")),
        (date(2025, 3, 21), Decimal("333.33")),
    ]


def test_weekly_plan_approved_on_a_friday_is_exactly_weekly():
    schedule = installment_schedule(
        Decimal("400.00"), "weekly", date(2025, 3, 7), date(2025, 4, 7), LEAD
    )
    assert dates_of(schedule) == [
        date(2025, 3, 7),
        date(2025, 3, 14),
        date(2025, 3, 21),
        date(2025, 3, 28),
        date(2025, 4, 4),
    ]


def test_a_shorter_organization_lead_still_needs_three_installments():
    """An organization may lower the lead; fewer than 3 weekly payments are still refused."""
    with pytest.raises(Invalid) as refused:
        installment_schedule(Decimal("500.00"), "weekly", date(2025, 3, 3), date(2025, 3, 17), 7)
    assert refused.value.code == "plan_not_allowed"
    assert "at least 3 weekly payments" in refused.value.message


@PROPERTIES
@given(total=total_cents, approved_on=approval_dates, days_ahead=st.integers(0, 400))
def test_full_plan_is_one_installment_due_on_approval(total, approved_on, days_ahead):
    start = approved_on + timedelta(days=days_ahead)
    schedule = installment_schedule(dollars(total), "full", approved_on, start, LEAD)
    assert schedule == [(approved_on, dollars(total))]


@PROPERTIES
@given(total=total_cents, approved_on=approval_dates, days_ahead=st.integers(0, 400))
def test_two_payments_half_on_approval_the_rest_the_friday_before_the_start(
    total, approved_on, days_ahead
):
    start = approved_on + timedelta(days=days_ahead)
    schedule = installment_schedule(dollars(total), "two_payment", approved_on, start, LEAD)
    first, *rest = schedule
    assert first == (approved_on, dollars(total - total // 2))
    if total >= 2:
        [(second_due, second)] = rest
        assert second == dollars(total // 2)
        # The Friday before the start; on approval when that Friday has already passed.
        assert second_due == max(approved_on, friday_before(start))


def test_short_lead_allows_full_and_two_payments():
    for plan in ("full", "two_payment"):
        assert installment_schedule(
            Decimal("100.00"), plan, date(2025, 3, 3), date(2025, 3, 10), LEAD
        )


# --- Fees -------------------------------------------------------------------------------


@PROPERTIES
@given(amount=amount_cents, basis_points=rate_basis_points)
@example(amount=50, basis_points=300)  # 1.5 cents: half up, to 2
@example(amount=250, basis_points=100)  # 2.5 cents: half up, to 3 (half to even: 2)
@example(amount=60000, basis_points=299)  # $600.00 at 2.99% = 17.94
def test_card_fee_is_amount_times_rate_rounded_half_up_to_the_cent(amount, basis_points):
    """Checked against integer arithmetic: fee in cents = ⌊amount × bp / 10000 + ½⌋."""
    expected_cents = (2 * amount * basis_points + 10_000) // 20_000
    assert card_fee(dollars(amount), rate_of(basis_points)) == dollars(expected_cents)


@PROPERTIES
@given(
    whole_cents=st.integers(min_value=0, max_value=10**8),
    basis_points=st.sampled_from([50, 100, 125, 200, 250]),  # rates that divide 0.5 cent
)
def test_card_fee_rounds_every_half_cent_up(whole_cents, basis_points):
    """Amounts whose fee is exactly ``whole_cents`` and a half: always rounded up (half
    to even, Python's default, would round half of them down)."""
    amount = (2 * whole_cents + 1) * (5_000 // basis_points)  # fee of whole_cents + ½
    assert card_fee(dollars(amount), rate_of(basis_points)) == dollars(whole_cents + 1)


def test_card_fee_rounds_half_up_not_to_even():
    assert card_fee(Decimal("0.50"), Decimal("0.03")) == Decimal("0.02")  # 0.015
    assert card_fee(Decimal("2.50"), Decimal("0.01")) == Decimal("0.03")  # 0.025
    assert card_fee(Decimal("100.00"), Decimal("0")) == Decimal("0.00")


@PROPERTIES
@given(
    total=total_cents,
    plan=st.sampled_from(["full", "two_payment", "weekly"]),
    basis_points=rate_basis_points,
    approved_on=approval_dates,
    extra_days=st.integers(0, 200),
)
def test_card_fee_is_charged_per_payment(total, plan, basis_points, approved_on, extra_days):
    start = monday_on_or_after(approved_on + timedelta(days=LEAD + extra_days))
    quoted = quote(
        weekly_rate=dollars(total),
        weeks=1,
        plan=plan,
        method="paypal",
        surcharge_rate=rate_of(basis_points),
        approved_on=approved_on,
        start=start,
        min_lead_days=LEAD,
    )
    for installment in quoted.installments:
        assert installment.card_fee == card_fee(installment.amount, rate_of(basis_points))
        assert installment.charged == installment.amount + installment.card_fee
    assert quoted.card_fees == sum(i.card_fee for i in quoted.installments)
    assert quoted.total_charged == dollars(total) + quoted.card_fees
    assert sum(i.charged for i in quoted.installments) == quoted.total_charged


def test_the_card_fee_is_not_computed_on_the_total():
    """$1.00 in two payments at 3%: 1.5 cents twice, each rounded up, is 4 cents; the
    fee on the total would be 3. Each payment is charged its own."""
    quoted = quote(
        weekly_rate=Decimal("1.00"),
        weeks=1,
        plan="two_payment",
        method="paypal",
        surcharge_rate=Decimal("0.03"),
        approved_on=date(2025, 3, 3),
        start=date(2025, 4, 7),
        min_lead_days=LEAD,
    )
    assert [i.card_fee for i in quoted.installments] == [Decimal("0.02"), Decimal("0.02")]
    assert quoted.card_fees == Decimal("0.04") != card_fee(Decimal("1.00"), Decimal("0.03"))


@PROPERTIES
@given(
    amount=amount_cents,
    method=st.sampled_from(["zelle", "wire"]),
    basis_points=rate_basis_points,
)
def test_zelle_and_wire_add_no_fee(amount, method, basis_points):
    assert method_fee(dollars(amount), method, rate_of(basis_points)) == Decimal("0.00")


@PROPERTIES
@given(amount=amount_cents, basis_points=rate_basis_points)
def test_paypal_adds_the_card_fee(amount, basis_points):
    rate = rate_of(basis_points)
    assert method_fee(dollars(amount), "paypal", rate) == card_fee(dollars(amount), rate)


@PROPERTIES
@given(
    total=total_cents,
    plan=plans,
    method=st.sampled_from(["zelle", "wire"]),
    basis_points=rate_basis_points,
    approved_on=approval_dates,
)
def test_a_zelle_or_wire_quote_charges_exactly_what_is_due(
    total, plan, method, basis_points, approved_on
):
    quoted = quote(
        weekly_rate=dollars(total),
        weeks=1,
        plan=plan,
        method=method,
        surcharge_rate=rate_of(basis_points),
        approved_on=approved_on,
        start=monday_on_or_after(approved_on + timedelta(days=LEAD)),
        min_lead_days=LEAD,
    )
    assert quoted.card_fees == Decimal("0.00")
    assert quoted.total_charged == quoted.amount_due == dollars(total)
    assert all(i.card_fee == 0 and i.charged == i.amount for i in quoted.installments)


# --- Quotes -----------------------------------------------------------------------------


def test_worked_example_300_a_week_for_4_weeks_in_two_payments_by_card():
    """DESIGN §6 worked example: $1,200.00 in two installments of $600.00, each paid by
    card as $617.94 ($17.94 card fee at 2.99%)."""
    quoted = quote(
        weekly_rate=Decimal("300.00"),
        weeks=4,
        plan="two_payment",
        method="paypal",
        surcharge_rate=RATE,
        approved_on=date(2025, 3, 3),
        start=date(2025, 4, 7),
        min_lead_days=LEAD,
    )
    assert quoted.price == quoted.amount_due == Decimal("1200.00")
    assert quoted.credit_applied == Decimal("0.00")
    assert [
        (i.sequence, i.due_on, i.amount, i.card_fee, i.charged) for i in quoted.installments
    ] == [
        (1, date(2025, 3, 3), Decimal("600.00"), Decimal("17.94"), Decimal("617.94")),
        (2, date(2025, 4, 4), Decimal("600.00"), Decimal("17.94"), Decimal("617.94")),
    ]
    assert quoted.card_fees == Decimal("35.88")
    assert quoted.total_charged == Decimal("1235.88")


def test_credit_and_add_ons_apply_before_installments_are_computed():
    """$1,200.00 + a $150.00 letter − $350.00 credit = $1,000.00 over three weekly
    installments; the card fee is on each of those, after credit."""
    quoted = quote(
        weekly_rate=Decimal("300.00"),
        weeks=4,
        plan="weekly",
        method="paypal",
        surcharge_rate=RATE,
        approved_on=date(2025, 3, 3),
        start=date(2025, 3, 24),
        min_lead_days=LEAD,
        add_ons=[AddOn("Immigration letter", Decimal("150.00"))],
        credit_available=Decimal("350.00"),
    )
    assert (quoted.subtotal, quoted.credit_applied, quoted.amount_due) == (
        Decimal("1350.00"),
        Decimal("350.00"),
        Decimal("1000.00"),
    )
    assert [(i.amount, i.card_fee) for i in quoted.installments] == [
        (Decimal("333.34"), Decimal("9.97")),
        (Decimal("333.33"), Decimal("9.97")),
        (Decimal("333.33"), Decimal("9.97")),
    ]
    assert quoted.total_charged == Decimal("1029.91")


def test_credit_covering_everything_leaves_nothing_to_pay():
    quoted = quote(
        weekly_rate=Decimal("300.00"),
        weeks=2,
        plan="full",
        method="paypal",
        surcharge_rate=RATE,
        approved_on=date(2025, 3, 3),
        start=date(2025, 4, 7),
        min_lead_days=LEAD,
        credit_available=Decimal("1000.00"),
    )
    assert quoted.credit_applied == Decimal("600.00")
    assert quoted.amount_due == quoted.total_charged == Decimal("0.00")
    assert quoted.installments == ()


@PROPERTIES
@given(
    price=total_cents,
    credit=amount_cents,
    plan=plans,
    method=methods,
    approved_on=approval_dates,
)
def test_quote_totals_agree(price, credit, plan, method, approved_on):
    quoted = quote(
        weekly_rate=dollars(price),
        weeks=1,
        plan=plan,
        method=method,
        surcharge_rate=RATE,
        approved_on=approved_on,
        start=monday_on_or_after(approved_on + timedelta(days=LEAD)),
        min_lead_days=LEAD,
        credit_available=dollars(credit),
    )
    assert quoted.credit_applied == min(dollars(credit), dollars(price))
    assert quoted.amount_due == dollars(price) - quoted.credit_applied >= 0
    assert sum(i.amount for i in quoted.installments) == quoted.amount_due
    assert quoted.total_charged == quoted.amount_due + quoted.card_fees


# --- Refusals ---------------------------------------------------------------------------


def quote_with(**changes):
    arguments = {
        "weekly_rate": Decimal("300.00"),
        "weeks": 4,
        "plan": "two_payment",
        "method": "paypal",
        "surcharge_rate": RATE,
        "approved_on": date(2025, 3, 3),
        "start": date(2025, 4, 7),
        "min_lead_days": LEAD,
    }
    arguments.update(changes)
    return quote(**arguments)


@pytest.mark.parametrize(
    "changes, code, field",
    [
        ({"plan": "monthly"}, "plan_invalid", "plan"),
        ({"method": "bitcoin"}, "payment_method_invalid", "payment_method"),
        ({"plan": "weekly", "start": date(2025, 3, 17)}, "plan_not_allowed", "plan"),
    ],
)
def test_a_quote_refuses_a_plan_or_method_we_do_not_offer(changes, code, field):
    with pytest.raises(Invalid) as refused:
        quote_with(**changes)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert refused.value.status_code == 400


@pytest.mark.parametrize(
    "call",
    [
        lambda: card_fee(Decimal("100.00"), Decimal("0.0301")),
        lambda: card_fee(Decimal("100.00"), Decimal("-0.01")),
        lambda: card_fee(Decimal("100.005"), RATE),
        lambda: card_fee(Decimal("-1.00"), RATE),
        lambda: card_fee(Decimal("NaN"), RATE),
        lambda: installment_schedule(
            Decimal("-0.01"), "full", date(2025, 3, 3), date(2025, 4, 7), 21
        ),
        lambda: quote_with(weekly_rate=Decimal("299.999")),
        lambda: quote_with(credit_available=Decimal("-5.00")),
        lambda: AddOn("Letter", Decimal("-150.00")),
    ],
)
def test_out_of_range_or_fractional_amounts_are_refused(call):
    with pytest.raises(ValueError):
        call()


FLOAT_REFUSED = "amounts are Decimal; a float is refused"


@pytest.mark.parametrize(
    "call",
    [
        lambda: card_fee(600.0, RATE),
        lambda: card_fee(Decimal("600.00"), 0.0299),
        lambda: method_fee(600.0, "zelle", RATE),
        lambda: method_fee(Decimal("600.00"), "wire", 0.0299),
        lambda: split_evenly(1200.0, 2),
        lambda: installment_schedule(1200.0, "full", date(2025, 3, 3), date(2025, 4, 7), 21),
        lambda: quote_with(weekly_rate=300.0),
        lambda: quote_with(surcharge_rate=0.0299),
        lambda: quote_with(credit_available=10.0),
        lambda: AddOn("Immigration letter", 150.0),
    ],
)
def test_a_float_is_refused(call):
    with pytest.raises(TypeError, match=FLOAT_REFUSED):
        call()


def test_dates_must_be_dates_not_datetimes():
    with pytest.raises(TypeError):
        installment_schedule(
            Decimal("100.00"), "full", datetime(2025, 3, 3, 12), date(2025, 4, 7), LEAD
        )
