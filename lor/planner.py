"""The match-season planner (DESIGN §14): a student's season, worked back from the day
applicants may submit to programs.

The rules, each in one function below:

1. **Letters are due 5 business days before submission** (ECFMG processing): the latest
   letter upload is the season's submission date minus 5 business days (Monday to
   Friday; public holidays are not counted out). ``latest_letter_upload``.
2. **A rotation must end by the latest letter upload minus its attending's letter
   turnaround** (``AttendingProfile.letter_turnaround_days``, default 14): the letter
   is asked for in the rotation's last week and the attending needs that long to write
   and upload it. A rotation ending later is *too late for this season*: its letter
   cannot arrive in time. ``latest_rotation_end``.
3. **The latest booking date is the rotation's start minus the organization's booking
   lead** (``Organization.booking_lead_weeks``, default 8) **minus the student's
   consulate wait** (``MatchTarget.visa_wait_weeks``; tele-rotations need no visa, so
   no wait). ``booking_deadline``.
4. **Experience counts when it is recent**: a rotation counts towards the season when it
   ends within the 12 months before the submission date (on or after the same day one
   year earlier) and by the submission date; one that ends earlier will be older than
   12 months at submission and is flagged. ``recent_since``, ``is_older_than_a_year``.
5. **Targets**: at least 13 weeks (3 months) of in-person US clinical experience and at
   least 2 US letters in the target specialty for the season, from those 12 months.
   Completed and booked (approved, in progress, on hold) rotations count; requested ones
   are shown but not counted until approved. Letters count once accepted or uploaded.

"Book by <date> to finish by <date>" names the last 4-week in-person rotation that still
counts: it ends on the last Sunday on or before the latest rotation end (at the default
14-day turnaround; rotations end on Sundays), and the booking date follows rule 3.

Season dates are data (``lor.models.Season``, edited by platform staff), never
constants here. Building a plan costs a fixed number of queries, however many rotations,
letters and documents the student has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.choices import Specialty
from accounts.models import Membership
from documents.models import Document
from lor.models import (
    MAX_VISA_WAIT_WEEKS,
    OPEN_STATUSES,
    CalendarFeed,
    Letter,
    LetterStatus,
    MatchTarget,
    Season,
    new_feed_token,
)
from rotations.choices import BOOKED_STATUSES, Mode, RotationStatus
from rotations.models import AttendingProfile, Rotation
from rotations.services import type_title
from usdoctors.errors import Invalid, NotAllowed

ECFMG_PROCESSING_BUSINESS_DAYS = 5
DEFAULT_LETTER_TURNAROUND_DAYS = AttendingProfile._meta.get_field("letter_turnaround_days").default
RECENT_MONTHS = 12
TARGET_EXPERIENCE_WEEKS = 13  # 3 months
TARGET_SPECIALTY_LETTERS = 2
SUGGESTED_ROTATION_WEEKS = 4
COUNTED_LETTER_STATUSES = (LetterStatus.ACCEPTED, LetterStatus.UPLOADED)
SHOWN_ROTATION_STATUSES = (RotationStatus.REQUESTED, *BOOKED_STATUSES, RotationStatus.COMPLETED)
COUNTED_ROTATION_STATUSES = (*BOOKED_STATUSES, RotationStatus.COMPLETED)


# --- The rules ---------------------------------------------------------------------------


def business_days_before(day: date, count: int) -> date:
    """The day ``count`` business days (Monday to Friday) before ``day``."""
    while count > 0:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def latest_letter_upload(season: Season) -> date:
    """Rule 1: letters must be in the letter portal 5 business days before the
    submission date, for ECFMG to process them."""
    return business_days_before(season.submission_opens_on, ECFMG_PROCESSING_BUSINESS_DAYS)


def latest_rotation_end(
    season: Season, letter_turnaround_days: int = DEFAULT_LETTER_TURNAROUND_DAYS
) -> date:
    """Rule 2: the last day a rotation may end for its letter to arrive this season —
    the latest letter upload minus the attending's letter turnaround."""
    return latest_letter_upload(season) - timedelta(days=letter_turnaround_days)


