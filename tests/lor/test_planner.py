"""The match-season planner (DESIGN §14, issue 12 part 4).

The plan works back from the day applicants may submit (the season's data, edited by
platform staff): letters are due 5 business days before it; a rotation must end by that
minus its attending's letter turnaround; it must be booked by its start minus the
organization's booking lead minus the consulate wait; experience older than 12 months at
submission is flagged; the targets are 13 weeks of in-person US experience and 2 US
letters in the specialty from those 12 months.

Every test here uses the season of the Match in March 2028, whose applicants may submit
on Wednesday 2027-09-01.
"""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scope, scopes_disabled

from documents.models import DocumentType
from documents.uploads import upload_document
from lor import planner
from lor.models import MatchTarget, Season
from tests import factories
from tests.conftest import MINIMAL_PDF

pytestmark = pytest.mark.django_db

SUBMISSION = date(2027, 9, 1)  # a Wednesday
TODAY = date(2027, 1, 4)


@pytest.fixture
def season(db):
    season, _ = Season.objects.update_or_create(
        match_year=2028,
        defaults={
            "eras_opens_on": date(2027, 6, 2),
            "submission_opens_on": SUBMISSION,
            "programs_review_on": date(2027, 9, 22),
            "rank_deadline_on": date(2028, 3, 1),
            "match_day": date(2028, 3, 17),
        },
    )
    return season


@pytest.fixture
def student(demo, season):
    """Demo's verified student, aiming at the 2028 Match in internal medicine with a
    10-week consulate wait; demo's booking lead is 8 weeks."""
    student = demo["student"]
    assert student.organization.booking_lead_weeks == 8
    with scopes_disabled():
        MatchTarget.objects.create(
            organization=student.organization,
            student=student,
            match_year=2028,
            specialty="internal_medicine",
            visa_wait_weeks=10,
        )
    return student


def rotation(student, start: date, weeks: int, **kwargs):
    """An approved in-person rotation of ``student`` (with a fresh attending)."""
    kwargs.setdefault("status", "approved")
    kwargs.setdefault("attending__organization", student.organization)
    with scopes_disabled():
        return factories.RotationFactory(
            organization=student.organization, student=student, start=start, weeks=weeks, **kwargs
        )


def plan_of(student, today=TODAY):
    with scope(organization=student.organization):
        return planner.build_plan(student, today=today)


def entry_for(plan, rotation_):
    return next(entry for entry in plan.rotations if entry.rotation.pk == rotation_.pk)


# --- The acceptance dates ---------------------------------------------------------------


def test_letters_are_due_5_business_days_before_submission(season):
    # Back from Wednesday 2027-09-01, counting Monday to Friday only: Tue 31, Mon 30,
    # (weekend skipped) Fri 27, Thu 26, Wed 25 → Wednesday 2027-08-25.
    assert planner.latest_letter_upload(season) == date(2027, 8, 25)
    assert planner.latest_letter_upload(season).weekday() == 2  # a Wednesday


def test_a_rotation_ending_after_the_letter_turnaround_is_too_late_for_the_season(student):
    # Latest rotation end = latest letter upload (2027-08-25) − the attending's 14 days
    # = Wednesday 2027-08-11. A 4-week rotation from Monday 2027-07-19 ends on Sunday
    # 2027-08-15: after it, so its letter cannot arrive this season. One a week earlier
    # (ending Sunday 2027-08-08) is in time.
    late = rotation(student, date(2027, 7, 19), 4, attending__letter_turnaround_days=14)
    in_time = rotation(student, date(2027, 6, 14), 4, attending__letter_turnaround_days=14)
    assert late.end == date(2027, 8, 15)

    plan = plan_of(student)

    assert entry_for(plan, late).must_end_by == date(2027, 8, 11)
    assert entry_for(plan, late).too_late is True
    assert entry_for(plan, in_time).too_late is False
    [warning] = [w for w in plan.warnings if w.code == "rotation_too_late"]
    assert "Too late for this season" in warning.message
    assert "August 15, 2027" in warning.message and "August 11, 2027" in warning.message


