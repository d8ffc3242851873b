"""Issue 7's acceptance in Chromium: the request form shows the total with the card fee;
approval sends the simulated invoice email; the pay page works; the student's Payments
page shows the installment paid.

Celery does not run tasks in tests (they are published to Redis after commit), so the
test runs the task bodies itself between browser steps: the installment's send
(``payments.tasks.send_installment``) and the outbox's delivery
(``notifications.tasks.deliver_email``), as a worker would."""

import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from notifications.models import OutboundEmail
from notifications.tasks import deliver_email
from payments import tasks
from payments.models import Installment, InstallmentStatus
from tests import factories
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(site):
    with scopes_disabled():
        student = factories.StudentFactory(
            organization=site["org"], profile__full_name="Amara Okafor"
        )
        attending = factories.AttendingProfileFactory(
            organization=site["org"], display_name="Dr. Sam Okoye", weekly_rate=Decimal("300.00")
        )
        factories.publish(attending, factories.next_monday(2), 8)
    return {"student": student, "attending": attending}


def deliver_pending_emails() -> None:
    """What the delivery worker would do with the outbox rows queued so far."""
    with scopes_disabled():
        pending = list(
            OutboundEmail.objects.filter(status=OutboundEmail.Status.PENDING).values_list(
                "organization_id", "pk"
            )
        )
    for organization_id, email_id in pending:
        assert deliver_email.run(organization_id, email_id)


def test_request_by_card_approve_pay_by_email_link_and_see_it_paid(
    site, people, page, browser, settings
):
    base = site["url"]
    # Emails link to the organization's site on the live server's port.
    settings.SITE_PORT = base.rsplit(":", 1)[1]
    attending = people["attending"]
    student_email = people["student"].user.email

    # The student fills the request: $300 × 4 weeks, in full, by card.
    log_in(page, base, student_email)
    page.goto(f"{base}/attendings/{attending.pk}/")
    form = page.locator("#request")
    summary = page.locator("#price-summary")
    form.get_by_label("Rotation type").select_option("clerkship")
    form.get_by_label("Mode").select_option("in_person")
    form.get_by_label("Start date (a Monday)").fill(factories.next_monday(3).isoformat())
    form.get_by_label("Number of weeks").fill("4")
    form.get_by_label("Payment plan").select_option("full")
    form.get_by_label("Payment method").select_option("paypal")

    # 1,200.00 + 2.99% card fee (35.88) = 1,235.88, due on approval.
    expect(summary.get_by_test_id("quote-price")).to_have_text("$1,200.00")
    expect(summary.get_by_test_id("quote-card-fee")).to_contain_text("$35.88")
    expect(summary.get_by_test_id("quote-total")).to_have_text("$1,235.88")
    expect(summary.get_by_role("cell", name="On approval")).to_be_visible()
    summary.get_by_label("I agree to pay $1,235.88 as scheduled").check()
    form.get_by_role("button", name="Send request").click()
    page.wait_for_url(re.compile(rf"{base}/rotations/\d+/#next-step$"))
    rotation_url = page.url
    expect(page.get_by_test_id("rotation-status")).to_have_text("Requested")

    # The attending (no TOTP) approves in another browser session.
    attending_context = browser.new_context()
    doctor = attending_context.new_page()
    log_in(doctor, base, attending.membership.user.email)
    doctor.goto(rotation_url)
    doctor.get_by_role("button", name="Approve request").click()
    expect(doctor.get_by_text("Approved. We emailed the student")).to_be_visible()
    expect(doctor.get_by_test_id("rotation-status")).to_have_text("Approved")
    attending_context.close()

    # The worker's part: send the installment through the simulated gateway, then
    # deliver the outbox (the approval email and the invoice email).
    with scopes_disabled():
        installment = Installment.objects.get()
    assert installment.status == InstallmentStatus.PENDING
    assert tasks.send_installment.run(site["org"].pk, installment.pk) == "sent"
    mail.outbox.clear()
    deliver_pending_emails()

    invoices = [m for m in mail.outbox if m.to == [student_email] and "Invoice" in m.subject]
    assert len(invoices) == 1, [m.subject for m in mail.outbox]
    invoice_email = invoices[0]
    assert "$1,235.88" in invoice_email.subject
    assert "Card fee: $35.88" in invoice_email.body
    pay_url = re.search(r"Pay it here: (\S+)", invoice_email.body).group(1)
    assert urlsplit(pay_url).netloc == urlsplit(base).netloc
    html = invoice_email.alternatives[0][0]
    assert f'href="{pay_url}"' in html

    # Before paying, the Payments page shows the installment due with its pay link.
    page.goto(f"{base}/payments/")
    row = page.get_by_test_id(f"installment-{installment.pk}")
    expect(row).to_contain_text("Due")
    expect(row.get_by_role("link", name=re.compile(r"Pay \$1,235\.88"))).to_be_visible()

    # The student follows the email's link (no sign-in needed) and pays.
    page.goto(pay_url)
    expect(page.get_by_role("heading", name="Pay installment 1", level=1)).to_be_visible()
    expect(page.get_by_text("Simulated payment: no real money moves.")).to_be_visible()
    expect(page.locator("dd").filter(has_text="$35.88")).to_be_visible()
    page.get_by_role("button", name="Pay $1,235.88").click()
    expect(page.get_by_role("status")).to_contain_text("Thank you.")
    expect(page.get_by_role("button", name=re.compile("^Pay "))).to_have_count(0)

    # The Payments page shows it paid, and the receipt.
    page.goto(f"{base}/payments/")
    row = page.get_by_test_id(f"installment-{installment.pk}")
    expect(row.locator(".badge")).to_have_text("Paid")
    expect(row.get_by_role("link")).to_have_count(0)
    expect(page.get_by_text("Paid $1,235.88 · Due $0.00 · Overdue $0.00")).to_be_visible()
    receipts = page.get_by_role("region", name="Payments recorded")
    expect(receipts.get_by_text("payment 1", exact=False)).to_be_visible()

    # And the rotation page's payment section agrees.
    page.goto(rotation_url)
    expect(page.get_by_test_id("payments-paid")).to_have_text("$1,235.88")

    with scopes_disabled():
        installment.refresh_from_db()
    assert installment.status == InstallmentStatus.PAID
