"""DESIGN §4–§5 in a real browser: a verified student finds an attending and requests a
rotation; the attending sees the request on the dashboard and approves it; the student
sees it approved and writes (htmx appends the message); the attending reads it. axe
checks the rotation pages and the attending's own pages on the way."""

import re
from datetime import date

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from rotations.models import AvailabilityWeek, Message, Rotation
from tests import factories
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MESSAGE = "Hello Dr. Rivera, where should I meet you on the first morning?"


@pytest.fixture
def people(site):
    """A verified graduate and an attending with eight published weeks, plus northside's
    attending so the search has another tenant's row to leave out."""
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
        factories.publish(attending, factories.next_monday(2), 8, capacity=2)
    return {"student": student, "attending": attending}


def test_student_requests_attending_approves_and_they_message(
    site, people, page, browser, assert_accessible
):
    base = site["url"]
    attending = people["attending"]
    start: date = factories.next_monday(3)

    # The student searches and opens the attending's page.
    log_in(page, base, people["student"].user.email)
    page.get_by_role("link", name="Find attendings").click()
    page.get_by_label("Specialty", exact=True).select_option("cardiology")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_role("link", name="Dr. Elena Rivera, MD").click()
    expect(page.get_by_role("heading", name="Dr. Elena Rivera, MD", level=1)).to_be_visible()
    assert_accessible(page, "attending page with the request form")

    form = page.locator("#request")
    form.get_by_label("Rotation type").select_option("clerkship")
    form.get_by_label("Mode").select_option("in_person")
    form.get_by_label("Start date (a Monday)").fill(start.isoformat())
    form.get_by_label("Number of weeks").fill("2")
    form.get_by_label("Payment method").select_option("zelle")
    form.get_by_label("Message to the attending").fill("I hope to match in cardiology.")
    # The price summary ($500 × 2 weeks by Zelle, no card fee); the student agrees to it.
    expect(form.get_by_test_id("quote-total")).to_have_text("$1,000.00")
    form.get_by_label("I agree to pay $1,000.00 as scheduled").check()
    form.get_by_role("button", name="Send request").click()

    page.wait_for_url(re.compile(rf"{base}/rotations/\d+/#next-step$"))
    rotation_url = page.url
    expect(page.get_by_text("Your request is on its way to Dr. Elena Rivera.")).to_be_visible()
    expect(page.get_by_test_id("rotation-status")).to_have_text("Requested")
    assert_accessible(page, "rotation page (student, requested)")
    page.get_by_role("link", name="Rotations", exact=True).click()
    expect(page.get_by_role("link", name="Clerkship")).to_be_visible()
    assert_accessible(page, "rotation list (student)")

    # The attending, in another browser session, finds it on the dashboard and approves.
    attending_context = browser.new_context()
    doctor = attending_context.new_page()
    log_in(doctor, base, attending.membership.user.email)
    waiting = doctor.get_by_role("region", name="Waiting for you")
    expect(waiting.get_by_role("cell", name="Amara Okafor")).to_be_visible()
    assert_accessible(doctor, "attending dashboard with a request")
    doctor.get_by_role("link", name="Rotations", exact=True).click()
    expect(doctor.get_by_text("Waiting for you", exact=True)).to_be_visible()
    assert_accessible(doctor, "rotation list (attending)")
    doctor.get_by_role("link", name="Clerkship").click()
    assert_accessible(doctor, "rotation page (attending, requested)")
    doctor.get_by_role("button", name="Approve request").click()
    expect(doctor.get_by_text("Approved. We emailed the student")).to_be_visible()
    expect(doctor.get_by_test_id("rotation-status")).to_have_text("Approved")

    # The student sees it approved and writes; htmx appends the message in place.
    page.goto(rotation_url)
    expect(page.get_by_test_id("rotation-status")).to_have_text("Approved")
    page.get_by_label("Your message").fill(MESSAGE)
    page.get_by_role("button", name="Send message").click()
    expect(page.locator("#message-list").get_by_text(MESSAGE)).to_be_visible()
    expect(page.get_by_label("Your message")).to_have_value("")
    assert page.url == rotation_url  # no page load: the list grew in place
    assert_accessible(page, "rotation page (student, approved, with a message)")
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("link", name="Clerkship with Dr. Elena Rivera")).to_be_visible()
    assert_accessible(page, "student dashboard with a rotation")

    # The attending reads it.
    doctor.reload()
    expect(doctor.locator("#message-list").get_by_text(MESSAGE)).to_be_visible()
    assert_accessible(doctor, "rotation page (attending, approved)")

    # The attending's own pages: availability (remove a week with htmx) and profile.
    doctor.get_by_role("link", name="Availability").click()
    expect(doctor.get_by_role("heading", name="Availability", level=1)).to_be_visible()
    assert_accessible(doctor, "availability")
    last_week = factories.next_monday(9)
    doctor.get_by_role("button", name=f"Remove the week of {last_week:%B} {last_week.day}").click()
    expect(doctor.get_by_role("status").filter(has_text="Removed the week of")).to_be_visible()
    doctor.get_by_role("link", name="My attending profile").click()
    assert_accessible(doctor, "attending profile")
    doctor.get_by_label("NPI number").fill("1234567890")
    doctor.get_by_role("button", name="Save profile").click()
    expect(doctor.locator(".field-error")).to_contain_text("check digit does not match")
    assert_accessible(doctor, "attending profile with an error")
    attending_context.close()

    with scopes_disabled():
        rotation = Rotation.objects.get()
        assert (rotation.status, rotation.start, rotation.weeks) == ("approved", start, 2)
        assert list(Message.objects.values_list("body", flat=True)) == [MESSAGE]
        assert not AvailabilityWeek.objects.filter(week_start=last_week).exists()
        assert AvailabilityWeek.objects.get(week_start=start).booked == 1