def booking_deadline(start: date, *, booking_lead_weeks: int, visa_wait_weeks: int) -> date:
    """Rule 3: book a rotation starting on ``start`` by its start minus the
    organization's booking lead minus the consulate wait."""
    return start - timedelta(weeks=booking_lead_weeks + visa_wait_weeks)


def visa_wait_for(mode: str, visa_wait_weeks: int) -> int:
    """The consulate wait counts for in-person rotations only: a tele-rotation needs no
    visa."""
    return 0 if mode == Mode.TELE else visa_wait_weeks


def recent_since(submission: date) -> date:
    """Rule 4: the first day of the 12 months before submission (the same day a year
    earlier; February 29 becomes February 28)."""
    try:
        return submission.replace(year=submission.year - 1)
    except ValueError:
        return submission.replace(year=submission.year - 1, day=28)


def is_older_than_a_year(end: date, submission: date) -> bool:
    """Rule 4: experience ending before ``recent_since`` is older than 12 months on the
    submission date."""
    return end < recent_since(submission)


def last_sunday_on_or_before(day: date) -> date:
    return day - timedelta(days=(day.weekday() + 1) % 7)


# --- The plan ----------------------------------------------------------------------------


@dataclass
class PlannedRotation:
    rotation: Rotation
    title: str
    start: date
    end: date
    must_end_by: date
    book_by: date
    visa_wait_weeks: int
    too_late: bool
    older_than_a_year: bool
    counts: bool
    booking_late: bool


@dataclass
class PlannedLetter:
    letter: Letter
    counts: bool
    cannot_arrive: bool


@dataclass
class PlannedDocument:
    document: Document
    expires_on: date
    needed_until: date | None  # the end of the last booked rotation it must cover

    @property
    def expires_too_soon(self) -> bool:
        return self.needed_until is not None and self.expires_on < self.needed_until


@dataclass
class Warning:
    code: str
    message: str
    on: date | None = None


@dataclass
class Milestone:
    """One line of the timeline, in date order."""

    on: date
    kind: str  # season | deadline | rotation | letter | document
    label: str
    detail: str = ""
    until: date | None = None
    warning: str = ""


@dataclass
class Suggestion:
    weeks: int
    start: date
    finish_by: date
    book_by: date

    def words(self) -> str:
        return (
            f"Book by {self.book_by:%A, %B} {self.book_by.day}, {self.book_by.year} "
            f"to finish by {self.finish_by:%A, %B} {self.finish_by.day}, {self.finish_by.year}"
        )


@dataclass
class Plan:
    today: date
    target: MatchTarget | None
    season: Season | None
    booking_lead_weeks: int
    visa_wait_weeks: int
    specialty: str = ""
    submission: date | None = None
    letters_due: date | None = None
    rotations_end_by: date | None = None
    recent_since: date | None = None
    suggestion: Suggestion | None = None
    rotations: list[PlannedRotation] = field(default_factory=list)
    letters: list[PlannedLetter] = field(default_factory=list)
    documents: list[PlannedDocument] = field(default_factory=list)
    experience_weeks: int = 0
    specialty_letters: int = 0
    warnings: list[Warning] = field(default_factory=list)
    timeline: list[Milestone] = field(default_factory=list)
    experience_target: int = TARGET_EXPERIENCE_WEEKS
    letters_target: int = TARGET_SPECIALTY_LETTERS

    @property
    def deadlines(self) -> list[Milestone]:
        return [entry for entry in self.timeline if entry.kind in ("deadline", "season")]

    @property
    def next_deadline(self) -> Milestone | None:
        """The first season date or planner deadline from today on."""
        return next((entry for entry in self.deadlines if entry.on >= self.today), None)

    @property
    def experience_met(self) -> bool:
        return self.experience_weeks >= self.experience_target

    @property
    def letters_met(self) -> bool:
        return self.specialty_letters >= self.letters_target


