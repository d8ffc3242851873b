"""Stored XSS (issue item 1): whatever a member types is shown as text, never run.

Every text field a user can write — student profile, attending profile, rotation request
note, thread messages, every reason, evaluation, support tickets and replies — gets a
script payload through the real forms (the way users write it). Then every page that
shows the field is fetched as each role that can see it, and every queued email's HTML
part is rendered. Each row of the tables below asserts that the escaped payload IS on the
page (so a page that does not show the field cannot pass by accident) and that no raw
payload is anywhere in the HTML.

Fields that cannot hold markup at all are covered by ``test_fields_that_refuse_markup``:
the phone number and email addresses are refused by their validators; kind, visa status,
specialty interests, credentials, specialty, setting and state are choices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.template.loader import get_template
from django.utils import timezone
from django.utils.html import escape
from django_scopes import scope, scopes_disabled

from accounts.models import StudentProfile, SupportTicket
from lor import seasons
from lor.models import Letter
from notifications.models import OutboundEmail
from notifications.services import render
from rotations import sweeps
from rotations.models import AttendingProfile, DateChange, Rotation
from tests import factories
from tests.conftest import pdf_upload

pytestmark = pytest.mark.django_db

# What an attacker types. Accepted by every free-text field (no control characters, fits
# each one's limit). The tag names the field, so each row proves that this page shows
# *this* field. (The profile's country is picked from a list, not typed.)
PAYLOAD = '<script>alert("{}")</script><img src=x onerror=alert(1)>"\''
# Any of these in the HTML means a payload got out unescaped: a tag, or a quote that
# breaks out of an attribute.
RAW_MARKERS = ("<script>alert(", "<img src=x onerror=", "alert(1)>\"'")

STUDENT_FIELDS = ("full_name", "medical_school")
ATTENDING_FIELDS = ("display_name", "practice_name", "city", "bio")
FIELDS = (
    *STUDENT_FIELDS,
    *ATTENDING_FIELDS,
    "request_message",
    "message_by_student",
    "message_by_attending",
    "decline_reason",
    "cancel_reason",
    "postpone_reason",
    "date_change_reason",
    "date_change_decline_reason",
    "info_request",
    "reject_reason",
    "evaluation_comments",
    "evaluation_activities",
    "review_text",
    "review_answer",
    "ticket_subject",
    "ticket_message",
    "reply_by_admin",
    "reply_by_student",
    "letter_message",
    "letter_decline_reason",
)


def payload(tag: str) -> str:
    return PAYLOAD.format(tag)


def escaped(tag: str) -> str:
    """The payload as Django's autoescaping writes it: ``&lt;script&gt;alert(&quot;…``."""
    return escape(payload(tag))


def monday(weeks_ahead: int):
    return factories.next_monday(weeks_ahead)


def raw_markers_in(html: str) -> list[str]:
    return [marker for marker in RAW_MARKERS if marker in html]


# --- The data, written the way users write it ---------------------------------------------

VALID_NPI = "1234567893"


def student_profile_form() -> dict:
    return {
        "full_name": payload("full_name"),
        "kind": "img",
        "medical_school": payload("medical_school"),
        "country": "NP",
        "graduation_year": "2023",
        "school_contact_email": "dean@school.test",
        "step1_result": "pass",
        # A J-1: the clerkship it requests is hands-on, closed to graduates on B-1/B-2 (§13).
        "visa_status": "j1",
        "specialty_interests": ["internal_medicine"],
        "phone": "+977 98 1234 5678",
        "cv": pdf_upload(),
    }


ATTENDING_PROFILE_FORM = {
    "display_name": payload("display_name"),
    "credentials": "MD",
    "npi": VALID_NPI,
    "specialty": "internal_medicine",
    "practice_name": payload("practice_name"),
    "setting": "community",
    "care_setting": "both",
    "city": payload("city"),
    "state": "TX",
    "rotation_types": ["clerkship", "observership"],
    "modes": ["in_person"],
    "weekly_rate": "500.00",
    # Above 1, so the request form's "weeks" help text names the attending: the original
    # bug (help text rendered with |safe).
    "minimum_weeks": "2",
    "writes_lors": "on",
    "lor_fee": "0",
    "contact_email": "private@clinic.test",
    "bio": payload("bio"),
}

