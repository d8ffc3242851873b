"""Issue 12, part 4 in Chromium (DESIGN §14): a student opens the season planner from the
navigation, sets the target (Match 2028, internal medicine, a 10-week consulate wait),
and sees the timeline worked back from submission with a warning on their rotation that
ends too late for the season; the page fits a 390 px phone without sideways scrolling,
and axe finds nothing serious. The calendar address is on the page and answers
``text/calendar``.

The clock is 2027-01-04; the 2028 season has applicants submitting on 2027-09-01, so
letters are due 2027-08-25 and a rotation with a 14-day letter writer must end by
2027-08-11 — the student's 4-week rotation from 2027-07-19 ends 2027-08-15.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from lor.models import MatchTarget, Season
from tests import factories
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def clock():
    with time_machine.travel(datetime(2027, 1, 4, 9, 0, tzinfo=ZoneInfo("UTC")), tick=True):
        yield


@pytest.fixture
def student(site, clock):
    Season.objects.update_or_create(
        match_year=2028,
        defaults={
            "eras_opens_on": date(2027, 6, 2),
            "submission_opens_on": date(2027, 9, 1),
            "programs_review_on": date(2027, 9, 22),
            "rank_deadline_on": date(2028, 3, 1),
            "match_day": date(2028, 3, 17),
        },
    )
    with scopes_disabled():
        student = factories.StudentFactory(
            organization=site["org"], profile__full_name="Amara Okafor"
        )
        factories.RotationFactory(
            organization=site["org"],
            student=student,
            attending__display_name="Dr. Elena Rivera",
            start=date(2027, 7, 19),
            weeks=4,
            status="approved",
        )
    return student


def test_student_sets_the_target_and_sees_the_timeline_and_a_warning(
    site, student, page, assert_accessible
):
    base = site["url"]
    page.set_viewport_size(DESKTOP)
    log_in(page, base, student.user.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Season planner").click()
    page.wait_for_url(f"{base}/planner/")
    expect(page.get_by_role("heading", name="Match-season planner")).to_be_visible()

    page.get_by_label("Match year").select_option("2028")
    page.get_by_label("Specialty you apply in").select_option("internal_medicine")
    page.get_by_label("Consulate wait for a visa appointment (weeks)").fill("10")
    page.get_by_role("button", name="Save target").click()
    page.wait_for_url(f"{base}/planner/")
    expect(page.get_by_text("Your target is saved")).to_be_visible()
    with scopes_disabled():
        target = MatchTarget.objects.get(student=student)
    assert (target.match_year, target.visa_wait_weeks) == (2028, 10)

    timeline = page.get_by_test_id("planner-timeline")
    expect(timeline).to_contain_text("Letters in the ERAS letter portal")
    expect(timeline).to_contain_text("Clerkship with Dr. Elena Rivera")
    # 8 weeks' booking lead + 10 weeks' consulate wait before Monday 2027-07-19.
    expect(timeline).to_contain_text("book by March 15, 2027")
    warnings = page.get_by_test_id("planner-warnings")
    expect(warnings).to_contain_text("Too late for this season")
    expect(page.get_by_test_id("planner-deadlines")).to_contain_text(
        "Book by Monday, March 8, 2027 to finish by Sunday, August 8, 2027"
    )
    assert_accessible(page, "the planner")

    feed_url = page.get_by_label("Your private calendar address").input_value()
    assert feed_url.startswith(f"{base}/calendar/") and feed_url.endswith(".ics")
    # Fetched by the browser itself (Playwright's own client cannot resolve *.localhost).
    feed = page.evaluate(
        """async (url) => {
          const response = await fetch(url, {credentials: 'omit'});
          return {status: response.status, type: response.headers.get('content-type'),
                  text: await response.text()};
        }""",
        feed_url,
    )
    assert feed["status"] == 200
    assert feed["type"] == "text/calendar; charset=utf-8"
    assert "Clerkship with Dr. Elena Rivera" in feed["text"]

    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the planner scrolls sideways at 390 px: {width} px wide"
    assert_accessible(page, "the planner at 390 px")

    page.goto(f"{base}/dashboard/")
    expect(page.get_by_test_id("dashboard-planner")).to_contain_text("Next deadline for ERAS 2028")
