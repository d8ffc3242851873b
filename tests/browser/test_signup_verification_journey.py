"""DESIGN §3 in a real browser: a student signs up on an organization's site, follows
the emailed link, completes and submits the profile; an admin verifies it from the
queue; the student's dashboard then says verified. axe checks each page on the way."""

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from notifications.models import OutboundEmail
from tests import factories
from tests.browser.conftest import log_in
from tests.conftest import MINIMAL_PDF

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STUDENT_EMAIL = "amara.okafor@example.test"
STUDENT_PASSWORD = "a-long-and-unusual-passphrase"


def confirmation_link(email: str) -> str:
    with scopes_disabled():
        row = OutboundEmail.objects.filter(recipient=email, template="allauth_message").latest(
            "created_at"
        )
    assert row.context["link"], row.context
    return row.context["link"]


def test_student_signs_up_submits_and_admin_verifies(
    site, page, browser, assert_accessible, tmp_path
):
    base = site["url"]
    with scopes_disabled():
        admin = factories.MembershipFactory(organization=site["org"], role="admin")

    # Sign up on the organization's site.
    page.goto(f"{base}/accounts/signup/")
    assert_accessible(page, "sign-up")
    page.get_by_label("Email").fill(STUDENT_EMAIL)
    page.get_by_role("textbox", name="Password", exact=True).fill(STUDENT_PASSWORD)
    page.get_by_label("Password (again)").fill(STUDENT_PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Verify your email address")).to_be_visible()

    # Follow the link from the outbox email; confirming logs the student in and opens
    # the next step, the profile.
    page.goto(confirmation_link(STUDENT_EMAIL))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(f"{base}/profile/")
    expect(page.get_by_test_id("verification-status")).to_have_text("Incomplete")
    page.get_by_test_id("back-link").click()
    page.wait_for_url(f"{base}/dashboard/")
    assert_accessible(page, "student dashboard")

    # Complete and submit the profile.
    page.get_by_role("link", name="Complete your profile").click()
    assert_accessible(page, "profile form")
    page.get_by_label("Full name").fill("Amara Okafor")
    page.get_by_label("Current student or graduate").select_option("img")
    page.get_by_label("Phone").fill("+234 801 555 0100")
    page.get_by_label("Visa status").select_option("b1_b2")
    page.get_by_label("Medical school").fill("University of Nigeria College of Medicine")
    page.get_by_label("Country").select_option("NG")
    page.get_by_label("Graduation year").fill("2024")
    page.get_by_label("School contact email").fill("not-an-email")
    page.get_by_label("Internal medicine").check()
    cv = tmp_path / "cv.pdf"
    cv.write_bytes(MINIMAL_PDF)
    page.get_by_label("CV").set_input_files(str(cv))
    page.get_by_role("button", name="Save and submit for verification").click()
    # Bad input: the error sits next to the field and nothing was submitted.
    expect(page.locator(".field-error")).to_contain_text("Enter a valid email address.")
    assert_accessible(page, "profile form with errors")
    page.get_by_label("School contact email").fill("registrar@unn.test")
    page.get_by_label("CV").set_input_files(str(cv))
    page.get_by_role("button", name="Save and submit for verification").click()
    page.wait_for_url(f"{base}/dashboard/")
    expect(page.get_by_test_id("verification-status")).to_have_text("Pending verification")

    # The admin verifies it from the queue, in a separate browser session.
    admin_context = browser.new_context()
    admin_page = admin_context.new_page()
    log_in(admin_page, base, admin.user.email, totp_secret=factories.TOTP_SECRET)
    admin_page.get_by_role("link", name="Verification queue").first.click()
    assert_accessible(admin_page, "verification queue")
    admin_page.get_by_role("link", name="Review Amara Okafor").click()
    assert_accessible(admin_page, "verification review")
    admin_page.get_by_role("button", name="Verify profile").click()
    expect(admin_page.get_by_text("Verified Amara Okafor.")).to_be_visible()
    expect(admin_page.get_by_text("No profiles are waiting.")).to_be_visible()
    admin_context.close()

    page.reload()
    expect(page.get_by_test_id("verification-status")).to_have_text("Verified")
    expect(page.get_by_text("Your profile is verified.")).to_be_visible()