EVALUATION_FORM = {
    "complete-medical_knowledge": "4",
    "complete-clinical_skills": "5",
    "complete-professionalism": "5",
    "complete-communication": "4",
    "complete-comments": payload("evaluation_comments"),
    "complete-activities": payload("evaluation_activities"),
}


def ok(response, *codes):
    """The write went through: the expected status, and not bounced to a sign-in or
    two-factor page on the way."""
    codes = codes or (302,)
    hops = [url for url, _status in getattr(response, "redirect_chain", [])]
    if response.status_code == 302:
        hops.append(response["Location"])
    assert response.status_code in codes and not any(
        url.startswith("/accounts/") for url in hops
    ), (
        f"{response.request['PATH_INFO']} answered {response.status_code} via {hops}: "
        f"{response.content.decode()[:2000]}"
    )
    return response


@pytest.fixture
def site(demo, client_for):
    """The demo organization with a payload in every user-writable text field.

    Members (``roles``): ``student`` (verified, has rotations and a ticket), ``queued``
    (submitted, waiting for verification), ``drafting`` (saved a draft), ``needs_info`` and
    ``rejected`` (admins answered them), ``attending`` and ``admin``.
    """
    org = demo["org"]
    with scopes_disabled():
        student, queued, drafting = (
            factories.StudentFactory(
                organization=org, verification_status="incomplete", profile=False
            )
            for _ in range(3)
        )
        rejected = factories.StudentFactory(organization=org, pending=True)
    roles = {
        "student": student,
        "queued": queued,
        "drafting": drafting,
        "needs_info": demo["pending"],
        "rejected": rejected,
        "attending": demo["attending"],
        "admin": demo["admin"],
    }
    clients = {role: client_for(membership) for role, membership in roles.items()}
    as_student, as_attending, as_admin = clients["student"], clients["attending"], clients["admin"]
    captured = {}  # responses seen while writing: flash messages, htmx answers, refusals

    # Student profiles, through the profile form.
    for role, button in (("student", "submit"), ("queued", "submit"), ("drafting", "save")):
        ok(clients[role].post("/profile/", {**student_profile_form(), button: "1"}))
    with scopes_disabled():
        profiles = {
            role: StudentProfile.objects.get(membership=roles[role])
            for role in ("student", "queued", "drafting", "needs_info", "rejected")
        }
    captured["verified_flash"] = ok(
        as_admin.post(f"/manage/verification/{profiles['student'].pk}/verify/", follow=True), 200
    )
    ok(
        as_admin.post(
            f"/manage/verification/{profiles['needs_info'].pk}/request-info/",
            {"info-message": payload("info_request")},
        )
    )
    ok(
        as_admin.post(
            f"/manage/verification/{profiles['rejected'].pk}/reject/",
            {"reject-message": payload("reject_reason")},
        )
    )

    # The attending's profile and weeks, through their forms; the admin checks the NPI.
    ok(as_attending.post("/attending/profile/", ATTENDING_PROFILE_FORM))
    ok(
        as_attending.post(
            "/attending/availability/",
            {
                "first_week": monday(2).isoformat(),
                "last_week": monday(21).isoformat(),
                "capacity": "2",
            },
        )
    )
    with scopes_disabled():
        attending = AttendingProfile.objects.get(membership=demo["attending"])
    captured["npi_flash"] = ok(
        as_admin.post(
            f"/manage/attendings/{attending.pk}/verify-npi/",
            {"registry_checked": "yes"},
            follow=True,
        ),
        200,
    )

    # Rotation requests from the attending's page.
    def request(start, message="", **extra):
        data = {
            "rotation_type": "clerkship",
            "mode": "in_person",
            "start": start.isoformat(),
            "weeks": "2",
            "payer": "self",
            "plan": "full",
            "payment_method": "zelle",
            "message": message,
            # The price summary's "I agree to pay $1,000.00 as scheduled" ($500 × 2, Zelle).
            "confirmed_total": "1000.00",
            **extra,
        }
        return as_student.post(f"/attendings/{attending.pk}/", data, follow=True)

    def rotation_at(start) -> Rotation:
        with scopes_disabled():
            return Rotation.objects.get(student=student, start=start)

    captured["request_refused"] = ok(request(monday(2), weeks="1"), 400)  # below the minimum
    captured["request_sent_flash"] = ok(request(monday(2), payload("request_message")), 200)
    waiting = rotation_at(monday(2))
    for start in (monday(4), monday(6), monday(8), monday(10), monday(18)):
        ok(request(start), 200)
    active, cancelled, declined, postponed, withdrawn = (
        rotation_at(monday(n)) for n in (4, 6, 8, 10, 18)
    )
    for rotation in (active, cancelled, postponed):
        ok(as_attending.post(f"/rotations/{rotation.pk}/approve/"))
    ok(
        as_attending.post(
            f"/rotations/{declined.pk}/decline/", {"decline-reason": payload("decline_reason")}
        )
    )
    ok(as_student.post(f"/rotations/{withdrawn.pk}/withdraw/"))
    ok(
        as_student.post(
            f"/rotations/{cancelled.pk}/cancel/",
            {"cancel-confirm": "on", "cancel-reason": payload("cancel_reason")},
        )
    )

    # The thread: the student writes with htmx, the attending without.
    captured["htmx_message"] = ok(
        as_student.post(
            f"/rotations/{active.pk}/messages/",
            {"message-body": payload("message_by_student")},
            HTTP_HX_REQUEST="true",
        ),
        200,
    )
    ok(
        as_attending.post(
            f"/rotations/{active.pk}/messages/",
            {"message-body": payload("message_by_attending")},
        )
    )

    # Date changes: one left open, one declined; an admin postpones.
    ok(
        as_student.post(
            f"/rotations/{active.pk}/date-change/",
            {
                "propose-new_start": monday(16).isoformat(),
                "propose-reason": payload("date_change_reason"),
            },
        )
    )
    ok(
        as_student.post(
            f"/rotations/{postponed.pk}/date-change/",
            {"propose-new_start": monday(12).isoformat(), "propose-reason": "Exam moved"},
        )
    )
    with scopes_disabled():
        change = DateChange.objects.get(rotation=postponed, status="proposed")
    ok(
        as_attending.post(
            f"/rotations/{postponed.pk}/date-change/{change.pk}/decline/",
            {"decline-change-reason": payload("date_change_decline_reason")},
        )
    )
    ok(
        as_admin.post(
            f"/rotations/{postponed.pk}/postpone/",
            {
                "postpone-new_start": monday(14).isoformat(),
                "postpone-reason": payload("postpone_reason"),
            },
        )
    )

    # A rotation that ended: the attending completes it with an evaluation.
    with scopes_disabled():
        completed = factories.RotationFactory(
            attending=attending, student=student, status="in_progress", start=monday(-4)
        )
    ok(as_attending.post(f"/rotations/{completed.pk}/complete/", EVALUATION_FORM))
    # The student reviews it (revealing the evaluation, §15); the attending answers.
    ok(
        as_student.post(
            f"/rotations/{completed.pk}/review/",
            {
                "review-teaching": "4",
                "review-would_recommend": "yes",
                "review-patient_contact": "some",
                "review-care_setting": "inpatient",
                "review-wrote_notes": "no",
                "review-hours_per_week": "40",
                "review-letter": "promised",
                "review-text": payload("review_text"),
            },
        )
    )
    with scopes_disabled():
        review_id = completed.review.pk
    ok(
        as_attending.post(
            f"/reviews/{review_id}/answer/", {"answer-answer": payload("review_answer")}
        )
    )

    # A letter of recommendation from that rotation, asked and declined through the pages.
    ok(
        as_student.post(
            "/letters/request/",
            {
                "attending": str(attending.pk),
                "specialty": "internal_medicine",
                "season": str(seasons.default_season(timezone.localdate())),
                "message": payload("letter_message"),
            },
        )
    )
    with scopes_disabled():
        letter = Letter.objects.get(student=student)
    ok(
        as_attending.post(
            f"/letters/{letter.pk}/decline/", {"decline-reason": payload("letter_decline_reason")}
        )
    )

    # A support ticket with replies from both sides.
    ok(
        as_student.post(
            "/support/new/",
            {
                "category": "general",
                "subject": payload("ticket_subject"),
                "message": payload("ticket_message"),
                "new_email": "",
            },
        )
    )
    with scopes_disabled():
        ticket = SupportTicket.objects.get(author=student)
    ok(as_admin.post(f"/support/{ticket.pk}/", {"message": payload("reply_by_admin")}))
    ok(as_student.post(f"/support/{ticket.pk}/", {"message": payload("reply_by_student")}))

    # The day-3 reminder sweep for the waiting request (its email names the student).
    with scope(organization=org):
        sweeps.remind_and_expire_requests(org, now=timezone.now() + timedelta(days=3, hours=1))

    return SimpleNamespace(
        org=org,
        roles=roles,
        clients=clients,
        captured=captured,
        profiles=profiles,
        attending=attending,
        ticket=ticket,
        letter=letter,
        rotations={
            "waiting": waiting,
            "active": active,
            "cancelled": cancelled,
            "declined": declined,
            "postponed": postponed,
            "withdrawn": withdrawn,
            "completed": completed,
        },
    )


