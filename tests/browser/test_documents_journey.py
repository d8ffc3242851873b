"""Issue 8's acceptance in Chromium (DESIGN §7, §10): the school contact uploads the
letter of good standing through the link emailed when the rotation was requested; the
student uploads the rest on their documents page; the admin approves them in the review
queue; the rotation page's checklist shows complete, and on its start date the
start-date sweep starts the rotation. The money is settled through the real settlement
service first, so only documents gate the start. At phone width (390 px) the school's
page, the student's page and the review queue never scroll sideways.

Celery does not run in tests: the test delivers the outbox (``deliver_email``) and runs
the start-date sweep itself, as the workers would."""

import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from playwright.sync_api import expect

from documents.models import Document
from notifications.models import OutboundEmail
from notifications.tasks import deliver_email
from payments.models import Installment
from payments.settlement import mark_installment_paid
from rotations import services as rotation_services
from rotations import sweeps
from rotations.models import Rotation
from tests import factories
from tests.browser.conftest import log_in
from tests.conftest import MINIMAL_PDF

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


def pdf(name: str) -> dict:
    return {"name": name, "mimeType": "application/pdf", "buffer": MINIMAL_PDF}


def fits_the_phone(page, what: str) -> None:
    """No sideways page scroll at 390 px."""
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what} scrolls sideways at 390 px: {width} px wide"


def deliver_pending_emails() -> None:
    with scopes_disabled():
        pending = list(
            OutboundEmail.objects.filter(status=OutboundEmail.Status.PENDING).values_list(
                "organization_id", "pk"
            )
        )
    for organization_id, email_id in pending:
        assert deliver_email.run(organization_id, email_id)


@pytest.fixture
def booking(site, settings):
    """A verified student's 2-week rotation, requested and approved through the real
    rotations services (the request emails the school contact its link), and paid."""
    # Emails link to the organization's site on the live server's port.
    settings.SITE_PORT = site["url"].rsplit(":", 1)[1]
    organization = site["org"]
    start = factories.next_monday(3)
    with scopes_disabled():
        student = factories.StudentFactory(
            organization=organization, profile__full_name="Amara Okafor"
        )
        admin = factories.MembershipFactory(organization=organization, role="admin")
        attending = factories.AttendingProfileFactory(
            organization=organization, display_name="Dr. Elena Rivera"
        )
        factories.publish(attending, start, 2)
        # Another tenant's student with a document waiting: never in demo's queue.
        other = factories.OrganizationFactory(slug="northside")
        factories.StudentFactory(organization=other)
    with scope(organization=organization):
        rotation = rotation_services.request_rotation(
            student,
            attending=attending,
            rotation_type="clerkship",
            mode="in_person",
            start=start,
            weeks=2,
            plan="full",
            payment_method="paypal",
        )
        rotation = rotation_services.approve_rotation(rotation, by=attending.membership)
        for installment in Installment.objects.filter(invoice__rotation=rotation):
            mark_installment_paid(
                installment,
                amount=installment.charged,
                method="paypal",
                received_on=timezone.localdate(),
            )
    return {"rotation": rotation, "student": student, "admin": admin, "attending": attending}