def test_a_slower_letter_writer_moves_the_rotation_deadline(student):
    # With a 21-day turnaround the rotation must end by 2027-08-25 − 21 = 2027-08-04.
    slow = rotation(student, date(2027, 7, 12), 4, attending__letter_turnaround_days=21)
    entry = entry_for(plan_of(student), slow)
    assert entry.must_end_by == date(2027, 8, 4)
    assert entry.end == date(2027, 8, 8) and entry.too_late is True


def test_the_booking_deadline_adds_the_booking_lead_and_the_visa_wait(student):
    # 10 weeks' consulate wait + 8 weeks' booking lead = 18 weeks (126 days) before the
    # start, Monday 2027-07-19 → Monday 2027-03-15.
    late = rotation(student, date(2027, 7, 19), 4)
    entry = entry_for(plan_of(student), late)
    assert entry.book_by == date(2027, 7, 19) - timedelta(weeks=18) == date(2027, 3, 15)
    assert entry.visa_wait_weeks == 10


def test_a_tele_rotation_needs_no_visa_wait(student):
    # Only the booking lead: 8 weeks before Monday 2027-07-19 is Monday 2027-05-24.
    tele = rotation(student, date(2027, 7, 19), 2, mode="tele")
    entry = entry_for(plan_of(student), tele)
    assert entry.book_by == date(2027, 5, 24)
    assert entry.visa_wait_weeks == 0


def test_experience_older_than_12_months_at_submission_is_flagged(student):
    # 12 months before Wednesday 2027-09-01 is 2026-09-01. A rotation ending Sunday
    # 2026-08-02 is 13 months old at submission: flagged, and it does not count. One
    # ending Sunday 2026-09-06 is recent and counts.
    old = rotation(student, date(2026, 7, 6), 4, status="completed")
    recent = rotation(student, date(2026, 8, 10), 4, status="completed")
    assert old.end == date(2026, 8, 2) and recent.end == date(2026, 9, 6)

    plan = plan_of(student)

    assert plan.recent_since == date(2026, 9, 1)
    assert entry_for(plan, old).older_than_a_year is True
    assert entry_for(plan, old).counts is False
    assert entry_for(plan, recent).older_than_a_year is False
    assert entry_for(plan, recent).counts is True
    [warning] = [w for w in plan.warnings if w.code == "experience_too_old"]
    assert "Older than 12 months at submission" in warning.message


def test_book_by_to_finish_by_names_the_last_rotation_that_counts(student):
    # Rotations end on Sundays: the last Sunday on or before 2027-08-11 is 2027-08-08; a
    # 4-week rotation ending then starts Monday 2027-07-12 and is booked 18 weeks
    # before: Monday 2027-03-08.
    suggestion = plan_of(student).suggestion
    assert (suggestion.start, suggestion.finish_by, suggestion.book_by) == (
        date(2027, 7, 12),
        date(2027, 8, 8),
        date(2027, 3, 8),
    )
    assert suggestion.words() == (
        "Book by Monday, March 8, 2027 to finish by Sunday, August 8, 2027"
    )


def test_a_requested_rotation_past_its_booking_date_is_flagged(student):
    # Requested, starting Monday 2027-03-01: book by 18 weeks earlier (2026-10-26), and
    # today is 2027-01-04.
    waiting = rotation(student, date(2027, 3, 1), 2, status="requested")
    plan = plan_of(student)
    assert entry_for(plan, waiting).booking_late is True
    assert any(w.code == "booking_late" for w in plan.warnings)


# --- Progress towards the targets -----------------------------------------------------------


def test_progress_counts_in_person_booked_and_completed_weeks_from_the_last_12_months(student):
    rotation(student, date(2026, 9, 7), 4, status="completed")  # counts: 4
    rotation(student, date(2027, 2, 1), 4)  # approved: counts, 4
    rotation(student, date(2027, 3, 1), 4, status="requested")  # not yet approved
    rotation(student, date(2027, 4, 5), 4, mode="tele")  # a tele-rotation
    rotation(student, date(2027, 5, 3), 2, status="cancelled")  # not shown
    rotation(student, date(2026, 6, 1), 4, status="completed")  # older than 12 months

    plan = plan_of(student)

    assert plan.experience_weeks == 8
    assert plan.experience_met is False
    assert len(plan.rotations) == 5
    rotation(student, date(2027, 5, 3), 5)
    assert plan_of(student).experience_weeks == 13
    assert plan_of(student).experience_met is True


