"""Issue 11, part 5 in a real browser: an admin answers a verified student's ticket by
correcting the profile. From Support the admin opens the ticket, goes to the student's
review page (the admin's navigation stays: no "My profile"), corrects a field, sees the
change, and closes the ticket. axe checks each page on the way."""

import re

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from accounts.models import StudentProfile, SupportTicket
from notifications.models import OutboundEmail
from tests import factories
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_corrects_a_verified_profile_from_a_ticket_and_closes_it(
    site, page, assert_accessible
):
    base = site["url"]
    with scopes_disabled():
        admin = factories.MembershipFactory(organization=site["org"], role="admin")
        student = factories.StudentFactory(
            organization=site["org"], profile__full_name="Asha Karki"
        )
        ticket = SupportTicket.objects.create(
            organization=site["org"],
            author=student,
            category="general",
            subject="My medical school is misspelled",
            message="It should read Kathmandu University School of Medical Sciences.",
        )

    log_in(page, base, admin.user.email, totp_secret=factories.TOTP_SECRET)
    nav = page.get_by_role("navigation", name="Main")

    # Support: the admins' list, with who asked.
    nav.get_by_role("link", name="Support").click()
    row = page.get_by_role("row").filter(has_text="My medical school is misspelled")
    expect(row).to_contain_text(student.user.email)
    expect(page.get_by_role("link", name="Change my login email")).to_have_count(0)
    assert_accessible(page, "the admins' support list")
    row.get_by_role("link", name="My medical school is misspelled").click()

    # The ticket leads to the student's review page; the navigation stays the admin's.
    page.get_by_role("link", name=re.compile("Review or correct the profile")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Asha Karki")
    expect(nav.get_by_role("link", name="My profile")).to_have_count(0)
    expect(nav.get_by_role("link", name="Verification queue")).to_be_visible()
    expect(nav.get_by_role("link", name="Attendings and NPI checks")).to_be_visible()

    # Correct the medical school.
    page.get_by_text("Edit the profile fields").click()
    assert_accessible(page, "the review page with the correction form open")
    school = page.get_by_label("Medical school")
    school.fill("Kathmandu University School of Medical Sciences")
    page.get_by_role("button", name="Save corrections").click()

    expect(page.get_by_text(re.compile("Corrected Medical school"))).to_be_visible()
    summary = page.locator("dl.summary")
    expect(summary).to_contain_text("Kathmandu University School of Medical Sciences")
    expect(page.locator("ul.history")).to_contain_text("Corrected by an admin")
    expect(nav.get_by_role("link", name="My profile")).to_have_count(0)
    with scopes_disabled():
        profile = StudentProfile.objects.get(membership=student)
        assert profile.medical_school == "Kathmandu University School of Medical Sciences"
        assert OutboundEmail.objects.filter(
            template="profile_corrected", recipient=student.user.email
        ).exists()

    # Back to the ticket, answered by the correction: close it.
    nav.get_by_role("link", name="Support").click()
    page.get_by_role("link", name="My medical school is misspelled").click()
    page.get_by_label("Your reply").fill("Corrected on your profile. Thank you!")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Reply sent.")).to_be_visible()
    page.get_by_role("button", name="Close ticket").click()

    expect(page.get_by_test_id("ticket-status")).to_have_text("Closed")
    expect(page.get_by_test_id("ticket-closed")).to_contain_text(admin.user.email)
    expect(page.get_by_role("button", name="Close ticket")).to_have_count(0)
    assert_accessible(page, "the closed ticket")
    with scopes_disabled():
        ticket.refresh_from_db()
        assert ticket.status == "closed" and ticket.closed_at is not None