def test_school_student_and_admin_complete_the_checklist_and_the_rotation_starts(
    site, booking, page, browser, assert_accessible
):
    base = site["url"]
    rotation = booking["rotation"]
    student = booking["student"]

    # The school contact's email carries the signed upload link.
    mail.outbox.clear()
    deliver_pending_emails()
    [school_email] = [m for m in mail.outbox if m.to == ["registrar@school.test"]]
    assert "Letter of good standing" in school_email.body
    upload_url = re.search(r"(http\S+/school/documents/\S+/)", school_email.body).group(1)
    assert urlsplit(upload_url).netloc == urlsplit(base).netloc

    # 1. The school, without an account, uploads the letter of good standing.
    school = browser.new_context()
    registrar = school.new_page()
    registrar.goto(upload_url)
    expect(registrar.get_by_role("heading", name="Documents for Amara Okafor")).to_be_visible()
    fits_the_phone(registrar, "the school's upload page")
    assert_accessible(registrar, "the school's upload page")
    letter = registrar.get_by_test_id("school-letter_of_good_standing")
    letter.get_by_label("File").set_input_files(pdf("letter.pdf"))
    letter.get_by_label("Issue date").fill((timezone.localdate() - timedelta(days=3)).isoformat())
    letter.get_by_role("button", name="Upload the letter of good standing").click()
    expect(
        registrar.get_by_text("Thank you: we received the Letter of good standing")
    ).to_be_visible()
    expect(letter.get_by_test_id("received")).to_have_text("Received")
    expect(letter.get_by_label("File")).to_have_count(0)
    school.close()

    # 2. The student uploads the rest on their documents page.
    log_in(page, base, student.user.email)
    dashboard = page.get_by_test_id("dashboard-documents")
    expect(dashboard).to_contain_text(f"{rotation.start:%A, %B} {rotation.start.day}")
    page.get_by_role("link", name="Documents", exact=True).click()
    expect(page.get_by_role("heading", name="Your documents", level=1)).to_be_visible()
    fits_the_phone(page, "the student's documents page")
    assert_accessible(page, "the student's documents page")
    expect(
        page.get_by_test_id("document-letter_of_good_standing").get_by_test_id("document-status")
    ).to_have_text("Waiting for review")
    valid_long = (rotation.end + timedelta(days=365)).isoformat()
    uploads = [
        ("tb_test_immunizations", "TB test and immunization report", None),
        ("liability_insurance", "Medical liability insurance", valid_long),
        ("passport_visa", "Passport with visa or immigration status", valid_long),
    ]
    for code, name, expires in uploads:
        section = page.get_by_test_id(f"document-{code}")
        section.get_by_label("File").set_input_files(pdf(f"{code}.pdf"))
        section.get_by_label("Issue date").fill(
            (timezone.localdate() - timedelta(days=20)).isoformat()
        )
        if expires:
            section.get_by_label("Expiry date").fill(expires)
        section.get_by_role("button", name=f"Upload {name}").click()
        expect(page.get_by_text(f"Your {name} is uploaded.")).to_be_visible()
        expect(
            page.get_by_test_id(f"document-{code}").get_by_test_id("document-status")
        ).to_have_text("Waiting for review")

    # The rotation page: every item submitted, not yet complete.
    page.goto(f"{base}/rotations/{rotation.pk}/")
    expect(page.get_by_test_id("checklist-incomplete")).to_be_visible()

    # 3. The admin approves all four from the review queue, oldest first.
    admin_context = browser.new_context()
    reviewer = admin_context.new_page()
    log_in(reviewer, base, booking["admin"].user.email, totp_secret=factories.TOTP_SECRET)
    expect(reviewer.get_by_test_id("documents-waiting")).to_have_text("4")
    reviewer.get_by_role("link", name="Review documents").click()
    expect(reviewer.get_by_role("heading", name="Documents to review", level=1)).to_be_visible()
    fits_the_phone(reviewer, "the review queue")
    assert_accessible(reviewer, "the review queue")
    first = reviewer.locator("[data-testid^=review-]").first
    expect(first).to_contain_text("Letter of good standing")  # the oldest upload
    expect(first).to_contain_text("by school")
    for _ in range(4):
        reviewer.locator("[data-testid^=review-]").first.get_by_role(
            "button", name=re.compile("^Approve")
        ).click()
        expect(reviewer.get_by_text(re.compile("^Approved Amara Okafor"))).to_be_visible()
    expect(reviewer.get_by_text("Nothing to review")).to_be_visible()
    admin_context.close()
    with scopes_disabled():
        assert set(Document.objects.values_list("status", flat=True)) == {"approved"}

    # 4. The rotation page's checklist shows complete.
    page.goto(f"{base}/rotations/{rotation.pk}/")
    expect(page.get_by_test_id("checklist-complete")).to_have_text("Complete")
    expect(page.get_by_test_id("rotation-status")).to_have_text("Approved")

    # 5. On its start date, the sweep starts it: only documents gated it, and they are done.
    start_morning = timezone.make_aware(datetime.combine(rotation.start, datetime.min.time()))
    with time_machine.travel(start_morning + timedelta(hours=6), tick=False):
        with scope(organization=site["org"]):
            counts = sweeps.start_due_rotations(site["org"])
    assert counts == {"started": 1, "on_hold": 0}
    with scopes_disabled():
        assert Rotation.objects.get(pk=rotation.pk).status == "in_progress"
    page.reload()
    expect(page.get_by_test_id("rotation-status")).to_have_text("In progress")