def season_choices(today: date):
    """The seasons a student may aim for: those whose Match Day is still ahead."""
    return Season.objects.filter(match_day__gte=today).order_by("match_year")


def default_season(today: date) -> Season | None:
    """Without a target, the first season whose submission date is still ahead."""
    return Season.objects.filter(submission_opens_on__gte=today).order_by("match_year").first()


def _date_words(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def build_plan(student: Membership, *, today: date) -> Plan:
    """The student's plan for their target season (or the next season with its
    submission date ahead, when they set no target yet), with the §14 warnings."""
    target = MatchTarget.objects.filter(student=student).first()
    if target is not None:
        season = Season.objects.filter(match_year=target.match_year).first()
    else:
        season = default_season(today)
    organization = student.organization
    plan = Plan(
        today=today,
        target=target,
        season=season,
        booking_lead_weeks=organization.booking_lead_weeks,
        visa_wait_weeks=target.visa_wait_weeks if target else 0,
        specialty=target.specialty if target else "",
    )
    if season is None:
        return plan
    plan.submission = season.submission_opens_on
    plan.letters_due = latest_letter_upload(season)
    plan.rotations_end_by = latest_rotation_end(season)
    plan.recent_since = recent_since(season.submission_opens_on)
    _suggest(plan)
    letters = list(
        Letter.objects.filter(student=student)
        .exclude(status=LetterStatus.DECLINED)
        .select_related("attending", "rotation")
        .order_by("target_on", "pk")
    )
    _place_rotations(plan, student, letters)
    _place_letters(plan, letters)
    _place_documents(plan, student)
    _season_timeline(plan, season)
    plan.timeline.sort(key=lambda entry: (entry.on, entry.kind != "deadline"))
    return plan


def _suggest(plan: Plan) -> None:
    finish_by = last_sunday_on_or_before(plan.rotations_end_by)
    start = finish_by - timedelta(weeks=SUGGESTED_ROTATION_WEEKS, days=-1)
    book_by = booking_deadline(
        start, booking_lead_weeks=plan.booking_lead_weeks, visa_wait_weeks=plan.visa_wait_weeks
    )
    plan.suggestion = Suggestion(SUGGESTED_ROTATION_WEEKS, start, finish_by, book_by)
    plan.timeline.append(
        Milestone(
            book_by,
            "deadline",
            "Last day to book a rotation that counts this season",
            f"{plan.suggestion.words()} (a {SUGGESTED_ROTATION_WEEKS}-week in-person "
            f"rotation: {plan.booking_lead_weeks} weeks' booking lead"
            + (f" and {plan.visa_wait_weeks} weeks' consulate wait" if plan.visa_wait_weeks else "")
            + ").",
            warning="This date has passed: choose a shorter or tele-rotation, or the next season."
            if book_by < plan.today
            else "",
        )
    )
    plan.timeline.append(
        Milestone(
            plan.rotations_end_by,
            "deadline",
            "Rotations must end by this day",
            f"with an attending who writes letters in {DEFAULT_LETTER_TURNAROUND_DAYS} days "
            "(each attending's own turnaround moves it).",
        )
    )
    plan.timeline.append(
        Milestone(
            plan.letters_due,
            "deadline",
            "Letters in the ERAS letter portal",
            f"{ECFMG_PROCESSING_BUSINESS_DAYS} business days before submission, for ECFMG "
            "to process them.",
        )
    )


def _place_rotations(plan: Plan, student: Membership, letters: list[Letter]) -> None:
    submission = plan.submission
    # A rotation whose letter is already in ERAS for this season is not too late for it.
    uploaded_from = {
        letter.rotation_id
        for letter in letters
        if letter.status == LetterStatus.UPLOADED and letter.season == plan.season.match_year
    }
    rotations = (
        Rotation.objects.filter(student=student, status__in=SHOWN_ROTATION_STATUSES)
        .select_related("attending")
        .order_by("start", "pk")
    )
    for rotation in rotations:
        end = rotation.end
        wait = visa_wait_for(rotation.mode, plan.visa_wait_weeks)
        planned = PlannedRotation(
            rotation=rotation,
            title=type_title(rotation),
            start=rotation.start,
            end=end,
            must_end_by=latest_rotation_end(plan.season, rotation.attending.letter_turnaround_days),
            book_by=booking_deadline(
                rotation.start, booking_lead_weeks=plan.booking_lead_weeks, visa_wait_weeks=wait
            ),
            visa_wait_weeks=wait,
            too_late=False,
            older_than_a_year=is_older_than_a_year(end, submission),
            counts=False,
            booking_late=False,
        )
        planned.too_late = end > planned.must_end_by and rotation.pk not in uploaded_from
        planned.counts = (
            rotation.status in COUNTED_ROTATION_STATUSES
            and rotation.mode == Mode.IN_PERSON
            and plan.recent_since <= end <= submission
        )
        planned.booking_late = (
            rotation.status == RotationStatus.REQUESTED and plan.today > planned.book_by
        )
        if planned.counts:
            plan.experience_weeks += rotation.weeks
        plan.rotations.append(planned)
        where = f"{planned.title} with {rotation.attending.display_name}"
        warning = ""
        if planned.too_late:
            warning = (
                f"Too late for this season: it ends {_date_words(end)}, after "
                f"{_date_words(planned.must_end_by)}, so its letter cannot reach ERAS by "
                f"{_date_words(plan.letters_due)}."
            )
            plan.warnings.append(Warning("rotation_too_late", f"{where}: {warning}", end))
        elif planned.older_than_a_year:
            warning = (
                f"Older than 12 months at submission: it ends {_date_words(end)}, before "
                f"{_date_words(plan.recent_since)}; programs look for experience from the "
                "last 12 months."
            )
            plan.warnings.append(Warning("experience_too_old", f"{where}: {warning}", end))
        if planned.booking_late:
            late = (
                f"The booking date has passed ({_date_words(planned.book_by)}): with "
                f"{plan.booking_lead_weeks} weeks' booking lead"
                + (f" and {wait} weeks' consulate wait" if wait else "")
                + " it may not be ready in time."
            )
            warning = f"{warning} {late}".strip()
            plan.warnings.append(Warning("booking_late", f"{where}: {late}", planned.book_by))
        plan.timeline.append(
            Milestone(
                rotation.start,
                "rotation",
                where,
                f"{rotation.get_status_display()}; book by {_date_words(planned.book_by)} "
                f"to finish by {_date_words(planned.must_end_by)}.",
                until=end,
                warning=warning,
            )
        )


def _place_letters(plan: Plan, letters: list[Letter]) -> None:
    season_year = plan.season.match_year
    for letter in letters:
        in_season = letter.season == season_year
        rotation_end = letter.rotation.end
        counts = (
            in_season
            and letter.status in COUNTED_LETTER_STATUSES
            and (not plan.specialty or letter.specialty == plan.specialty)
            and plan.recent_since <= rotation_end <= plan.submission
        )
        # An open letter the attending cannot write by the letter deadline from today.
        cannot_arrive = (
            in_season
            and letter.status in OPEN_STATUSES
            and plan.today + timedelta(days=letter.attending.letter_turnaround_days)
            > plan.letters_due
        )
        if counts:
            plan.specialty_letters += 1
        plan.letters.append(PlannedLetter(letter, counts, cannot_arrive))
        label = f"Letter from {letter.attending.display_name} ({letter.get_specialty_display()})"
        warning = ""
        if cannot_arrive:
            warning = (
                f"Cannot arrive this season: {letter.attending.display_name} needs "
                f"{letter.attending.letter_turnaround_days} days, and letters are due "
                f"{_date_words(plan.letters_due)}."
            )
            plan.warnings.append(Warning("letter_cannot_arrive", f"{label}: {warning}"))
        plan.timeline.append(
            Milestone(
                letter.uploaded_at.date() if letter.uploaded_at else letter.target_on,
                "letter",
                label,
                f"{letter.get_status_display()}, ERAS {letter.season}"
                + ("" if letter.uploaded_at else f"; ERAS target {_date_words(letter.target_on)}"),
                warning=warning,
            )
        )


def _place_documents(plan: Plan, student: Membership) -> None:
    booked_ends = [
        entry.end
        for entry in plan.rotations
        if entry.rotation.status in BOOKED_STATUSES and entry.end >= plan.today
    ]
    needed_until = max(booked_ends, default=None)
    documents = (
        Document.objects.filter(student=student, expires_on__isnull=False)
        .select_related("document_type")
        .order_by("expires_on", "pk")
    )
    for document in documents:
        planned = PlannedDocument(document, document.expires_on, needed_until)
        plan.documents.append(planned)
        warning = ""
        if planned.expires_too_soon:
            warning = (
                f"Expires {_date_words(document.expires_on)}, before your booked rotations "
                f"end ({_date_words(needed_until)}): renew it."
            )
            plan.warnings.append(
                Warning(
                    "document_expires",
                    f"{document.document_type.name}: {warning}",
                    planned.expires_on,
                )
            )
        plan.timeline.append(
            Milestone(
                document.expires_on,
                "document",
                f"{document.document_type.name} expires",
                document.get_status_display(),
                warning=warning,
            )
        )


SEASON_DATES = (
    ("eras_opens_on", "ERAS opens"),
    ("submission_opens_on", "Applicants may submit"),
    ("programs_review_on", "Programs start reviewing"),
    ("rank_deadline_on", "Rank order list deadline"),
    ("match_day", "Match Day"),
)


def _season_timeline(plan: Plan, season: Season) -> None:
    for name, label in SEASON_DATES:
        plan.timeline.append(
            Milestone(getattr(season, name), "season", f"{label} (ERAS {season.match_year})")
        )


# --- Writes: the student's target and their calendar address ----------------------------


@transaction.atomic
def set_match_target(
    student: Membership, *, match_year: int, specialty: str, visa_wait_weeks: int, today: date
) -> MatchTarget:
    """Save what the student aims for (§14): a season whose Match Day is still ahead
    (one platform staff published), a specialty from the list, and a consulate wait of
    0 to 52 weeks. Anything else is refused with ``Invalid`` and nothing changes."""
    if not student.is_student:
        raise NotAllowed("Only students set a Match target.", code="not_a_student")
    if not season_choices(today).filter(match_year=match_year).exists():
        years = ", ".join(
            str(year) for year in season_choices(today).values_list("match_year", flat=True)
        )
        raise Invalid(
            f"Choose a Match year whose season dates are published: {years or 'none yet'}.",
            code="season_not_open",
            field="match_year",
        )
    if specialty not in Specialty.values:
        raise Invalid(
            "Choose a specialty from the list.", code="invalid_specialty", field="specialty"
        )
    if not 0 <= visa_wait_weeks <= MAX_VISA_WAIT_WEEKS:
        raise Invalid(
            f"The consulate wait is 0 to {MAX_VISA_WAIT_WEEKS} weeks.",
            code="invalid_visa_wait",
            field="visa_wait_weeks",
        )
    target, _created = MatchTarget.objects.update_or_create(
        organization=student.organization,
        student=student,
        defaults={
            "match_year": match_year,
            "specialty": specialty,
            "visa_wait_weeks": visa_wait_weeks,
        },
    )
    return target


def calendar_feed(member: Membership) -> CalendarFeed:
    """The member's calendar address in this organization, made on first use."""
    feed, _created = CalendarFeed.objects.get_or_create(
        organization=member.organization, member=member
    )
    return feed


@transaction.atomic
def reset_calendar_feed(member: Membership) -> CalendarFeed:
    """Give the member a new secret calendar address; the old one answers 404 from now
    on (a calendar application subscribed to it stops getting updates)."""
    feed = calendar_feed(member)
    feed.token = new_feed_token()
    feed.created_at = timezone.now()
    feed.save(update_fields=["token", "created_at"])
    return feed