# --- Pages ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """A page: how to reach it, and which fields it shows to which roles."""

    name: str
    path: object  # site → path
    shows: dict[str, tuple[str, ...]]  # role → fields
    htmx: bool = False
    # Where a field must appear escaped, when it matters where: field → HTML just before it.
    at: dict[str, str] = field(default_factory=dict)


def rotation_page(key: str):
    return lambda site: f"/rotations/{site.rotations[key].pk}/"


PEOPLE = ("full_name", "display_name")  # every rotation page names both sides
ROTATION_SIDES = (*PEOPLE, "practice_name", "city")
THREE_ROLES = ("student", "attending", "admin")

PAGES = [
    # Dashboards.
    Page("dashboard", "/dashboard/", {"student": ("full_name", "display_name")}),
    Page("dashboard", "/dashboard/", {"attending": ("display_name", "full_name")}),
    Page("dashboard", "/dashboard/", {"needs_info": ("info_request",)}),
    Page("dashboard", "/dashboard/", {"rejected": ("reject_reason",)}),
    # The student's own profile: the editable form, the locked summary, the admins' answers.
    Page("own profile (form)", "/profile/", {"drafting": STUDENT_FIELDS}),
    Page("own profile (summary)", "/profile/", {"student": STUDENT_FIELDS}),
    Page("own profile", "/profile/", {"needs_info": ("info_request",)}),
    Page("own profile", "/profile/", {"rejected": ("reject_reason",)}),
    # Student detail: the student, the admins, an attending with an approved rotation.
    Page(
        "student detail",
        lambda site: f"/students/{site.profiles['student'].pk}/",
        {role: STUDENT_FIELDS for role in THREE_ROLES},
    ),
    # Verification.
    Page("verification queue", "/manage/verification/", {"admin": ("full_name",)}),
    Page(
        "verification review",
        lambda site: f"/manage/verification/{site.profiles['queued'].pk}/",
        {"admin": STUDENT_FIELDS},
    ),
    Page(
        "verification review",
        lambda site: f"/manage/verification/{site.profiles['needs_info'].pk}/",
        {"admin": ("info_request",)},
    ),
    Page(
        "verification review",
        lambda site: f"/manage/verification/{site.profiles['rejected'].pk}/",
        {"admin": ("reject_reason",)},
    ),
    # Search, the full page and its htmx fragment.
    Page(
        "attending search",
        "/attendings/",
        {role: ("display_name", "practice_name", "city") for role in THREE_ROLES},
    ),
    Page(
        "attending search (htmx results)",
        "/attendings/?specialty=internal_medicine",
        {role: ("display_name", "practice_name", "city") for role in THREE_ROLES},
        htmx=True,
    ),
    # The attending's page; a verified student also gets the request form.
    Page(
        "attending detail with request form",
        lambda site: f"/attendings/{site.attending.pk}/",
        {"student": ATTENDING_FIELDS},
        at={"display_name": 'id="id_weeks_helptext">'},
    ),
    Page(
        "attending detail",
        lambda site: f"/attendings/{site.attending.pk}/",
        {"attending": ATTENDING_FIELDS, "admin": ATTENDING_FIELDS, "queued": ATTENDING_FIELDS},
    ),
    Page("own attending profile (form)", "/attending/profile/", {"attending": ATTENDING_FIELDS}),
    Page("manage attendings", "/manage/attendings/", {"admin": ("display_name", "city")}),
    # Rotation lists: each role sees the other side's name.
    Page(
        "rotation list",
        "/rotations/",
        {"student": ("display_name",), "attending": ("full_name",), "admin": PEOPLE},
    ),
    # One rotation in each state that carries user text.
    Page(
        "rotation detail (requested)",
        rotation_page("waiting"),
        {role: (*ROTATION_SIDES, "request_message") for role in THREE_ROLES},
    ),
    Page(
        "rotation detail (declined)",
        rotation_page("declined"),
        {role: (*PEOPLE, "decline_reason") for role in THREE_ROLES},
    ),
    Page(
        "rotation detail (cancelled)",
        rotation_page("cancelled"),
        {role: (*PEOPLE, "cancel_reason") for role in THREE_ROLES},
    ),
    Page(
        "rotation detail (approved, thread, open date change)",
        rotation_page("active"),
        {
            role: (*PEOPLE, "message_by_student", "message_by_attending", "date_change_reason")
            for role in THREE_ROLES
        },
    ),
    Page(
        "rotation detail (postponed)",
        rotation_page("postponed"),
        {role: (*PEOPLE, "postpone_reason") for role in THREE_ROLES},
    ),
    Page(
        "rotation detail (completed, evaluation, experience)",
        rotation_page("completed"),
        {
            role: (
                *ROTATION_SIDES,
                "evaluation_comments",
                "evaluation_activities",
                "review_text",
                "review_answer",
            )
            for role in THREE_ROLES
        },
    ),
    Page(
        "attending's reviews",
        lambda site: f"/attendings/{site.attending.pk}/reviews/",
        {role: ("display_name", "review_text", "review_answer") for role in THREE_ROLES},
    ),
    # Letters of recommendation.
    Page(
        "letter list",
        "/letters/",
        {"student": ("display_name",), "attending": ("full_name",), "admin": PEOPLE},
    ),
    Page(
        "letter detail (declined)",
        lambda site: f"/letters/{site.letter.pk}/",
        {role: ("letter_message", "letter_decline_reason") for role in THREE_ROLES},
    ),
    # Support.
    Page(
        "ticket list", "/support/", {"student": ("ticket_subject",), "admin": ("ticket_subject",)}
    ),
    Page(
        "ticket detail",
        lambda site: f"/support/{site.ticket.pk}/",
        {
            role: ("ticket_subject", "ticket_message", "reply_by_admin", "reply_by_student")
            for role in ("student", "admin")
        },
    ),
]

