"""Issue 9's acceptance in Chromium (DESIGN §8): a student asks a past attending for a
letter of recommendation from the completed rotation's page; the attending, in another
browser, reads the student's evaluation and accepts; the student sees the attending's
email address to enter in MyERAS and gives the ERAS Letter ID; the attending sees the
Letter ID and marks the letter uploaded; the student sees "Uploaded". The letters pages
never scroll sideways at phone width (390 px), and axe finds nothing serious on them."""

import re

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from lor import services
from lor.models import Letter, LetterStatus
from tests import factories
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
LETTER_ID = "LOR-20274821"


def fits_the_phone(page, what: str) -> None:
    """No sideways page scroll at 390 px; back to desktop width afterwards."""
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size(DESKTOP)
    assert width <= PHONE["width"], f"{what} scrolls sideways at 390 px: {width} px wide"


@pytest.fixture
def past_rotation(site):
    """A verified student's clerkship with Dr. Elena Rivera, completed with her
    evaluation; she writes letters without a fee. Northside has a letter of its own."""
    with scopes_disabled():
        student = factories.StudentFactory(
            organization=site["org"], profile__full_name="Amara Okafor"
        )
        attending = factories.AttendingProfileFactory(
            organization=site["org"], display_name="Dr. Elena Rivera"
        )
        rotation = factories.completed_rotation(
            organization=site["org"], student=student, attending=attending
        )
        other = factories.OrganizationFactory(slug="northside")
        factories.LetterFactory(rotation=factories.completed_rotation(organization=other))
        address = services.writer_address(attending)
    return {"student": student, "attending": attending, "rotation": rotation, "address": address}


def test_student_requests_attending_accepts_student_gives_letter_id_attending_uploads(
    site, past_rotation, page, browser, assert_accessible
):
    base = site["url"]
    student, attending = past_rotation["student"], past_rotation["attending"]
    address = past_rotation["address"]

    # 1. The student starts from "Letters", then the completed rotation's page.
    log_in(page, base, student.user.email)
    page.get_by_role("link", name="Letters", exact=True).click()
    expect(page.get_by_role("heading", name="My letters", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Request a letter")).to_be_visible()
    page.goto(f"{base}/rotations/{past_rotation['rotation'].pk}/")
    panel = page.get_by_test_id("rotation-letters")
    expect(panel).to_contain_text("Dr. Elena Rivera writes letters of recommendation: no fee")
    panel.get_by_role("link", name="Request a letter").click()

    # The request form: the attending is preselected, the fee said up front.
    expect(page.get_by_role("heading", name="Request a letter of recommendation")).to_be_visible()
    expect(page.get_by_role("combobox", name=re.compile("^Attending"))).to_have_value(
        str(attending.pk)
    )
    expect(page.get_by_test_id("letter-fee")).to_contain_text("no fee")
    fits_the_phone(page, "the request form")
    assert_accessible(page, "the request form")
    page.get_by_label("Target specialty").select_option("internal_medicine")
    page.get_by_label("Message to the attending").fill(
        "I am applying in internal medicine; my case presentations may help."
    )
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_text("Your request is on its way to Dr. Elena Rivera")).to_be_visible()
    expect(page.get_by_test_id("letter-status")).to_have_text("Requested")
    expect(page.get_by_text(address)).to_have_count(0)
    with scopes_disabled():
        letter = Letter.objects.get(organization=site["org"])
    assert letter.student_id == student.pk and letter.attending_id == attending.pk

    # "My letters" at phone width: the state, the writer, the rotation, the days left.
    page.get_by_role("link", name="Letters", exact=True).click()
    card = page.get_by_test_id(f"letter-{letter.pk}")
    expect(card).to_contain_text("Dr. Elena Rivera")
    expect(card).to_contain_text("Clerkship")
    expect(card).to_contain_text(re.compile(r"\d+ days? left"))
    expect(card.get_by_test_id("letter-status")).to_have_text("Requested")
    fits_the_phone(page, "the student's letters page")
    assert_accessible(page, "the student's letters page")

    # 2. The attending, in another browser, reads the evaluation and accepts.
    attending_context = browser.new_context()
    doctor = attending_context.new_page()
    log_in(doctor, base, attending.membership.user.email)
    owed = doctor.get_by_test_id(f"owed-{letter.pk}")
    expect(owed).to_contain_text("Amara Okafor")
    expect(owed).to_contain_text("Accept or decline")
    doctor.get_by_role("link", name="Letters", exact=True).click()
    expect(doctor.get_by_role("heading", name="Letters you owe", level=1)).to_be_visible()
    fits_the_phone(doctor, "the letters the attending owes")
    assert_accessible(doctor, "the letters the attending owes")
    doctor.get_by_role("link", name="Amara Okafor").click()
    expect(doctor.get_by_test_id("letter-evaluation")).to_contain_text(
        "Reliable, kind with patients"
    )
    fits_the_phone(doctor, "the attending's letter page")
    assert_accessible(doctor, "the attending's letter page")
    doctor.get_by_role("button", name="Accept", exact=True).click()
    expect(doctor.get_by_text("Accepted. We emailed Amara Okafor your address")).to_be_visible()
    expect(doctor.get_by_test_id("letter-status")).to_have_text("Accepted")

    # 3. The student sees the address for MyERAS and gives the Letter ID.
    page.reload()
    page.get_by_role("link", name="Dr. Elena Rivera").click()
    expect(
        page.get_by_role("heading", name="Enter this address for the letter author in MyERAS")
    ).to_be_visible()
    expect(page.get_by_test_id("writer-email")).to_have_text(address)
    fits_the_phone(page, "the student's letter page")
    assert_accessible(page, "the student's letter page")
    page.get_by_role("textbox", name="ERAS Letter ID").fill(LETTER_ID)
    page.get_by_role("button", name="Save the Letter ID").click()
    expect(page.get_by_text(f"Letter ID {LETTER_ID} saved")).to_be_visible()

    # 4. The attending sees the Letter ID and marks the letter uploaded.
    doctor.reload()
    expect(doctor.get_by_test_id("letter-id")).to_have_text(LETTER_ID)
    doctor.get_by_role("button", name="Mark uploaded").click()
    expect(doctor.get_by_text("Marked uploaded.")).to_be_visible()
    expect(doctor.get_by_test_id("letter-status")).to_have_text("Uploaded")
    attending_context.close()

    # 5. The student sees it uploaded.
    page.reload()
    expect(page.get_by_test_id("letter-status")).to_have_text("Uploaded")
    page.get_by_role("link", name="Letters", exact=True).click()
    expect(page.get_by_test_id(f"letter-{letter.pk}").get_by_test_id("letter-status")).to_have_text(
        "Uploaded"
    )
    with scopes_disabled():
        letter.refresh_from_db()
    assert letter.status == LetterStatus.UPLOADED and letter.eras_letter_id == LETTER_ID
