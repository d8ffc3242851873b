"""The quote a student sees before asking for a rotation (DESIGN §6 "money is shown
before it is owed", §12 ``GET /quote``).

``quote_for`` answers for one attending, start, number of weeks, plan and method, for
the student asking: the price (the attending's weekly rate × weeks), the student's
credit balance applied before installments are computed, the rotation type's
non-refundable application fee on the first installment, and every installment with its
due date, its card fee and what the student is charged for it, exactly as approval
will invoice it (``payments.schedule.quote``).

**The approval date is today.** Due dates count from approval ("due on approval",
"every 7 days from approval"), and a quote cannot know when the attending will answer;
it assumes they approve today. The weekly plan's lead rule is checked on the same day,
as the request is (``payments.plans``).

``refuse_a_changed_price`` is the ``requested`` lifecycle subscriber that holds the
student to the summary they confirmed: when the request carries a ``confirmed_total``
(what the student agreed to pay, card fees included), today's quote must still say the
same to the cent, else the request is refused with a 409 and nothing is written.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from accounts.models import Membership
from payments.credits import credit_balance
from payments.fees import ZERO
from payments.schedule import Quote, quote
from rotations.models import AttendingProfile, Rotation
from rotations.requirements import terms_for
from rotations.services import check_start, check_weeks
from usdoctors.errors import Conflict

PRICE_CHANGED = "The price changed; review it again before sending the request."


def quote_for(
    student: Membership | None,
    attending: AttendingProfile,
    *,
    start: date,
    weeks: int,
    plan: str,
    method: str,
    rotation_type: str | None = None,
    weekly_rate=None,
    application_fee=None,
    on: date | None = None,
) -> Quote:
    """What ``student`` would pay for ``weeks`` weeks with ``attending`` from ``start``
    (§6), assuming approval today (``on``).

    Refused with 400 naming the field: a start that is not a future Monday (``start``),
    weeks outside 1–12 or below the attending's minimum (``weeks``), an unknown plan or a
    weekly plan without the organization's lead time (``plan``), an unknown method
    (``payment_method``). The student's credit balance applies before installments
    (none without a student). ``weekly_rate`` defaults to the attending's current rate.

    The non-refundable application fee of ``rotation_type``'s requirement (§6, §13,
    ``rotations.requirements.terms_for``) is on the first installment and in the
    totals; ``application_fee`` overrides it (a request's fee, fixed when it was made).
    An unknown or not offered type is a 400 naming ``rotation_type``; a type left out
    is answered only when all the attending's types carry the same fee.
    """
    check_start(start)
    check_weeks(attending, weeks)
    if application_fee is None:
        application_fee = terms_for(attending, rotation_type).application_fee
    organization = attending.organization
    return quote(
        weekly_rate=attending.weekly_rate if weekly_rate is None else weekly_rate,
        weeks=weeks,
        plan=plan,
        method=method,
        surcharge_rate=organization.card_surcharge_rate,
        approved_on=on or timezone.localdate(),
        start=start,
        min_lead_days=organization.weekly_plan_min_lead_days,
        credit_available=credit_balance(student) if student is not None else ZERO,
        application_fee=application_fee,
    )


def refuse_a_changed_price(rotation: Rotation, *, by) -> None:
    """Lifecycle ``requested`` handler: the total the student confirmed (card fees and
    the application fee included) must equal today's quote for the request, else 409
    ``price_changed``. The quote is for the request's type, with the application fee
    the request fixed (what applies now: it was copied a moment ago).
    A request without ``confirmed_total`` (allowed in the API) is not checked."""
    confirmed = rotation.confirmed_total
    if confirmed is None:
        return
    current = quote_for(
        rotation.student,
        rotation.attending,
        start=rotation.start,
        weeks=rotation.weeks,
        plan=rotation.plan,
        method=rotation.payment_method,
        rotation_type=rotation.rotation_type,
        weekly_rate=rotation.weekly_rate,
        application_fee=rotation.application_fee,
    )
    if current.total_charged != confirmed:
        raise Conflict(PRICE_CHANGED, code="price_changed")