def test_letters_count_when_accepted_or_uploaded_in_the_specialty_for_the_season(student):
    def letter(**kwargs):
        completed = rotation(student, kwargs.pop("start", date(2026, 10, 5)), 4, status="completed")
        with scopes_disabled():
            return factories.LetterFactory(rotation=completed, **kwargs)

    letter(status="accepted")
    letter(status="uploaded")
    letter(status="requested")  # not yet accepted
    letter(status="accepted", specialty="surgery")  # another specialty
    letter(status="accepted", season=2029)  # another season
    letter(status="accepted", start=date(2026, 5, 4))  # its rotation is too old

    plan = plan_of(student)

    assert plan.specialty_letters == 2
    assert plan.letters_met is True


def test_an_open_letter_the_attending_cannot_write_in_time_is_flagged(student):
    # Letters are due 2027-08-25; on 2027-08-15 an attending with a 14-day turnaround
    # cannot make it (2027-08-29), on 2027-08-01 they can (2027-08-15).
    completed = rotation(student, date(2027, 6, 7), 4, status="completed")
    with scopes_disabled():
        factories.LetterFactory(rotation=completed, status="accepted")
    assert not plan_of(student, today=date(2027, 8, 1)).letters[0].cannot_arrive
    late = plan_of(student, today=date(2027, 8, 15))
    assert late.letters[0].cannot_arrive
    [warning] = [w for w in late.warnings if w.code == "letter_cannot_arrive"]
    assert "Cannot arrive this season" in warning.message


def test_a_document_expiring_before_a_booked_rotation_ends_is_flagged(student):
    booked = rotation(student, date(2027, 2, 1), 4)
    insurance = DocumentType.objects.get(code="liability_insurance")
    with scope(organization=student.organization):
        upload_document(
            student,
            insurance,
            SimpleUploadedFile("i.pdf", MINIMAL_PDF, content_type="application/pdf"),
            issued_on=date(2026, 3, 1),
            expires_on=date(2027, 2, 15),
        )
    plan = plan_of(student)
    [document] = plan.documents
    assert document.needed_until == booked.end
    assert document.expires_too_soon is True
    assert any(w.code == "document_expires" for w in plan.warnings)


def test_the_next_deadline_is_the_first_dated_line_from_today(student):
    plan = plan_of(student)
    assert plan.next_deadline.on == date(2027, 3, 8)
    assert plan.next_deadline.label == "Last day to book a rotation that counts this season"
    after = plan_of(student, today=date(2027, 8, 26))
    assert after.next_deadline.on == SUBMISSION


def test_without_a_target_the_plan_is_for_the_next_season_ahead(demo, season):
    plan = plan_of(demo["student"], today=TODAY)
    assert plan.target is None
    assert plan.season.match_year == 2028
    assert plan.visa_wait_weeks == 0


def test_season_dates_come_from_the_data_staff_edit(student, season):
    season.submission_opens_on = date(2027, 9, 15)  # a Wednesday two weeks later
    season.save()
    assert plan_of(student).letters_due == date(2027, 9, 8)


def test_the_migration_seeds_the_seasons_ahead():
    years = set(Season.objects.values_list("match_year", flat=True))
    assert {2027, 2028, 2029} <= years
    for season in Season.objects.filter(match_year__in=[2027, 2028, 2029]):
        assert (
            season.eras_opens_on.month == 6 and season.eras_opens_on.year == season.match_year - 1
        )
        assert season.submission_opens_on.month == 9
        # Match Day: the third Friday of March.
        assert season.match_day.month == 3 and season.match_day.weekday() == 4
        assert 15 <= season.match_day.day <= 21


# --- The target ----------------------------------------------------------------------------


def test_set_target_refuses_a_year_without_published_dates_and_changes_nothing(student):
    from usdoctors.errors import Invalid

    with scope(organization=student.organization), pytest.raises(Invalid) as refusal:
        planner.set_match_target(
            student, match_year=2045, specialty="surgery", visa_wait_weeks=3, today=TODAY
        )
    assert refusal.value.code == "season_not_open"
    with scopes_disabled():
        target = MatchTarget.objects.get(student=student)
    assert (target.match_year, target.specialty, target.visa_wait_weeks) == (
        2028,
        "internal_medicine",
        10,
    )