# Answers seen while writing the data: flash messages after a redirect, the htmx answer to
# a new message, a refusal naming the attending. (captured key, role, fields)
CAPTURED = [
    ("verified_flash", "admin", ("full_name",)),  # "Verified <name>." on the queue
    ("npi_flash", "admin", ("display_name",)),  # "NPI of <name> marked verified."
    ("request_sent_flash", "student", ("display_name", "full_name", "request_message")),
    ("request_refused", "student", ("display_name",)),  # "<name> takes students for at least…"
    ("htmx_message", "student", ("message_by_student", "full_name")),
]

ROWS = [
    (field_name, page, role)
    for page in PAGES
    for role, shown in page.shows.items()
    for field_name in shown
]


def fetch(site, page: Page, role: str):
    path = page.path(site) if callable(page.path) else page.path
    headers = {"HTTP_HX_REQUEST": "true"} if page.htmx else {}
    return site.clients[role].get(path, **headers)


def test_every_user_text_field_has_a_row():
    """The tables cover every field: a field no page shows would be a hole in this test."""
    shown_on_pages = {row[0] for row in ROWS} | {
        name for _key, _role, fields in CAPTURED for name in fields
    }
    assert set(FIELDS) - shown_on_pages - {"date_change_decline_reason"} == set()
    # The declined date change's reason goes only to the student, by email.
    assert "date_change_decline_reason" in {name for _template, name in EMAILS}


