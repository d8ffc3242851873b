"""Browser pages of letters (DESIGN §8). Thin: parse → call one service → render
(STYLE §2); a service's refusal is shown next to the field it names, with its status.

- ``/letters/``: the student's letters (newest first), the letters an attending owes
  (open ones first, soonest ERAS target date first), or every letter of the
  organization for admins; 50 a page.
- ``/letters/request/``: a student asks a past attending (``?attending=<id>`` preselects).
- ``/letters/<id>/``: one letter for its student, its attending and the admins (404 for
  anyone else, another tenant's id too), with the actions each may take. The writer's
  address reaches the student only through ``services.writer_email`` (after release).
- The rotation page's panel and the dashboards' lines.

Pages cost a fixed number of queries, however many letters they show.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Membership
from lor import seasons, services
from lor.forms import DeclineForm, LetterIdForm, LetterRequestForm, fee_words
from lor.listing import in_list_order, visible_letters
from lor.models import OPEN_STATUSES, Letter, LetterStatus
from payments.models import Invoice
from payments.pages import invoices_with_schedule
from rotations.choices import RotationStatus
from rotations.models import Evaluation
from rotations.services import type_title
from usdoctors.errors import DomainError
from usdoctors.views import member_required

PAGE_SIZE = 50
DASHBOARD_ROWS = 5


def described(letters, today=None) -> list[Letter]:
    """Give each letter the words the templates show: rotation title, season, days left."""
    today = today or timezone.localdate()
    letters = list(letters)
    for letter in letters:
        letter.rotation_title = type_title(letter.rotation)
        letter.season_label = seasons.season_label(letter.season)
        letter.days_left = seasons.days_left(letter.target_on, today)
        letter.days_left_words = seasons.days_left_words(letter.target_on, today)
    return letters


# --- The list -------------------------------------------------------------------------------


@member_required()
def letter_list(request):
    membership = request.membership
    letters = in_list_order(visible_letters(membership), membership)
    context = {}
    if membership.is_student:
        context["can_request"] = services.letter_writers(membership).exists()
    page = Paginator(letters, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = described(page.object_list)
    return render(request, "lor/letter_list.html", {**context, "page": page})


# --- Requesting -----------------------------------------------------------------------------


def _preselected(request) -> int | None:
    value = request.GET.get("attending", "")
    return int(value) if value.isdigit() else None


@member_required("student")
def letter_request(request):
    """GET: the form (``?attending=<id>`` preselects). POST: ask through
    ``services.request_letter``; a refusal stays on the form, next to its field."""
    student = request.membership
    today = timezone.localdate()
    writers = services.letter_writers(student)
    data = request.POST if request.method == "POST" else None
    form = LetterRequestForm(
        data,
        student=student,
        writers=writers,
        today=today,
        initial={"attending": _preselected(request)},
    )
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            status = 400
        else:
            cleaned = form.cleaned_data
            try:
                letter = services.request_letter(
                    student,
                    cleaned["attending"],
                    specialty=cleaned["specialty"],
                    season=cleaned["season"],
                    message=cleaned["message"],
                    today=today,
                )
            except DomainError as error:
                form.add_domain_error(error)
                status = error.status_code
            else:
                messages.success(
                    request,
                    f"Your request is on its way to {letter.attending.display_name}. "
                    "We will email you when they answer.",
                )
                return redirect("letter_detail", letter_id=letter.pk)
    chosen = form.chosen_writer()
    return render(
        request,
        "lor/letter_request.html",
        {
            "form": form,
            "writers": form.writers,
            "chosen": chosen,
            "chosen_fee": fee_words(chosen.lor_fee) if chosen else "",
        },
        status=status,
    )


# --- One letter -----------------------------------------------------------------------------

ACTION_FORMS = {"decline": DeclineForm, "letter_id": LetterIdForm}
FORM_SHOWN_WHEN = {"decline": "decide", "letter_id": "attach_id"}  # the ``can`` that shows it


def letter_page(request, letter: Letter, *, bound=None, error: str = "", status: int = 200):
    membership = request.membership
    is_student = membership.pk == letter.student_id
    is_attending = membership.pk == letter.attending.membership_id
    [letter] = described([letter])
    evaluation = None
    if is_attending and letter.is_open:  # the attending decides, then writes, with it
        evaluation = getattr(letter.rotation, "evaluation", None)
    invoices = []
    if letter.invoice_id and (is_student or membership.is_admin):
        invoices = invoices_with_schedule(
            Invoice.objects.filter(pk=letter.invoice_id), timezone.localdate()
        )
    bound = bound or {}
    forms = {
        "decline": bound.get("decline") or DeclineForm(),
        "letter_id": bound.get("letter_id")
        or LetterIdForm(initial={"letter_id": letter.eras_letter_id}),
    }
    can = {
        "decide": is_attending and letter.status == LetterStatus.REQUESTED,
        "mark_uploaded": is_attending and letter.status == LetterStatus.ACCEPTED,
        "attach_id": is_student and letter.status == LetterStatus.ACCEPTED,
    }
    for action, shown_when in FORM_SHOWN_WHEN.items():
        form = bound.get(action)
        if form is not None and form.errors and not can[shown_when]:
            # A refusal on a form this member does not see goes to the top of the page.
            error = error or " ".join(
                message for errors in form.errors.values() for message in errors
            )
    context = {
        "letter": letter,
        "is_student": is_student,
        "is_attending": is_attending,
        # Always through the service: None for the student before release (§8).
        "writer_email": services.writer_email(letter, membership),
        "fee_due": letter.fee > 0 and not letter.is_released,
        "invoices": invoices,
        "evaluation": evaluation,
        "ratings": [(label, getattr(evaluation, name)) for name, label in Evaluation.COMPETENCIES]
        if evaluation
        else [],
        "can": can,
        "forms": forms,
        "action_error": error,
    }
    return render(request, "lor/letter_detail.html", context, status=status)


def visible_letter(request, letter_id: int) -> Letter:
    """A letter this member may see; any other id (another tenant's too) is a 404."""
    return get_object_or_404(visible_letters(request.membership), pk=letter_id)


@member_required()
def letter_detail(request, letter_id: int):
    return letter_page(request, visible_letter(request, letter_id))


def act(request, letter_id: int, action: str, run, success):
    """One POST action on a letter: parse its form (if any), call the service, then
    redirect back with the ``success`` message (a callable of the updated letter), or
    show the refusal on the letter's page with its status."""
    letter = visible_letter(request, letter_id)
    form = ACTION_FORMS[action](request.POST) if action in ACTION_FORMS else None
    if form is not None and not form.is_valid():
        return letter_page(request, letter, bound={action: form}, status=400)
    try:
        updated = run(letter, request.membership, form.cleaned_data if form else {})
    except DomainError as error:
        top = error.message
        if form is not None and error.field in form.fields:
            form.add_error(error.field, error.message)
            top = ""
        return letter_page(
            request, letter, bound={action: form}, error=top, status=error.status_code
        )
    messages.success(request, success(updated))
    return redirect("letter_detail", letter_id=letter.pk)


def _accepted_words(letter: Letter) -> str:
    student = letter.student.display_name
    if letter.fee > 0:
        return (
            f"Accepted. {student} is invoiced your ${letter.fee:,.2f} fee and gets your "
            "address for MyERAS once it is paid."
        )
    return (
        f"Accepted. We emailed {student} your address for MyERAS; their ERAS Letter ID "
        "will appear here."
    )


@require_POST
@member_required()
def letter_accept(request, letter_id: int):
    return act(
        request,
        letter_id,
        "accept",
        lambda letter, by, data: services.accept_letter(letter, by=by),
        _accepted_words,
    )


@require_POST
@member_required()
def letter_decline(request, letter_id: int):
    return act(
        request,
        letter_id,
        "decline",
        lambda letter, by, data: services.decline_letter(letter, by=by, reason=data["reason"]),
        lambda letter: f"Declined. We told {letter.student.display_name}.",
    )


@require_POST
@member_required()
def letter_attach_id(request, letter_id: int):
    return act(
        request,
        letter_id,
        "letter_id",
        lambda letter, by, data: services.attach_letter_id(
            letter, by=by, letter_id=data["letter_id"]
        ),
        lambda letter: (
            f"Letter ID {letter.eras_letter_id} saved. We sent it to "
            f"{letter.attending.display_name}."
        ),
    )


@require_POST
@member_required()
def letter_mark_uploaded(request, letter_id: int):
    return act(
        request,
        letter_id,
        "uploaded",
        lambda letter, by, data: services.mark_uploaded(letter, by=by),
        lambda letter: (
            f"Marked uploaded. We told {letter.student.display_name}; the reminders stop."
        ),
    )


# --- The rotation page and the dashboards ---------------------------------------------------


def rotation_letters_panel(request, rotation):
    """A completed rotation's page, for its student: whether the attending writes
    letters and for what fee, and the letters already asked of them (one query)."""
    membership = request.membership
    if rotation.status != RotationStatus.COMPLETED or membership.pk != rotation.student_id:
        return None
    attending = rotation.attending
    letters = described(
        Letter.objects.filter(student=membership, attending=attending)
        .select_related("rotation")
        .order_by("-requested_at", "-pk")[:DASHBOARD_ROWS]
    )
    open_letter = next((letter for letter in letters if letter.is_open), None)
    return (
        "lor/_rotation_panel.html",
        {
            "rotation": rotation,
            "attending": attending,
            "letters": letters,
            "open_letter": open_letter,
            "fee_words": fee_words(attending.lor_fee),
        },
    )


def dashboard_letters(membership: Membership) -> dict:
    """What the dashboards show about letters: the student's open letters (and whether
    they may ask one), the letters an attending owes (soonest target first), the
    organization's open count for admins. A fixed number of queries."""
    letters = visible_letters(membership)
    if membership.is_student:
        open_letters = letters.filter(status__in=OPEN_STATUSES).order_by("target_on", "-pk")
        return {
            "open_letters": described(open_letters[:DASHBOARD_ROWS]),
            "open_letters_count": open_letters.count(),
            "can_request_letter": services.letter_writers(membership).exists(),
        }
    if membership.is_attending:
        owed = letters.filter(status__in=OPEN_STATUSES).order_by("target_on", "requested_at", "pk")
        return {
            "letters_owed": described(owed[:DASHBOARD_ROWS]),
            "letters_owed_count": owed.count(),
        }
    if membership.is_admin:
        return {"open_letters_count": letters.filter(status__in=OPEN_STATUSES).count()}
    return {}
