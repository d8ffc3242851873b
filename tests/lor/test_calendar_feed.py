"""The calendar feed (DESIGN §14, issue 12 part 5), read back with the icalendar library
as a calendar application would: the content type, a VERSION 2.0 calendar with a PRODID,
an all-day event (DTSTART;VALUE=DATE) for every rotation, unpaid installment, document
expiry, open letter's ERAS target and season date, with UIDs that stay the same from one
fetch to the next. The address is secret and per member and organization: a reset makes
the old one answer 404, and a token works only on its own organization's host."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scope, scopes_disabled
from icalendar import Calendar

from documents.models import DocumentType
from documents.uploads import upload_document
from lor import planner
from lor.models import MatchTarget, Season
from tests import factories
from tests.conftest import MINIMAL_PDF

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(date(2027, 1, 4), tick=False):
        yield


@pytest.fixture
def filled(demo):
    """Demo's student with one of each source: an approved rotation with an unpaid
    installment, an insurance document that expires, an open letter, and a target."""
    student = demo["student"]
    organization = student.organization
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
        MatchTarget.objects.create(
            organization=organization,
            student=student,
            match_year=2028,
            specialty="internal_medicine",
            visa_wait_weeks=6,
        )
        rotation = factories.RotationFactory(
            organization=organization,
            student=student,
            start=date(2027, 3, 1),
            weeks=4,
            status="approved",
        )
        installment = factories.InstallmentFactory(
            invoice__rotation=rotation, sequence=1, due_on=date(2027, 2, 26)
        )
        factories.InstallmentFactory(
            invoice=installment.invoice, sequence=2, status="cancelled", due_on=date(2027, 2, 1)
        )
        letter = factories.LetterFactory(
            rotation=factories.completed_rotation(organization=organization, student=student),
            status="accepted",
        )
    with scope(organization=organization):
        document = upload_document(
            student,
            DocumentType.objects.get(code="liability_insurance"),
            SimpleUploadedFile("i.pdf", MINIMAL_PDF, content_type="application/pdf"),
            issued_on=date(2026, 6, 1),
            expires_on=date(2027, 5, 31),
        )
        feed = planner.calendar_feed(student)
    return {
        "student": student,
        "rotation": rotation,
        "installment": installment,
        "letter": letter,
        "document": document,
        "path": f"/calendar/{feed.token}.ics",
    }


def events_of(response) -> dict:
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["VERSION"]) == "2.0"
    assert "USDoctors" in str(calendar["PRODID"])
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def test_the_feed_holds_every_source_as_all_day_events_with_stable_uids(filled, client_for):
    client = client_for(None, host="demo.localhost")  # calendar apps do not sign in

    first = client.get(filled["path"])
    assert first.status_code == 200
    assert first["Content-Type"] == "text/calendar; charset=utf-8"
    events = events_of(first)

    rotation = events[f"rotation-{filled['rotation'].pk}@demo.usdoctors"]
    assert rotation.decoded("DTSTART") == date(2027, 3, 1)
    # DTEND is exclusive: the day after the last Sunday.
    assert rotation.decoded("DTEND") == filled["rotation"].end + timedelta(days=1)
    installment = events[f"installment-{filled['installment'].pk}@demo.usdoctors"]
    assert installment.decoded("DTSTART") == date(2027, 2, 26)
    assert "Payment due: $500.00" in str(installment["SUMMARY"])
    document = events[f"document-expiry-{filled['document'].pk}@demo.usdoctors"]
    assert document.decoded("DTSTART") == date(2027, 5, 31)
    letter = events[f"letter-{filled['letter'].pk}@demo.usdoctors"]
    assert letter.decoded("DTSTART") == date(2027, 9, 15)  # the ERAS target date
    assert events["season-2028-letters-due@demo.usdoctors"].decoded("DTSTART") == date(2027, 8, 25)
    assert events["season-2028-rotations-end-by@demo.usdoctors"].decoded("DTSTART") == date(
        2027, 8, 11
    )
    assert "season-2028-book-by@demo.usdoctors" in events
    assert events["season-2028-match_day@demo.usdoctors"].decoded("DTSTART") == date(2028, 3, 17)
    assert events["season-2028-eras_opens_on@demo.usdoctors"].decoded("DTSTART") == date(2027, 6, 2)
    # A cancelled installment is no longer due.
    installments = [uid for uid in events if uid.startswith("installment-")]
    assert installments == [f"installment-{filled['installment'].pk}@demo.usdoctors"]

    for event in events.values():
        # All-day: a date, written DTSTART;VALUE=DATE:YYYYMMDD, and every event has a DTSTAMP.
        assert type(event.decoded("DTSTART")) is date
        assert event["DTSTART"].params.get("VALUE") == "DATE"
        assert "DTSTAMP" in event
    assert b"DTSTART;VALUE=DATE:20270301" in first.content

    second = client.get(filled["path"])
    assert set(events_of(second)) == set(events)


def test_a_reset_address_answers_404_and_the_new_one_works(filled, client_for):
    student = filled["student"]
    old = filled["path"]
    client = client_for(student)
    assert client.get(old).status_code == 200

    response = client.post("/planner/calendar/reset/")
    assert response.status_code == 302
    with scope(organization=student.organization):
        new = f"/calendar/{planner.calendar_feed(student).token}.ics"

    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    page = client.get("/planner/").content.decode()
    assert new in page and old not in page


def test_reset_needs_a_post(filled, client_for):
    assert client_for(filled["student"]).get("/planner/calendar/reset/").status_code == 405


def test_an_unknown_token_answers_404(filled, client_for):
    client = client_for(None, host="demo.localhost")
    assert client.get("/calendar/not-a-token.ics").status_code == 404


def test_a_token_works_only_on_its_organizations_host(filled, client_for):
    client = client_for(None, host="northside.localhost")
    assert client.get(filled["path"]).status_code == 404


def test_another_members_feed_shows_only_their_items(filled, demo, northside, client_for):
    other_student = factories_student(demo["org"])
    with scopes_disabled():
        theirs = factories.RotationFactory(
            organization=demo["org"], student=other_student, start=date(2027, 4, 5)
        )
        northside_rotation = factories.RotationFactory(
            organization=northside["org"], student=northside["student"], start=date(2027, 4, 5)
        )
    with scope(organization=demo["org"]):
        their_path = f"/calendar/{planner.calendar_feed(other_student).token}.ics"
    client = client_for(None, host="demo.localhost")

    mine = events_of(client.get(filled["path"]))
    assert f"rotation-{theirs.pk}@demo.usdoctors" not in mine
    assert not any("northside" in uid for uid in mine)
    assert not any(str(northside_rotation.pk) in uid and "rotation" in uid for uid in mine)
    others = events_of(client.get(their_path))
    assert f"rotation-{theirs.pk}@demo.usdoctors" in others
    assert f"rotation-{filled['rotation'].pk}@demo.usdoctors" not in others
    assert f"installment-{filled['installment'].pk}@demo.usdoctors" not in others


def test_an_attendings_feed_holds_the_rotations_they_host(filled, client_for):
    attending = filled["rotation"].attending.membership
    with scope(organization=attending.organization):
        path = f"/calendar/{planner.calendar_feed(attending).token}.ics"
    events = events_of(client_for(None, host="demo.localhost").get(path))
    assert f"rotation-{filled['rotation'].pk}@demo.usdoctors" in events
    assert f"installment-{filled['installment'].pk}@demo.usdoctors" not in events


def factories_student(organization):
    with scopes_disabled():
        return factories.StudentFactory(organization=organization)


def test_an_attending_finds_and_resets_their_address_on_the_dashboard(filled, client_for):
    attending = filled["rotation"].attending.membership
    client = client_for(attending)
    page = client.get("/dashboard/").content.decode()
    with scope(organization=attending.organization):
        old = f"/calendar/{planner.calendar_feed(attending).token}.ics"
    assert old in page
    response = client.post("/planner/calendar/reset/")
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert client.get(old).status_code == 404


def test_a_rotation_whose_letter_is_already_uploaded_is_not_too_late(filled):
    # A completed rotation ending Sunday 2027-08-15, after the 2027-08-11 deadline, whose
    # letter is already uploaded for ERAS 2028: its letter did arrive.
    student = filled["student"]
    with scopes_disabled():
        late = factories.RotationFactory(
            organization=student.organization,
            student=student,
            start=date(2027, 7, 19),
            weeks=4,
            status="completed",
        )
        factories.LetterFactory(rotation=late, status="uploaded")
    with scope(organization=student.organization):
        plan = planner.build_plan(student, today=date(2027, 8, 20))
    entry = next(entry for entry in plan.rotations if entry.rotation.pk == late.pk)
    assert entry.end > entry.must_end_by
    assert entry.too_late is False


def test_the_feeds_cost_the_same_queries_with_ten_times_the_rows(filled, client_for):
    """The student's and the attending's feeds read each source in one query: more
    rotations, installments and letters add events, not queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    student = filled["student"]
    attending = filled["rotation"].attending
    with scope(organization=student.organization):
        attending_path = f"/calendar/{planner.calendar_feed(attending.membership).token}.ics"
    client = client_for(None, host="demo.localhost")

    def count(path) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        return len(queries.captured_queries)

    before = count(filled["path"]), count(attending_path)
    with scopes_disabled():
        for number in range(10):
            rotation = factories.RotationFactory(
                organization=student.organization,
                student=student,
                attending=attending,
                start=date(2027, 5, 3) + timedelta(weeks=5 * number),
                weeks=4,
                status="approved",
            )
            factories.InstallmentFactory(
                invoice__rotation=rotation, sequence=1, due_on=date(2027, 4, 30)
            )
    events = events_of(client.get(filled["path"]))
    # filled's approved and completed rotations, and the ten new ones
    assert len([uid for uid in events if uid.startswith("rotation-")]) == 12
    assert (count(filled["path"]), count(attending_path)) == before