def test_pages_show_user_text_escaped(site):
    """Each (field, page, role) row: the page shows the field, escaped; and nothing on any
    page is raw. One test walks the whole table (building the data once) and names every
    failing row."""
    failures = []
    for page in PAGES:
        for role, fields in page.shows.items():
            where = f"{page.name} [{role}]"
            response = fetch(site, page, role)
            if response.status_code != 200:
                failures.append(f"{where}: answered {response.status_code}")
                continue
            html = response.content.decode()
            if page.htmx and "<html" in html:
                failures.append(f"{where}: answered the whole page, not the htmx fragment")
            if raw := raw_markers_in(html):
                failures.append(f"{where}: raw payload in the HTML: {raw}")
            for field_name in fields:
                before = page.at.get(field_name, "")
                if before + escaped(field_name) not in html:
                    failures.append(
                        f"{where}: {field_name} not shown escaped"
                        + (f" right after {before!r}" if before else "")
                    )
    assert not failures, "\n".join(failures)


def test_answers_to_writes_show_user_text_escaped(site):
    """Flash messages, the htmx answer to a new message and a refusal that repeat user
    text escape it."""
    failures = []
    for key, role, fields in CAPTURED:
        html = site.captured[key].content.decode()
        if raw := raw_markers_in(html):
            failures.append(f"{key} [{role}]: raw payload in the HTML: {raw}")
        failures += [
            f"{key} [{role}]: {name} not shown escaped"
            for name in fields
            if escaped(name) not in html
        ]
    assert not failures, "\n".join(failures)


