"""Issue 13's reviews in Chromium (DESIGN §15): a student's rotation has ended; the
attending marks it completed with an evaluation, which the student cannot read yet; the
student reviews the rotation from its page, and then reads the evaluation; the attending
reads the review and answers it; another student finds the attending in search and reads
the review and the answer on the attending's page before requesting. axe finds nothing
serious on the pages with the review."""

import re

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from reviews.models import Review
from rotations.models import AttendingProfile
from tests import factories
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REVIEW_TEXT = "I admitted patients myself and presented them on rounds every morning."
ANSWER = "Thank you, Amara: you carried your own patients from the second week."
COMMENTS = "Thorough histories and clear presentations."


@pytest.fixture
def ended_rotation(site):
    """Amara's 2-week clerkship with Dr. Elena Rivera ended two weeks ago (in progress,
    not yet marked completed); Bilal, another verified student, is looking for a
    rotation; northside has a reviewed rotation of its own."""
    with scopes_disabled():
        student = factories.StudentFactory(
            organization=site["org"], profile__full_name="Amara Okafor"
        )
        other = factories.StudentFactory(organization=site["org"], profile__full_name="Bilal Khan")
        attending = factories.AttendingProfileFactory(
            organization=site["org"], display_name="Dr. Elena Rivera", specialty="cardiology"
        )
        factories.publish(attending, factories.next_monday(2), 4)
        rotation = factories.RotationFactory(
            organization=site["org"],
            attending=attending,
            student=student,
            status="in_progress",
            start=factories.next_monday(-4),
            weeks=2,
        )
        northside = factories.OrganizationFactory(slug="northside-reviews")
        factories.completed_rotation(organization=northside)
    return {"student": student, "other": other, "attending": attending, "rotation": rotation}


def test_student_reviews_attending_evaluates_both_appear_and_others_read_it(
    site, ended_rotation, page, browser, assert_accessible
):
    base = site["url"]
    rotation = ended_rotation["rotation"]
    rotation_url = f"{base}/rotations/{rotation.pk}/"

    # 1. The attending, from the dashboard, marks the rotation completed with the evaluation.
    attending_context = browser.new_context()
    doctor = attending_context.new_page()
    log_in(doctor, base, ended_rotation["attending"].membership.user.email)
    doctor.get_by_test_id("waiting-for-you").get_by_role(
        "link", name=re.compile("^Amara Okafor: clerkship")
    ).click()
    for competency in ("Medical knowledge", "Clinical skills", "Professionalism", "Communication"):
        doctor.get_by_label(competency).select_option("5")
    doctor.get_by_label("Comments for the student's school").fill(COMMENTS)
    doctor.get_by_label("What the student did").fill("Admitted and followed patients.")
    doctor.get_by_role("button", name="Mark completed").click()
    expect(doctor.get_by_text("Marked completed.")).to_be_visible()
    expect(doctor.get_by_test_id("rotation-review")).to_contain_text("No review yet")

    # 2. The student cannot read the evaluation yet; she reviews from the rotation page.
    log_in(page, base, ended_rotation["student"].user.email)
    page.get_by_role("link", name="Rotations", exact=True).click()
    page.get_by_role("link", name="Clerkship").click()
    expect(page.get_by_test_id("rotation-status")).to_have_text("Completed")
    expect(page.get_by_test_id("evaluation-sealed")).to_be_visible()
    expect(page.get_by_text(COMMENTS)).to_have_count(0)
    panel = page.get_by_test_id("rotation-review")
    expect(panel).to_contain_text("You can review it once")
    assert_accessible(page, "the rotation page with the review form")
    panel.get_by_label("Teaching").select_option("5")
    panel.get_by_label("Would you recommend this rotation?").select_option("yes")
    panel.get_by_label("Patient contact").select_option("full")
    panel.get_by_label("Inpatient or outpatient").select_option("inpatient")
    panel.get_by_label("Did you write notes in the patient record?").select_option("yes")
    panel.get_by_label("Hours a week").fill("55")
    panel.get_by_label("Letter of recommendation").select_option("promised")
    panel.get_by_label("In your words").fill(REVIEW_TEXT)
    panel.get_by_role("button", name="Publish review").click()
    expect(page.get_by_text("Thank you: your review is in.")).to_be_visible()

    # Both are in: the student reads the evaluation, beside her review.
    expect(page.get_by_test_id("rotation-review")).to_contain_text(REVIEW_TEXT)
    expect(page.get_by_text(COMMENTS)).to_be_visible()
    expect(page.get_by_test_id("evaluation-sealed")).to_have_count(0)
    expect(page.get_by_role("button", name="Publish review")).to_have_count(0)
    with scopes_disabled():
        review = Review.objects.get(rotation=rotation)
    assert (review.teaching, review.patient_contact, review.hours_per_week) == (5, "full", 55)

    # 3. The attending reads the review and answers it, once.
    doctor.goto(rotation_url)
    review_panel = doctor.get_by_test_id("rotation-review")
    expect(review_panel).to_contain_text(REVIEW_TEXT)
    expect(review_panel).to_contain_text("Full: I saw patients myself")
    assert_accessible(doctor, "the attending's rotation page with the review")
    review_panel.get_by_label("Your answer").fill(ANSWER)
    review_panel.get_by_role("button", name="Publish answer").click()
    expect(doctor.get_by_text("Your answer is published under the review.")).to_be_visible()
    expect(doctor.get_by_test_id("review-answer")).to_contain_text(ANSWER)
    expect(doctor.get_by_role("button", name="Publish answer")).to_have_count(0)
    attending_context.close()

    # 4. Another student finds the attending and reads the review before requesting.
    other_context = browser.new_context()
    bilal = other_context.new_page()
    log_in(bilal, base, ended_rotation["other"].user.email)
    bilal.get_by_role("link", name="Find attendings").click()
    bilal.get_by_label("Sort by").select_option("reviewed")
    bilal.get_by_role("button", name="Search", exact=True).click()
    result = bilal.locator("li.result").filter(has_text="Dr. Elena Rivera")
    expect(result.get_by_test_id("review-summary")).to_contain_text("5.0 of 5 for teaching")
    expect(result.get_by_test_id("review-summary")).to_contain_text("1 review")
    result.get_by_role("link", name="Dr. Elena Rivera, MD").click()
    reviews = bilal.get_by_test_id("attending-reviews")
    expect(reviews).to_contain_text(REVIEW_TEXT)
    expect(reviews).to_contain_text(ANSWER)
    expect(reviews).to_contain_text("100% would recommend")
    expect(reviews).not_to_contain_text("Amara Okafor")  # other students see no name
    expect(bilal.get_by_role("button", name="Send request")).to_be_visible()
    assert_accessible(bilal, "the attending's page with reviews")
    other_context.close()
    with scopes_disabled():
        profile = AttendingProfile.objects.get(pk=ended_rotation["attending"].pk)
    assert (profile.review_count, profile.review_recommend_count) == (1, 1)
