"""DESIGN §3 in a real browser: an account of another organization logs in on this
organization's site, learns where the account belongs and is offered to join as a
student; joins, completes the profile; an admin verifies it; the student is verified
here too. axe checks each page on the way."""

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import log_in
from tests.conftest import MINIMAL_PDF

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_account_of_another_organization_joins_and_is_verified(
    site, page, browser, assert_accessible, tmp_path
):
    base = site["url"]
    with scopes_disabled():
        northside = factories.OrganizationFactory(slug="northside")
        outsider = factories.StudentFactory(organization=northside)
        admin = factories.MembershipFactory(organization=site["org"], role="admin")
    email = outsider.user.email

    # Log in on demo's site with the northside account.
    page.goto(f"{base}/accounts/login/")
    expect(
        page.get_by_text("Already have a USDoctors account with another organization?")
    ).to_be_visible()
    assert_accessible(page, "login page")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/join/")
    expect(page.get_by_text(f"Logged in as {email}.", exact=True)).to_be_visible()
    expect(page.get_by_text("This account is not a member of Demo Rotations.")).to_be_visible()
    expect(page.get_by_test_id("account-belongs")).to_contain_text(
        "Northside Program: student (verified)"
    )
    assert_accessible(page, "join offer")

    # The favicon answers (no 404 in every page's log).
    favicon = page.goto(f"{base}/favicon.ico")
    assert favicon.ok and favicon.url.endswith("/static/favicon.svg")
    page.goto(f"{base}/join/")

    # Join: a new, incomplete student membership here.
    page.get_by_role("button", name="Join Demo Rotations as a student").click()
    page.wait_for_url(f"{base}/profile/")
    expect(page.get_by_text("You joined Demo Rotations as a student.")).to_be_visible()
    expect(page.get_by_test_id("verification-status")).to_have_text("Incomplete")

    # The account page, from the navigation, lists both memberships.
    page.get_by_role("link", name="Account", exact=True).click()
    page.wait_for_url(f"{base}/account/")
    memberships = page.get_by_test_id("memberships")
    expect(memberships).to_contain_text("Demo Rotations")
    expect(memberships).to_contain_text("Incomplete")
    expect(memberships).to_contain_text("Northside Program")
    assert_accessible(page, "account page")

    # Complete and submit the profile.
    page.get_by_role("link", name="My profile").click()
    page.get_by_label("Full name").fill("Sita Sharma")
    page.get_by_label("Current student or graduate").select_option("img")
    page.get_by_label("Visa status").select_option("b1_b2")
    page.get_by_label("Medical school").fill("Manipal College of Medical Sciences")
    page.get_by_label("Country").select_option("NP")
    page.get_by_label("Graduation year").fill("2024")
    page.get_by_label("School contact email").fill("registrar@manipal.test")
    page.get_by_label("Cardiology").check()
    cv = tmp_path / "cv.pdf"
    cv.write_bytes(MINIMAL_PDF)
    page.get_by_label("CV").set_input_files(str(cv))
    page.get_by_role("button", name="Save and submit for verification").click()
    page.wait_for_url(f"{base}/dashboard/")
    expect(page.get_by_test_id("verification-status")).to_have_text("Pending verification")

    # Demo's admin verifies it, in a separate browser session.
    admin_context = browser.new_context()
    admin_page = admin_context.new_page()
    log_in(admin_page, base, admin.user.email, totp_secret=factories.TOTP_SECRET)
    admin_page.get_by_role("link", name="Verification queue").first.click()
    admin_page.get_by_role("link", name="Review Sita Sharma").click()
    expect(admin_page.get_by_role("definition").filter(has_text="Cardiology")).to_be_visible()
    expect(admin_page.get_by_text("Manipal College of Medical Sciences, Nepal")).to_be_visible()
    admin_page.get_by_role("button", name="Verify profile").click()
    expect(admin_page.get_by_text("Verified Sita Sharma.")).to_be_visible()
    admin_context.close()

    page.reload()
    expect(page.get_by_test_id("verification-status")).to_have_text("Verified")