def test_request_form_help_text_is_escaped_even_by_djangos_own_form_templates(site):
    """Django's default form templates render help text with |safe. The request form
    escapes the attending's name where it builds the help text, so the form is safe
    however it is rendered, not only through includes/field.html."""
    from rotations.forms import RotationRequestForm

    form = RotationRequestForm(attending=site.attending, student=site.roles["student"])
    html = str(form["weeks"].as_field_group())  # django/forms/field.html: help_text|safe
    assert raw_markers_in(html) == [] and escaped("display_name") in html


# --- Emails ---------------------------------------------------------------------------------

# (template, field): the HTML part of at least one queued email of this template shows the
# field, escaped.
EMAILS = [
    ("profile_submitted", "full_name"),
    ("profile_awaiting_verification", "full_name"),
    ("profile_verified", "full_name"),
    ("profile_needs_info", "info_request"),
    ("profile_rejected", "reject_reason"),
    ("rotation_requested", "full_name"),
    ("rotation_request_sent", "display_name"),
    ("rotation_request_reminder", "full_name"),
    ("rotation_approved", "display_name"),
    ("rotation_declined", "display_name"),
    ("rotation_declined", "decline_reason"),
    ("rotation_withdrawn", "full_name"),
    ("rotation_cancelled", "full_name"),
    ("rotation_cancelled", "display_name"),
    ("rotation_cancelled", "cancel_reason"),
    ("rotation_new_message", "full_name"),  # the student wrote; the attending is told
    ("date_change_proposed", "full_name"),
    ("date_change_proposed", "date_change_reason"),
    ("date_change_declined", "display_name"),
    ("date_change_declined", "date_change_decline_reason"),
    ("rotation_postponed", "full_name"),
    ("rotation_postponed", "display_name"),
    ("rotation_postponed", "postpone_reason"),
    ("rotation_completed", "display_name"),
    ("ticket_opened", "ticket_subject"),
    ("ticket_opened", "full_name"),
    ("ticket_reply", "reply_by_admin"),
    ("ticket_reply", "reply_by_student"),
]


