"""Issue 11 in Chromium. The student: search → click a free week → the form is filled →
send with an error → the error is in view → fix it → sent → the next step is shown. The
attending: read the requesting student's profile → message them on the request →
approve → publish weeks that change a capacity → see the preview → confirm."""

import re

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from rotations.models import AvailabilityWeek, Message, Rotation
from tests import factories
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUESTION = "Thank you for considering me. Which hospital would I round at?"


@pytest.fixture
def people(site):
    with scopes_disabled():
        student = factories.StudentFactory(
            organization=site["org"], profile__full_name="Amara Okafor"
        )
        attending = factories.AttendingProfileFactory(
            organization=site["org"],
            display_name="Dr. Elena Rivera",
            specialty="cardiology",
            city="Miami",
            state="FL",
        )
        # Weeks 2–9 at 3 places; week 3 is not offered, so search finds week 4 first for 3 weeks.
        factories.publish(attending, factories.next_monday(2), 1, capacity=3)
        factories.publish(attending, factories.next_monday(4), 6, capacity=3)
    return {"student": student, "attending": attending}


def in_viewport(page, locator) -> bool:
    box = locator.bounding_box()
    height = page.evaluate("window.innerHeight")
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def test_student_books_from_the_calendar_and_attending_decides_knowing_who_asks(
    site, people, page, browser, assert_accessible
):
    base = site["url"]
    first_free_run = factories.next_monday(4)
    chosen = factories.next_monday(5)

    # Search for three weeks in a row: the result carries its first start and the weeks.
    log_in(page, base, people["student"].user.email)
    page.get_by_role("link", name="Find attendings").click()
    page.get_by_label("Specialty", exact=True).select_option("cardiology")
    page.get_by_label("Weeks in a row").fill("3")
    page.get_by_label("Earliest start").fill(factories.next_monday(1).isoformat())
    page.get_by_role("button", name="Search", exact=True).click()
    result = page.get_by_role("link", name="Dr. Elena Rivera, MD")
    # htmx redraws the results as filters change: wait for the three-week answer.
    expect(result).to_have_attribute("href", re.compile(rf"start={first_free_run.isoformat()}"))
    result.click()
    form = page.locator("#request-form")
    expect(form.get_by_label("Start date (a Monday)")).to_have_value(first_free_run.isoformat())
    expect(form.get_by_label("Number of weeks")).to_have_value("3")

    # Click another free week in the calendar: the start follows.
    page.get_by_role("link", name=re.compile(rf"^Start {chosen:%b} {chosen.day}\b")).click()
    expect(form.get_by_label("Start date (a Monday)")).to_have_value(chosen.isoformat())
    assert_accessible(page, "attending page with a week chosen")

    form.get_by_label("Rotation type").select_option("clerkship")
    form.get_by_label("Mode").select_option("in_person")
    form.get_by_label("Payment method").select_option("zelle")
    expect(form.get_by_test_id("quote-total")).to_have_text("$1,500.00")
    # Sent without agreeing to the price: the page comes back on the form, error in view.
    form.get_by_role("button", name="Send request").click()
    errors = page.get_by_test_id("request-errors")
    expect(errors).to_be_visible()
    assert in_viewport(page, errors), "the error summary is out of sight"
    expect(page.locator(".form-errors")).to_contain_text("tick the box to agree")
    assert_accessible(page, "request form with an error")

    # Fix it and send.
    form = page.locator("#request-form")
    expect(form.get_by_label("Start date (a Monday)")).to_have_value(chosen.isoformat())
    form.get_by_label("I agree to pay $1,500.00 as scheduled").check()
    form.get_by_role("button", name="Send request").click()
    page.wait_for_url(re.compile(rf"{base}/rotations/\d+/#next-step$"))
    next_step = page.get_by_test_id("next-step")
    expect(next_step).to_contain_text("Dr. Elena Rivera has 7 days to answer")
    expect(next_step).to_contain_text("(UTC−0")
    expect(next_step).to_contain_text("the whole amount is due when they approve")
    assert_accessible(page, "rotation page with its next step")

    # The attending reads the student's profile, asks a question, then approves.
    doctor_context = browser.new_context()
    doctor = doctor_context.new_page()
    log_in(doctor, base, people["attending"].membership.user.email)
    doctor.get_by_role("region", name="Waiting for you").get_by_role(
        "link", name="Amara Okafor"
    ).click()
    doctor.get_by_role("link", name="View profile of Amara Okafor").click()
    expect(doctor.get_by_text("Amara Okafor").first).to_be_visible()
    assert_accessible(doctor, "student profile seen by the requested attending")
    doctor.go_back()
    doctor.get_by_label("Your message").fill(QUESTION)
    doctor.get_by_role("button", name="Send message").click()
    expect(doctor.locator("#message-list").get_by_text(QUESTION)).to_be_visible()
    doctor.get_by_role("button", name="Approve request").click()
    expect(doctor.get_by_test_id("rotation-status")).to_have_text("Approved")

    # Publish weeks 4–11 at 2 places: the preview lists the six weeks that change.
    doctor.get_by_role("link", name="Availability").click()
    expect(doctor.get_by_label("Students at once")).to_have_value("")
    doctor.get_by_label("First week (a Monday)").fill(first_free_run.isoformat())
    doctor.get_by_label("Last week (a Monday)").fill(factories.next_monday(11).isoformat())
    doctor.get_by_label("Students at once").fill("2")
    doctor.get_by_role("button", name="Publish weeks").click()
    preview = doctor.get_by_test_id("publish-preview")
    expect(preview).to_contain_text("changes the capacity of 6 published weeks")
    expect(preview.locator("tbody tr")).to_have_count(6)
    expect(preview).to_contain_text("It also publishes 2 new weeks.")
    assert_accessible(doctor, "publish preview")
    with scopes_disabled():
        assert AvailabilityWeek.objects.get(week_start=first_free_run).capacity == 3
    preview.get_by_role("button", name="Confirm and publish").click()
    expect(doctor.get_by_text("Published 8 weeks from")).to_be_visible()
    doctor_context.close()

    with scopes_disabled():
        rotation = Rotation.objects.get()
        assert (rotation.status, rotation.start, rotation.weeks) == ("approved", chosen, 3)
        assert list(Message.objects.values_list("body", flat=True)) == [QUESTION]
        capacities = dict(AvailabilityWeek.objects.values_list("week_start", "capacity"))
        assert all(capacities[factories.next_monday(n)] == 2 for n in range(4, 12))
        assert capacities[factories.next_monday(2)] == 3
