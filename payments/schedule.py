"""Payment plans and quotes (DESIGN §6): when each installment is due, how much, and what
the student is charged for it.

Pure functions, no database: the request form and ``GET /api/v1/quote`` show exactly
what approval will later write as the invoice. Amounts are ``Decimal`` whole cents; a
float is refused (payments.fees).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from payments.fees import ZERO, cents, check_payment_method, method_fee
from payments.fees import surcharge_rate as checked_surcharge_rate
from rotations.choices import Plan
from usdoctors.errors import Invalid

FRIDAY = 4
WEEK = timedelta(days=7)
MIN_WEEKLY_INSTALLMENTS = 3
# The first installment's line for the requirement's application fee (§6, §13).
APPLICATION_FEE_LABEL = "Application fee (non-refundable)"


def _date(value, name: str) -> date:
    # A datetime is a date subclass; comparing one with a date would quietly mislead.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise TypeError(f"{name} must be a date, not {type(value).__name__}")
    return value


def friday_before(start: date) -> date:
    """The last Friday strictly before ``start`` (for a Monday start, three days before)."""
    return start - timedelta(days=(start.weekday() - FRIDAY) % 7 or 7)


def check_plan(plan: str) -> str:
    """The plan if it is one we offer (full, two_payment, weekly), else a 400."""
    if plan not in Plan.values:
        raise Invalid("Choose a payment plan.", code="plan_invalid", field="plan")
    return plan


def weekly_due_dates(approved_on: date, start: date, min_lead_days: int) -> list[date]:
    """The due dates of a weekly plan (§6), or ``Invalid`` (code ``plan_not_allowed``).

    The rule: the plan needs the start at least ``min_lead_days`` (the organization's
    ``weekly_plan_min_lead_days``, 21 by default) after approval. Installments are due
    every 7 days from approval — approval, approval + 7, approval + 14, …, each that
    falls at least 7 days before the Friday before the start — and the last one is due
    on that Friday. So every gap is exactly 7 days except the last, which is 7 to
    13 days, and there are ``(friday - approval) // 7 + 1`` installments.

    Why the last gap stretches rather than shrinks: approval falls on any weekday, so
    "every 7 days from approval" and "the last on the Friday" only meet exactly when
    approval is itself a Friday. Squeezing an extra payment into the last few days
    (Thursday, then Friday) would bill the student twice in two days; an agency would
    rather let the final payment wait up to 13 days.

    At least 3 installments: the default 21 days' lead before a Monday start leaves at
    least 18 days to the Friday, so 3 or more always follow. An organization with a
    shorter lead gets the same refusal when fewer than 3 would fit.
    """
    lead = min_lead_days
    if (start - approved_on).days < lead:
        # The same words rotations uses at request time (check_plan_allowed).
        raise Invalid(
            f"Weekly installments need the rotation to start at least {lead} days from now; "
            "choose full or two payments.",
            code="plan_not_allowed",
            field="plan",
        )
    friday = friday_before(start)
    regular = (friday - approved_on).days // 7  # the ones due every 7 days from approval
    if regular + 1 < MIN_WEEKLY_INSTALLMENTS:
        raise Invalid(
            f"Weekly installments need room for at least {MIN_WEEKLY_INSTALLMENTS} weekly "
            "payments before the rotation starts; choose full or two payments.",
            code="plan_not_allowed",
            field="plan",
        )
    return [approved_on + WEEK * number for number in range(regular)] + [friday]


def due_dates(plan: str, approved_on: date, start: date, min_lead_days: int) -> list[date]:
    """When each installment of ``plan`` is due (§6).

    - ``full``: one, on approval.
    - ``two_payment``: on approval, and on the Friday before the start (on approval too
      when that Friday has already passed).
    - ``weekly``: see ``weekly_due_dates``.
    """
    check_plan(plan)
    approved_on = _date(approved_on, "approved_on")
    start = _date(start, "start")
    if isinstance(min_lead_days, bool) or not isinstance(min_lead_days, int):
        raise TypeError("min_lead_days must be an int")
    if plan == Plan.FULL:
        return [approved_on]
    if plan == Plan.TWO_PAYMENT:
        return [approved_on, max(approved_on, friday_before(start))]
    return weekly_due_dates(approved_on, start, min_lead_days)


def split_evenly(total, parts: int) -> list[Decimal]:
    """``total`` in ``parts`` amounts that sum to it exactly and differ by at most a cent.

    Split in integer cents with ``divmod``; the first installments take the extra cents,
    so nothing is left to the last payment before the start.
    """
    total = cents(total, "total")
    if parts < 1:
        raise ValueError("parts must be at least 1")
    base, extra = divmod(int(total * 100), parts)
    return [Decimal(base + (1 if number < extra else 0)).scaleb(-2) for number in range(parts)]


def installment_schedule(
    total, plan: str, approved_on: date, start: date, min_lead_days: int
) -> list[tuple[date, Decimal]]:
    """``[(due_on, amount), …]`` for what is due after credit (§6).

    Due dates follow the plan (``due_dates``); amounts split ``total`` evenly
    (``split_evenly``): they sum to it exactly and any two differ by at most one cent.
    A plan that is not allowed is refused even when nothing is owed. Nothing owed means
    no installments; a total of fewer cents than the plan has dates keeps only the
    installments that carry a cent (the first ones), since a $0.00 installment is not a
    payment anyone can make.
    """
    total = cents(total, "total")
    if total < 0:
        raise ValueError(f"total must not be negative, not {total}")
    dates = due_dates(plan, approved_on, start, min_lead_days)
    return [
        (due_on, amount)
        for due_on, amount in zip(dates, split_evenly(total, len(dates)), strict=True)
        if amount > 0
    ]


def with_application_fee(
    schedule: list[tuple[date, Decimal]], application_fee, approved_on: date
) -> list[tuple[date, Decimal, Decimal]]:
    """``[(due_on, amount, application_fee), …]``: the plan's installments with the
    non-refundable application fee (§6, §13) added to the **first** one's amount, kept
    apart as its own figure so the invoice shows it as its own line and a cancellation
    can leave it out of what is returned (payments.refunds).

    The fee is not split across the plan and credit does not pay it (credit applies to
    the price, before installments are computed): it is what the first payment carries
    on top of its share. When credit covers the whole price, the first installment is
    the fee alone, due on approval. A fee of 0 changes nothing.
    """
    application_fee = cents(application_fee, "application_fee")
    if application_fee < 0:
        raise ValueError(f"application_fee must not be negative, not {application_fee}")
    rows = [(due_on, amount, ZERO) for due_on, amount in schedule]
    if application_fee == 0:
        return rows
    if not rows:
        return [(approved_on, application_fee, application_fee)]
    due_on, amount, _ = rows[0]
    rows[0] = (due_on, amount + application_fee, application_fee)
    return rows


# --- Quotes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AddOn:
    """Something bought with the rotation, e.g. the immigration letter (§6)."""

    label: str
    amount: Decimal

    def __post_init__(self):
        amount = cents(self.amount, f"add-on {self.label!r}")
        if amount < 0:
            raise ValueError(f"add-on {self.label!r} must not be negative")
        object.__setattr__(self, "amount", amount)


@dataclass(frozen=True)
class QuotedInstallment:
    sequence: int  # 1-based
    due_on: date
    amount: Decimal  # the share of what is due, the application fee included (first only)
    card_fee: Decimal  # the surcharge on this payment: 0 for Zelle and wire
    application_fee: Decimal = ZERO  # the part of ``amount`` that is the application fee

    @property
    def charged(self) -> Decimal:
        """What the student pays for this installment."""
        return self.amount + self.card_fee


@dataclass(frozen=True)
class Quote:
    """Price, add-ons, credit, and every installment with its fee, as approval will
    invoice them (§6 "money is shown before it is owed")."""

    plan: str
    method: str
    price: Decimal  # weekly rate × weeks
    add_ons: tuple[AddOn, ...]
    credit_applied: Decimal  # positive: how much of the student's credit is used
    installments: tuple[QuotedInstallment, ...]
    application_fee: Decimal = ZERO  # non-refundable, on the first installment (§6, §13)

    @property
    def subtotal(self) -> Decimal:
        """Price plus add-ons plus the application fee, before credit."""
        return (
            self.price
            + sum((add_on.amount for add_on in self.add_ons), ZERO)
            + self.application_fee
        )

    @property
    def amount_due(self) -> Decimal:
        """What the installments split: subtotal less credit."""
        return self.subtotal - self.credit_applied

    @property
    def card_fees(self) -> Decimal:
        """The card fees of all installments (each computed on its own payment)."""
        return sum((installment.card_fee for installment in self.installments), ZERO)

    @property
    def total_charged(self) -> Decimal:
        """Everything the student pays: amount due plus the card fees."""
        return self.amount_due + self.card_fees


def quote(
    *,
    weekly_rate,
    weeks: int,
    plan: str,
    method: str,
    surcharge_rate: Decimal,
    approved_on: date,
    start: date,
    min_lead_days: int,
    add_ons: Iterable[AddOn] = (),
    credit_available=ZERO,
    application_fee=ZERO,
) -> Quote:
    """What a rotation costs and how it is paid (§6).

    Price = weekly rate × weeks, plus add-ons. Credit applies before installments are
    computed: as much of ``credit_available`` as the price and add-ons take. The rest is
    split into the plan's installments (``installment_schedule``); the non-refundable
    ``application_fee`` is added to the first one (``with_application_fee``). Each
    installment carries its own method fee (``payments.fees.method_fee``) on its whole
    amount: the card surcharge applies to **each payment** (§6), so the first payment's
    surcharge is on its share *and* the application fee, like anything else paid by
    card; nothing for Zelle or wire.
    """
    check_plan(plan)
    check_payment_method(method)
    rate = checked_surcharge_rate(surcharge_rate)
    weekly_rate = cents(weekly_rate, "weekly_rate")
    if isinstance(weeks, bool) or not isinstance(weeks, int):
        raise TypeError("weeks must be an int")
    if weeks < 1:
        raise ValueError(f"weeks must be at least 1, not {weeks}")
    credit_available = cents(credit_available, "credit_available")
    if weekly_rate < 0 or credit_available < 0:
        raise ValueError("weekly_rate and credit_available must not be negative")
    add_ons = tuple(add_ons)
    price = weekly_rate * weeks
    subtotal = price + sum((add_on.amount for add_on in add_ons), ZERO)
    credit_applied = min(credit_available, subtotal)
    schedule = with_application_fee(
        installment_schedule(subtotal - credit_applied, plan, approved_on, start, min_lead_days),
        application_fee,
        approved_on,
    )
    return Quote(
        plan=plan,
        method=method,
        price=price,
        add_ons=add_ons,
        credit_applied=credit_applied,
        application_fee=cents(application_fee, "application_fee"),
        installments=tuple(
            QuotedInstallment(
                sequence=number,
                due_on=due_on,
                amount=amount,
                card_fee=method_fee(amount, method, rate),
                application_fee=fee,
            )
            for number, (due_on, amount, fee) in enumerate(schedule, start=1)
        ),
    )