def html_part(email: OutboundEmail) -> str:
    message = render(email)
    (html,) = [body for body, mimetype in message.alternatives if mimetype == "text/html"]
    return html


def test_queued_emails_show_user_text_escaped(site):
    """Every queued email's HTML part: no raw payload in any, and each (template, field)
    row found escaped in one of that template's emails."""
    with scopes_disabled():
        emails = list(
            OutboundEmail.objects.filter(organization=site.org).select_related("organization")
        )
    rendered: dict[str, list[str]] = {}
    failures = []
    for email in emails:
        html = html_part(email)
        rendered.setdefault(email.template, []).append(html)
        if raw := raw_markers_in(html):
            failures.append(f"{email.template} to {email.recipient} has the raw payload: {raw}")
    for template, field_name in EMAILS:
        if not any(escaped(field_name) in html for html in rendered.get(template, [])):
            failures.append(f"no {template} email shows {field_name} escaped")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "template",
    sorted(
        path.name.removesuffix(".html")
        for path in (Path(settings.BASE_DIR) / "templates" / "emails").glob("*.html")
        if path.name != "base.html"
    ),
)
def test_every_email_template_escapes_whatever_it_is_given(template):
    """A backstop for templates no action above reached (on-hold, expired…): every value
    an email context can carry is a payload, and none comes out raw."""
    context = {
        name: payload(name)
        for name in (
            "organization_name",
            "student_name",
            "student_email",
            "attending_name",
            "author_name",
            "rotation_title",
            "start",
            "end",
            "new_start",
            "respond_by",
            "note",
            "message",
            "subject",
            "category",
            "reply",
            "text",
            "hours_pending",
            "target_hours",
            "day",
            "weeks",
        )
    }
    context["missing"] = [payload("missing")]
    context["html"] = ""  # allauth's own rendered HTML: see test_allauth_message_*
    html = get_template(f"emails/{template}.html").render(context)
    assert raw_markers_in(html) == []


def test_allauth_message_escapes_its_text_part():
    """allauth ships text-only emails here, so the outbox wraps the text in our layout;
    the text goes through urlize/linebreaks, which escape it."""
    html = get_template("emails/allauth_message.html").render(
        {"text": "Hi " + payload("text"), "html": "", "organization_name": "Demo"}
    )
    assert raw_markers_in(html) == [] and escaped("text") in html


# --- Fields that cannot hold markup ---------------------------------------------------------


def test_fields_that_refuse_markup(demo, client_for):
    """The phone number and the email addresses refuse the payload outright, so no page
    needs a row for them."""
    with scopes_disabled():
        student = factories.StudentFactory(
            organization=demo["org"], verification_status="incomplete", profile=False
        )
    client = client_for(student)
    response = client.post(
        "/profile/",
        {
            **student_profile_form(),
            "phone": payload("phone"),
            "school_contact_email": payload("email"),
            "save": "1",
        },
    )
    assert response.status_code == 200  # the form again, with its errors
    html = response.content.decode()
    assert 'id="id_phone_error"' in html and 'id="id_school_contact_email_error"' in html
    assert raw_markers_in(html) == []
    with scopes_disabled():
        assert StudentProfile.objects.get(membership=student).full_name == ""

    ticket = client.post(
        "/support/new/",
        {
            "category": "email_change",
            "subject": "New email",
            "message": "Please",
            "new_email": payload("new_email"),
        },
    )
    assert ticket.status_code == 200 and 'id="id_new_email_error"' in ticket.content.decode()
    with scopes_disabled():
        assert not SupportTicket.objects.filter(author=student).exists()
