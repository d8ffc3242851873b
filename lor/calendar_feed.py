"""The calendar feed (DESIGN §14): one member's dates in one organization as RFC 5545
iCalendar, written with the maintained ``icalendar`` library, served at a secret address
(``lor.models.CalendarFeed``) that calendar applications subscribe to.

What it holds:

- a student's rotations (requested, booked, in progress, completed), each an all-day
  event from its first Monday through its last Sunday;
- their payment due dates (installments not yet paid or cancelled);
- their documents' expiry dates;
- letter deadlines: each open letter's ERAS target date, and the planner's deadlines for
  their season (book by, rotations end by, letters in the letter portal, lor.planner);
- the season's dates (ERAS opens, submission, programs review, rank deadline, Match Day).

An attending's feed holds the rotations they host, the letters they owe (ERAS target
dates) and the next season's dates.

Every date is an all-day event (``DTSTART;VALUE=DATE``). Each event's UID names its
source row and the organization (``rotation-12@demo.usdoctors``), so it stays the same
across fetches and a calendar application updates the event instead of adding another.
Only the member's own rows of this organization are read (the tenant scope is active).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from accounts.models import Membership
from lor import planner
from lor.models import OPEN_STATUSES, Letter, Season
from payments.models import Installment, InstallmentStatus
from rotations.choices import RotationStatus
from rotations.models import Rotation
from rotations.services import type_title
from usdoctors.links import organization_url

PRODID = "-//USDoctors//Match-season planner//EN"
CONTENT_TYPE = "text/calendar; charset=utf-8"
UNPAID = (InstallmentStatus.PENDING, InstallmentStatus.SENT)
HOSTED_STATUSES = planner.SHOWN_ROTATION_STATUSES


def uid(organization, kind: str, key) -> str:
    """A stable UID: the source row and the organization (RFC 5545 §3.8.4.7)."""
    return f"{kind}-{key}@{organization.slug}.usdoctors"


class FeedWriter:
    def __init__(self, member: Membership, now: datetime):
        self.member = member
        self.organization = member.organization
        self.now = now
        self.calendar = Calendar()
        self.calendar.add("prodid", PRODID)
        self.calendar.add("version", "2.0")
        self.calendar.add("calscale", "GREGORIAN")
        self.calendar.add("method", "PUBLISH")
        self.calendar.add("x-wr-calname", f"USDoctors · {self.organization.name}")

    def add(
        self,
        kind: str,
        key,
        summary: str,
        start: date,
        end: date | None = None,
        description: str = "",
        path: str = "",
    ) -> None:
        """One all-day event from ``start`` through ``end`` (inclusive; one day when
        omitted). DTEND is exclusive in RFC 5545, hence the day after."""
        event = Event()
        event.add("uid", uid(self.organization, kind, key))
        event.add("dtstamp", self.now)
        event.add("dtstart", start)
        event.add("dtend", (end or start) + timedelta(days=1))
        event.add("summary", summary)
        event.add("transp", "TRANSPARENT")
        if path:
            url = organization_url(self.organization, path)
            event.add("url", url)
            description = f"{description}\n{url}".strip()
        if description:
            event.add("description", description)
        self.calendar.add_component(event)

    def season(self, season: Season) -> None:
        for name, label in planner.SEASON_DATES:
            self.add(
                f"season-{season.match_year}",
                name,
                f"{label} (ERAS {season.match_year})",
                getattr(season, name),
                path=reverse("planner"),
            )

    def to_ical(self) -> bytes:
        return self.calendar.to_ical()


def student_feed(writer: FeedWriter, student: Membership, today: date) -> None:
    plan = planner.build_plan(student, today=today)
    for entry in plan.rotations:
        rotation = entry.rotation
        writer.add(
            "rotation",
            rotation.pk,
            f"{entry.title} with {rotation.attending.display_name}"
            + ("" if rotation.status != RotationStatus.REQUESTED else " (requested)"),
            entry.start,
            entry.end,
            f"{rotation.get_status_display()}. {entry.rotation.attending.city}, "
            f"{entry.rotation.attending.state}.",
            path=reverse("rotation_detail", args=[rotation.pk]),
        )
    installments = (
        Installment.objects.filter(invoice__student=student, status__in=UNPAID)
        .select_related("invoice")
        .order_by("due_on", "pk")
    )
    for installment in installments:
        invoice = installment.invoice
        writer.add(
            "installment",
            installment.pk,
            f"Payment due: ${installment.charged:,.2f} ({invoice.reference_code})",
            installment.due_on,
            description=f"Payment {installment.sequence} of {invoice.get_kind_display().lower()}"
            f" invoice {invoice.reference_code}.",
            path=reverse("my_payments"),
        )
    for entry in plan.documents:
        writer.add(
            "document-expiry",
            entry.document.pk,
            f"{entry.document.document_type.name} expires",
            entry.expires_on,
            path=reverse("my_documents"),
        )
    for entry in plan.letters:
        letter = entry.letter
        if letter.status in OPEN_STATUSES:
            writer.add(
                "letter",
                letter.pk,
                f"ERAS target: letter from {letter.attending.display_name}",
                letter.target_on,
                description=f"{letter.get_status_display()}, ERAS {letter.season}.",
                path=reverse("letter_detail", args=[letter.pk]),
            )
    if plan.season is not None:
        year = plan.season.match_year
        if plan.suggestion is not None:
            writer.add(
                f"season-{year}",
                "book-by",
                "Last day to book a rotation that counts this season",
                plan.suggestion.book_by,
                description=plan.suggestion.words() + ".",
                path=reverse("planner"),
            )
        writer.add(
            f"season-{year}",
            "rotations-end-by",
            "Rotations must end by today for their letters to count",
            plan.rotations_end_by,
            path=reverse("planner"),
        )
        writer.add(
            f"season-{year}",
            "letters-due",
            "Letters due in the ERAS letter portal",
            plan.letters_due,
            description="5 business days before submission, for ECFMG to process them.",
            path=reverse("planner"),
        )
        writer.season(plan.season)


def attending_feed(writer: FeedWriter, attending: Membership, today: date) -> None:
    profile = getattr(attending, "attending_profile", None)
    if profile is not None:
        rotations = (
            Rotation.objects.filter(attending=profile, status__in=HOSTED_STATUSES)
            .select_related("student__profile")
            .order_by("start", "pk")
        )
        for rotation in rotations:
            writer.add(
                "rotation",
                rotation.pk,
                f"{type_title(rotation)}: {rotation.student.display_name}"
                + ("" if rotation.status != RotationStatus.REQUESTED else " (requested)"),
                rotation.start,
                rotation.end,
                rotation.get_status_display() + ".",
                path=reverse("rotation_detail", args=[rotation.pk]),
            )
        letters = (
            Letter.objects.filter(attending=profile, status__in=OPEN_STATUSES)
            .select_related("student__profile", "student__user")
            .order_by("target_on", "pk")
        )
        for letter in letters:
            writer.add(
                "letter",
                letter.pk,
                f"ERAS target: letter for {letter.student.display_name}",
                letter.target_on,
                description=f"{letter.get_status_display()}, ERAS {letter.season}.",
                path=reverse("letter_detail", args=[letter.pk]),
            )
    season = planner.default_season(today)
    if season is not None:
        writer.season(season)


def render_feed(member: Membership, *, today: date | None = None) -> bytes:
    """The member's feed as iCalendar bytes (UTF-8)."""
    writer = FeedWriter(member, timezone.now())
    today = today or timezone.localdate()
    if member.is_student:
        student_feed(writer, member, today)
    elif member.is_attending:
        attending_feed(writer, member, today)
    else:
        season = planner.default_season(today)
        if season is not None:
            writer.season(season)
    return writer.to_ical()
