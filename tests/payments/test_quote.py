"""The quote (DESIGN §6 "money is shown before it is owed", §12 ``GET /quote``): the price,
the card fee and every installment with its due date, for the student asking; the
confirmed total that holds a request to it; search agreeing with it to the cent."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from hypothesis import given, settings
from hypothesis import strategies as st

from payments.refund_models import CancellationTier
from payments.schedule import friday_before, quote
from rotations.models import Rotation
from rotations.search import price_quote
from tests import factories
from usdoctors.dates import next_monday

pytestmark = pytest.mark.django_db

QUOTE = "/api/v1/quote"
WORKED_START_WEEKS = 3  # a Monday three weeks on: before the weekly plan's 21-day lead ends


@pytest.fixture
def attending(demo):
    """$300 a week, minimum 2 weeks, eight published weeks from the Monday after next."""
    with scopes_disabled():
        profile = factories.AttendingProfileFactory(
            organization=demo["org"],
            membership=demo["attending"],
            weekly_rate=Decimal("300.00"),
            minimum_weeks=2,
        )
        factories.publish(profile, factories.next_monday(2), 8)
    return profile


@pytest.fixture
def northside_attending(northside):
    with scopes_disabled():
        return factories.AttendingProfileFactory(
            organization=northside["org"], membership=northside["attending"]
        )


def params(profile, **overrides):
    return {
        "attending": profile.pk,
        "start": factories.next_monday(WORKED_START_WEEKS).isoformat(),
        "weeks": 4,
        "plan": "two_payment",
        "method": "paypal",
        **overrides,
    }


def test_worked_example_two_payments_by_card(demo, attending, api):
    """$300/week × 4 weeks, two payments, by card: two installments of $600.00, each
    paid as $617.94 (600 × 2.99% = 17.94)."""
    start = factories.next_monday(WORKED_START_WEEKS)
    today = timezone.localdate()
    response = api(demo["student"]).get(QUOTE, params(attending))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["price"] == "1200.00"
    assert (body["subtotal"], body["credit_applied"], body["amount_due"]) == (
        "1200.00",
        "0.00",
        "1200.00",
    )
    assert (body["card_fee_rate"], body["card_fees"], body["total_charged"]) == (
        "0.0299",
        "35.88",
        "1235.88",
    )
    assert body["approved_on"] == today.isoformat()
    assert body["installments"] == [
        {
            "sequence": 1,
            "due_on": today.isoformat(),
            "amount": "600.00",
            "application_fee": "0.00",
            "card_fee": "17.94",
            "charged": "617.94",
        },
        {
            "sequence": 2,
            "due_on": friday_before(start).isoformat(),
            "amount": "600.00",
            "application_fee": "0.00",
            "card_fee": "17.94",
            "charged": "617.94",
        },
    ]


def test_zelle_adds_no_fee(demo, attending, api):
    body = api(demo["student"]).get(QUOTE, params(attending, method="zelle")).json()
    assert [(i["amount"], i["card_fee"], i["charged"]) for i in body["installments"]] == [
        ("600.00", "0.00", "600.00"),
        ("600.00", "0.00", "600.00"),
    ]
    assert (body["card_fees"], body["total_charged"]) == ("0.00", "1200.00")


def test_weekly_plan_needs_21_days_lead(demo, attending, api):
    response = api(demo["student"]).get(
        QUOTE, params(attending, plan="weekly", start=factories.next_monday(2).isoformat())
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "plan_not_allowed"
    assert "at least 21 days" in body["errors"]["plan"][0]


def test_weekly_plan_far_enough_ahead_has_weekly_installments(demo, attending, api):
    start = factories.next_monday(6)
    body = (
        api(demo["student"])
        .get(QUOTE, params(attending, plan="weekly", start=start.isoformat()))
        .json()
    )
    dues = [i["due_on"] for i in body["installments"]]
    assert len(dues) >= 3 and dues[-1] == friday_before(start).isoformat()
    assert sum(Decimal(i["amount"]) for i in body["installments"]) == Decimal("1200.00")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"weeks": 13}, "weeks"),
        ({"weeks": 1}, "weeks"),  # below the attending's minimum of 2
        ({"weeks": "many"}, "weeks"),
        ({"start": "2020-01-06"}, "start"),  # in the past
        ({"start": "next week"}, "start"),
        ({"plan": "monthly"}, "plan"),
        ({"method": "bitcoin"}, "method"),
        ({"attending": "someone"}, "attending"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(demo, attending, api, overrides, field):
    response = api(demo["student"]).get(QUOTE, params(attending, **overrides))
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


def test_a_start_that_is_not_a_monday_is_refused(demo, attending, api):
    tuesday = factories.next_monday(3) + timedelta(days=1)
    response = api(demo["student"]).get(QUOTE, params(attending, start=tuesday.isoformat()))
    assert response.status_code == 400
    assert response.json()["code"] == "start_not_monday"


def test_missing_fields_are_named(demo, attending, api):
    response = api(demo["student"]).get(QUOTE, {"attending": attending.pk})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"start", "weeks", "plan", "method"}


def test_another_organizations_attending_is_not_found(demo, attending, northside_attending, api):
    response = api(demo["student"]).get(QUOTE, params(northside_attending))
    assert response.status_code == 404


def test_only_students_get_quotes(demo, attending, api, client_for):
    assert api(demo["attending"]).get(QUOTE, params(attending)).status_code == 403
    assert client_for(None, host="demo.localhost").get(QUOTE, params(attending)).status_code == 401


def test_credit_applies_before_installments(demo, northside, attending, api):
    with scopes_disabled():
        factories.CreditEntryFactory(student=demo["student"], amount=Decimal("200.00"))
        # Another tenant's credit for a student there changes nothing here.
        factories.CreditEntryFactory(student=northside["student"], amount=Decimal("900.00"))
    body = api(demo["student"]).get(QUOTE, params(attending)).json()
    assert (body["price"], body["credit_applied"], body["amount_due"]) == (
        "1200.00",
        "200.00",
        "1000.00",
    )
    assert [(i["amount"], i["card_fee"], i["charged"]) for i in body["installments"]] == [
        ("500.00", "14.95", "514.95"),
        ("500.00", "14.95", "514.95"),
    ]
    assert body["total_charged"] == "1029.90"


# --- The confirmed total holds the request to the quote ---------------------------------


def rotation_body(attending, **overrides):
    return {
        "attending": attending.pk,
        "rotation_type": "clerkship",
        "mode": "in_person",
        "start": factories.next_monday(WORKED_START_WEEKS).isoformat(),
        "weeks": 4,
        "plan": "two_payment",
        "payment_method": "paypal",
        **overrides,
    }


def test_request_with_the_quoted_total_is_sent_and_keeps_it(demo, attending, api):
    response = api(demo["student"]).post(
        "/api/v1/rotations", rotation_body(attending, confirmed_total="1235.88")
    )
    assert response.status_code == 201, response.content
    with scopes_disabled():
        assert Rotation.objects.get().confirmed_total == Decimal("1235.88")


def test_request_with_another_total_is_refused_and_nothing_is_written(demo, attending, api):
    response = api(demo["student"]).post(
        "/api/v1/rotations", rotation_body(attending, confirmed_total="1200.00")
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": "The price changed; review it again before sending the request.",
        "code": "price_changed",
    }
    with scopes_disabled():
        assert not Rotation.objects.exists()


def test_the_price_changed_since_the_summary(demo, attending, api):
    quoted = api(demo["student"]).get(QUOTE, params(attending)).json()["total_charged"]
    with scopes_disabled():
        attending.weekly_rate = Decimal("320.00")
        attending.save()
    response = api(demo["student"]).post(
        "/api/v1/rotations", rotation_body(attending, confirmed_total=quoted)
    )
    assert (response.status_code, response.json()["code"]) == (409, "price_changed")


def test_api_request_without_a_confirmed_total_is_not_checked(demo, attending, api):
    response = api(demo["student"]).post("/api/v1/rotations", rotation_body(attending))
    assert response.status_code == 201
    with scopes_disabled():
        assert Rotation.objects.get().confirmed_total is None


# --- Search agrees with the quote to the cent --------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    weekly_rate=st.decimals(min_value=0, max_value=20000, places=2),
    weeks=st.integers(min_value=1, max_value=12),
    rate=st.decimals(min_value=0, max_value=Decimal("0.03"), places=4),
)
def test_search_figures_equal_the_full_plan_quote_by_card(weekly_rate, weeks, rate):
    """What search and the attending page show (total, "+ card fee if paid by card") is
    the quote for one payment by card: the fee on a single payment is the fee on the
    total."""
    today = timezone.localdate()
    quoted = quote(
        weekly_rate=weekly_rate,
        weeks=weeks,
        plan="full",
        method="paypal",
        surcharge_rate=rate,
        approved_on=today,
        start=today + timedelta(days=30),
        min_lead_days=21,
    )
    assert price_quote(weekly_rate, weeks, rate) == (quoted.price, quoted.card_fees)
    if quoted.installments:
        assert quoted.installments[0].charged == quoted.total_charged


def test_search_result_and_attending_page_match_the_api_quote(demo, attending, api, client_for):
    with scopes_disabled():
        attending.weekly_rate = Decimal("333.33")
        attending.save()
    result = api(demo["student"]).get("/api/v1/attendings", {"weeks": 3}).json()["results"]
    [row] = [r for r in result if r["id"] == attending.pk]
    quoted = (
        api(demo["student"])
        .get(QUOTE, params(attending, weeks=3, plan="full", method="paypal"))
        .json()
    )
    assert (row["total"], row["card_surcharge"]) == (quoted["price"], quoted["card_fees"])
    assert (quoted["price"], quoted["card_fees"]) == ("999.99", "29.90")
    # The attending's page shows the minimum (2 weeks) the same way.
    page = client_for(demo["student"]).get(f"/attendings/{attending.pk}/").content.decode()
    minimum = (
        api(demo["student"])
        .get(QUOTE, params(attending, weeks=2, plan="full", method="paypal"))
        .json()
    )
    assert f"${minimum['price']}" in page.replace(",", "")
    assert f"+ ${minimum['card_fees']} if paid by card" in page


def test_quote_service_outside_a_request(demo, attending):
    """The service is what the API and the pages call: the same figures in the tenant's
    scope."""
    from payments.quotes import quote_for

    with scope(organization=demo["org"]):
        quoted = quote_for(
            demo["student"],
            attending,
            start=factories.next_monday(WORKED_START_WEEKS),
            weeks=4,
            plan="two_payment",
            method="paypal",
        )
    assert [i.charged for i in quoted.installments] == [Decimal("617.94")] * 2


def test_the_quote_carries_the_cancellation_schedule(demo, attending, api):
    """§15: the student's own cancellation follows the organization's published
    schedule, shown with the quote: the default (everything paid towards the price as
    credit), then the organization's own lines, and what cancelling today gives back."""
    body = api(demo["student"]).get(QUOTE, params(attending)).json()
    assert body["cancellation"]["tiers"] == [
        {"days_before_start": 0, "refund_percent": 0, "credit_percent": 100}
    ]
    assert body["cancellation"]["if_cancelled_today"] == "100% as credit toward your next rotation"
    assert "refunded to how you paid" in body["cancellation"]["protection"]

    with scopes_disabled():
        CancellationTier.objects.create(
            organization=demo["org"], days_before_start=30, refund_percent=80, credit_percent=20
        )
        CancellationTier.objects.create(
            organization=demo["org"], days_before_start=7, refund_percent=0, credit_percent=50
        )
    far = params(attending, start=(next_monday() + timedelta(weeks=8)).isoformat())
    body = api(demo["student"]).get(QUOTE, far).json()
    assert [tier["days_before_start"] for tier in body["cancellation"]["tiers"]] == [30, 7]
    assert body["cancellation"]["if_cancelled_today"] == (
        "80% refunded to how you paid and 20% as credit toward your next rotation"
    )
    assert body["cancellation"]["lines"][-1] == "Fewer than 7 days before the start: nothing back"
