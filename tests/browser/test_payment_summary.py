"""DESIGN §6 "money is shown before it is owed", in Chromium: the request form shows the
price with the card fee and every payment, redraws it live (htmx) when the method
changes to Zelle, and the request is sent once the student agrees to the total."""

import re
from decimal import Decimal

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from rotations.models import Requirement, Rotation
from tests import factories
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(site):
    with scopes_disabled():
        student = factories.StudentFactory(organization=site["org"])
        attending = factories.AttendingProfileFactory(
            organization=site["org"], display_name="Dr. Sam Okoye", weekly_rate=Decimal("300.00")
        )
        factories.publish(attending, factories.next_monday(2), 8)
    return {"student": student, "attending": attending}


def test_summary_follows_the_form_and_the_student_confirms_it(
    site, people, page, assert_accessible
):
    base = site["url"]
    attending = people["attending"]
    log_in(page, base, people["student"].user.email)
    page.goto(f"{base}/attendings/{attending.pk}/request/")

    form = page.locator("#request")
    summary = page.locator("#price-summary")
    expect(summary.get_by_test_id("quote-incomplete")).to_be_visible()
    form.get_by_label("Rotation type").select_option("clerkship")
    form.get_by_label("Mode").select_option("in_person")
    form.get_by_label("Start date (a Monday)").fill(factories.next_monday(3).isoformat())
    form.get_by_label("Number of weeks").fill("4")
    form.get_by_label("Payment plan").select_option("two_payment")

    # $300 × 4 = $1,200 in two payments by card: $600.00 + $17.94 each.
    expect(summary.get_by_test_id("quote-total")).to_have_text("$1,235.88")
    expect(summary.get_by_test_id("quote-card-fee")).to_contain_text("$35.88")
    expect(summary.get_by_role("cell", name="$617.94")).to_have_count(2)
    assert_accessible(page, "request form with the price summary")

    # Zelle adds nothing: the summary is redrawn in place.
    form.get_by_label("Payment method").select_option("zelle")
    expect(summary.get_by_test_id("quote-total")).to_have_text("$1,200.00")
    expect(summary.get_by_role("cell", name="$600.00")).to_have_count(4)

    # Sending without agreeing is refused next to the summary.
    form.get_by_role("button", name="Send request").click()
    expect(page.locator("#id_confirmed_total_error")).to_contain_text("tick the box")
    expect(summary.get_by_test_id("quote-total")).to_have_text("$1,200.00")

    summary.get_by_label("I agree to pay $1,200.00 as scheduled").check()
    form.get_by_role("button", name="Send request").click()
    page.wait_for_url(re.compile(rf"{base}/rotations/\d+/#next-step$"))
    expect(page.get_by_test_id("rotation-payments")).to_contain_text(
        "You agreed to pay $1,200.00 as scheduled"
    )
    with scopes_disabled():
        rotation = Rotation.objects.get()
    assert (rotation.payment_method, rotation.confirmed_total) == ("zelle", Decimal("1200.00"))


def test_the_summary_follows_the_type_with_its_application_fee_and_housing(
    site, people, page, assert_accessible
):
    """§6, §13: the clerkship asks a $75.00 non-refundable fee and includes housing, the
    observership neither; choosing the type redraws the summary, and the student agrees
    to the total with the fee ($675.00 + $20.18 card fee, then $600.00 + $17.94)."""
    attending = people["attending"]
    with scopes_disabled():
        Requirement.objects.create(
            organization=site["org"],
            attending=attending,
            rotation_type="clerkship",
            application_fee=Decimal("75.00"),
            housing_included=True,
        )
    base = site["url"]
    log_in(page, base, people["student"].user.email)
    page.goto(f"{base}/attendings/{attending.pk}/request/")
    form = page.locator("#request")
    summary = page.locator("#price-summary")
    form.get_by_label("Rotation type").select_option("observership")
    form.get_by_label("Mode").select_option("in_person")
    form.get_by_label("Start date (a Monday)").fill(factories.next_monday(3).isoformat())
    form.get_by_label("Number of weeks").fill("4")
    form.get_by_label("Payment plan").select_option("two_payment")
    expect(summary.get_by_test_id("quote-total")).to_have_text("$1,235.88")
    expect(summary.get_by_test_id("quote-housing")).to_have_text("Not included")
    expect(summary.get_by_test_id("quote-application-fee")).to_have_count(0)

    form.get_by_label("Rotation type").select_option("clerkship")
    expect(summary.get_by_test_id("quote-total")).to_have_text("$1,313.12")
    expect(summary.get_by_test_id("quote-application-fee")).to_contain_text(
        "$75.00 (non-refundable"
    )
    expect(summary.get_by_test_id("quote-housing")).to_have_text("Housing included")
    expect(summary.get_by_role("cell", name="$695.18")).to_have_count(1)
    assert_accessible(page, "price summary with an application fee")

    summary.get_by_label("I agree to pay $1,313.12 as scheduled").check()
    form.get_by_role("button", name="Send request").click()
    page.wait_for_url(re.compile(rf"{base}/rotations/\d+/#next-step$"))
    expect(page.get_by_test_id("rotation-application-fee")).to_contain_text("$75.00")
    with scopes_disabled():
        rotation = Rotation.objects.get()
    assert (rotation.application_fee, rotation.confirmed_total) == (
        Decimal("75.00"),
        Decimal("1313.12"),
    )
