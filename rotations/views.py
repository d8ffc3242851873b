"""Browser pages for attendings and rotations (DESIGN §4, §5): the attending's profile
and availability, the request form, the rotation list and the rotation page with its
actions and message thread.

Thin: parse → one service call → render (STYLE §2). A DomainError is shown next to the
field it names, else at the top of the page, with its status code; ``NotAllowed`` on a
rotation the member can see is a 403 page, a rotation they cannot see is a 404.
"""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, F, When
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Membership
from accounts.privacy import can_view_student
from accounts.services import require_verified_student
from rotations import (
    availability,
    cancellations,
    date_changes,
    messaging,
    panels,
    reveal,
    search,
    search_views,
    services,
)
from rotations.choices import (
    ACTIVE_STATUSES,
    BOOKED_STATUSES,
    TYPES_FOR_KIND,
    DateChangeStatus,
    RotationStatus,
)
from rotations.forms import (
    AttendingProfileForm,
    CancelForm,
    DateChangeForm,
    EvaluationForm,
    MessageForm,
    PostponeForm,
    PublishWeeksForm,
    ReasonForm,
    RequestPrefillForm,
    RotationRequestForm,
    StatusFilterForm,
)
from rotations.models import AttendingProfile, AvailabilityWeek, DateChange, Evaluation, Rotation
from usdoctors.dates import deadline_text
from usdoctors.errors import DomainError, NotAllowed
from usdoctors.views import member_required

PAGE_SIZE = 50
# A refusal's field may be named for the service's argument rather than the form's.
FIELD_ALIASES = {"start": "new_start"}


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def place_error(form, error: DomainError) -> str:
    """Put ``error`` next to its field when the form has it; else return the message for
    the top of the page."""
    field = error.field if error.field in form.fields else FIELD_ALIASES.get(error.field)
    if field in form.fields:
        form.add_error(field, error.message)
        return ""
    return error.message


def titled(rotations) -> list[Rotation]:
    """Give each rotation a ``title`` ("Clerkship") for the templates."""
    rotations = list(rotations)
    for rotation in rotations:
        rotation.title = services.type_title(rotation)
    return rotations


def with_end(week: AvailabilityWeek) -> AvailabilityWeek:
    week.week_end = week.week_start + timedelta(days=6)
    return week


# --- The attending's own profile and availability (§4) ---------------------------------


@member_required("attending")
def attending_profile(request):
    membership = request.membership
    instance = getattr(membership, "attending_profile", None)
    creating = instance is None
    if creating:
        instance = AttendingProfile(
            organization=request.organization,
            membership=membership,
            display_name=membership.user.get_full_name(),
        )
    form = AttendingProfileForm(request.POST or None, instance=instance)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            if creating:
                messages.success(
                    request,
                    "Your attending profile is saved. Next, publish the weeks you can host "
                    "students: they can only request weeks you have published.",
                )
                return redirect("availability")
            messages.success(request, "Your attending profile is saved.")
            return redirect("attending_profile")
    return render(
        request,
        "rotations/attending_profile.html",
        {"form": form, "profile": None if creating else instance},
        status=400 if form.errors else 200,
    )


def _availability_page(request, attending, form, *, status=200, preview=None, stale=False):
    weeks = [
        with_end(week)
        for week in AvailabilityWeek.objects.filter(
            attending=attending, week_start__gte=services.this_monday()
        )
    ]
    return render(
        request,
        "rotations/availability.html",
        {
            "attending": attending,
            "form": form,
            "weeks": weeks,
            "preview": preview,
            "preview_stale": stale,
        },
        status=status,
    )


@member_required("attending")
def availability_page(request):
    """Publish a range of weeks (§4). When published weeks would get a new capacity the
    answer is the preview of those changes with a confirm button (the service refuses to
    write them unconfirmed); confirming posts the same range with the preview's
    confirmation."""
    try:
        attending = availability.attending_profile_of(request.membership)
    except DomainError as error:
        return render(request, "rotations/availability.html", {"no_profile": error.message})
    first = services.next_monday()
    form = PublishWeeksForm(
        request.POST or None, initial={"first_week": first, "last_week": first + timedelta(weeks=7)}
    )
    if request.method != "POST":
        return _availability_page(request, attending, form)
    if not form.is_valid():
        return _availability_page(request, attending, form, status=400)
    data = form.cleaned_data
    try:
        weeks = availability.publish_weeks(
            attending,
            first_week=data["first_week"],
            last_week=data["last_week"],
            capacity=data["capacity"],
            confirmed=data["confirmed"],
        )
    except availability.CapacityChangeUnconfirmed as unconfirmed:
        # The first time this is the preview step (200); a confirmation that no longer
        # matches the weeks is a conflict, answered with the new preview.
        stale = bool(data["confirmed"])
        return _availability_page(
            request,
            attending,
            form,
            preview=unconfirmed.plan,
            stale=stale,
            status=unconfirmed.status_code if stale else 200,
        )
    except DomainError as error:
        if top := place_error(form, error):
            form.add_error(None, top)
        return _availability_page(request, attending, form, status=error.status_code)
    messages.success(
        request,
        f"Published {len(weeks)} week{'s' if len(weeks) != 1 else ''} from "
        f"{services.long_date(weeks[0].week_start)} to {services.long_date(weeks[-1].week_start)}, "
        f"{data['capacity']} student{'s' if data['capacity'] != 1 else ''} at once.",
    )
    return redirect("availability")


@require_POST
@member_required("attending")
def availability_remove(request, week_id: int):
    """Remove an unbooked week. With htmx the answer is the week's new table row."""
    week = get_object_or_404(
        AvailabilityWeek.objects.select_related("attending"),
        pk=week_id,
        attending__membership=request.membership,
    )
    with_end(week)
    try:
        availability.remove_week(week, by=request.membership)
    except DomainError as error:
        if is_htmx(request):
            return render(request, "rotations/_week_row.html", {"week": week, "error": error})
        messages.error(request, error.message)
        return _availability_page(
            request, week.attending, PublishWeeksForm(), status=error.status_code
        )
    removed = f"Removed the week of {services.long_date(week.week_start)}."
    if is_htmx(request):
        return render(request, "rotations/_week_row.html", {"week": week, "removed": removed})
    messages.success(request, removed)
    return redirect("availability")


# --- Requesting a rotation (§5) ----------------------------------------------------------


def request_form_context(
    membership: Membership | None, attending: AttendingProfile, data=None, initial=None
):
    """What ``rotations/_request_form.html`` needs: the form for a verified student, or
    why there is none. The attending detail view adds this to its context; ``initial``
    fills the start and weeks a link carried (``RequestPrefillForm``)."""
    context = {"attending": attending, "request_form": None, "request_blocked": ""}
    if membership is None:
        context["request_blocked"] = "Log in as a verified student to request a rotation."
        return context
    try:
        require_verified_student(membership)
    except DomainError as error:
        context["request_blocked"] = (
            "Only students can request rotations."
            if error.code == "not_a_student"
            else error.message
        )
        context["request_blocked_code"] = error.code
        return context
    form = RotationRequestForm(data, attending=attending, student=membership, initial=initial)
    if not form.offers_something:
        kind = membership.profile.kind
        allowed = ", ".join(
            sorted(t.label.split(" (")[0].lower() for t in TYPES_FOR_KIND.get(kind, ()))
        )
        context["request_blocked"] = (
            f"{attending.display_name} offers no rotation type you can take "
            f"({allowed}). Search for another attending."
        )
        return context
    context["request_form"] = form
    return context


@member_required()
def rotation_request(request, attending_id: int):
    """GET: the attending's page with the request form, its start and weeks filled from
    the link (a week clicked in the calendar, a search result). POST: send the request;
    a refusal shows the form again with each error next to its field (the form posts to
    ``#request-form``, so the browser lands on the form, not the top of the page)."""
    attending = get_object_or_404(
        search.public_attendings(request.organization).select_related("membership__user"),
        pk=attending_id,
    )
    data = request.POST if request.method == "POST" else None
    initial = RequestPrefillForm.initial_from(request.GET) if data is None else None
    context = {
        **search_views.attending_detail_context(request, attending),
        **request_form_context(request.membership, attending, data, initial),
        "chosen_start": (initial or {}).get("start"),
    }
    form = context["request_form"]
    status = 200
    if request.method == "POST":
        if form is None:
            status = 403
        elif not form.is_valid():
            status = 400
        else:
            try:
                rotation = services.request_rotation(
                    request.membership, attending=attending, **form.cleaned_data
                )
            except DomainError as error:
                if top := place_error(form, error):
                    form.add_error(None, top)
                status = error.status_code
            else:
                messages.success(
                    request,
                    f"Your request is on its way to {attending.display_name}. They have until "
                    f"{deadline_text(rotation.respond_by, weekday=True)} to answer; we will "
                    "email you either way.",
                )
                # The page opens on what happens next (and a fragment is needed anyway:
                # the browser would keep the form's #request-form across the redirect).
                return redirect(reverse("rotation_detail", args=[rotation.pk]) + "#next-step")
    return render(request, "rotations/attending_detail_request.html", context, status=status)


# --- Lists and dashboards ----------------------------------------------------------------


@member_required()
def rotation_list(request):
    """Students see theirs, attendings the requests to them (waiting ones first, most
    urgent first), admins all; filter by status; 50 a page."""
    membership = request.membership
    rotations = services.visible_rotations(membership)
    filter_form = StatusFilterForm(request.GET)
    status = filter_form.cleaned_data["status"] if filter_form.is_valid() else ""
    if status:
        rotations = rotations.filter(status=status)
    if membership.is_attending:
        # Waiting requests first, the soonest deadline first; the rest by start.
        waiting_deadline = Case(When(status=RotationStatus.REQUESTED, then=F("respond_by")))
        rotations = rotations.order_by(waiting_deadline.asc(nulls_last=True), "-start", "-pk")
    page = Paginator(rotations, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = titled(page.object_list)
    return render(
        request,
        "rotations/rotation_list.html",
        {
            "page": page,
            "filter_form": filter_form,
            "status": status,
            "status_label": RotationStatus(status).label if status else "",
        },
    )


DASHBOARD_LIST = 20


def dashboard_rotations(membership: Membership) -> dict:
    """What the student and attending dashboards show about rotations.

    An attending sees everything waiting for their action side by side: requests to
    answer (soonest deadline first), students' proposed date changes (oldest first) and
    rotations that ended and wait to be marked completed; then upcoming rotations. The
    same number of queries however many there are (each list is capped, with a count)."""
    rotations = services.visible_rotations(membership)
    if membership.is_student:
        return {
            "rotations": titled(rotations.filter(status__in=ACTIVE_STATUSES).order_by("start")[:10])
        }
    if membership.is_attending:
        profile = getattr(membership, "attending_profile", None)
        waiting = rotations.filter(status=RotationStatus.REQUESTED).order_by("respond_by")
        changes = (
            DateChange.objects.filter(
                rotation__attending__membership=membership, status=DateChangeStatus.PROPOSED
            )
            .select_related("rotation__student__user", "rotation__student__profile")
            .order_by("created_at", "pk")
        )
        changes_shown = list(changes[:DASHBOARD_LIST])
        for change in changes_shown:
            change.rotation.title = services.type_title(change.rotation)
        in_progress = titled(
            rotations.filter(status=RotationStatus.IN_PROGRESS).order_by("start")[:DASHBOARD_LIST]
        )
        today = services.today()
        return {
            "attending_profile": profile,
            "waiting": titled(waiting[:DASHBOARD_LIST]),
            "waiting_count": waiting.count(),
            "date_changes": changes_shown,
            "date_changes_count": changes.count(),
            "to_complete": [rotation for rotation in in_progress if rotation.end < today],
            "upcoming": titled(rotations.filter(status__in=BOOKED_STATUSES).order_by("start")[:10]),
            "published_weeks": (
                AvailabilityWeek.objects.filter(
                    attending=profile, week_start__gte=services.this_monday()
                ).count()
                if profile
                else 0
            ),
        }
    return {}


# --- One rotation ------------------------------------------------------------------------

ACTION_FORMS = {
    "decline": ReasonForm,
    "cancel": CancelForm,
    "attending_cancel": CancelForm,
    "no_show": CancelForm,
    "propose": DateChangeForm,
    "decline_change": ReasonForm,
    "postpone": PostponeForm,
    "complete": EvaluationForm,
    "message": MessageForm,
}
MOVABLE = date_changes.MOVABLE


def action_form(action: str, data=None):
    return ACTION_FORMS[action](data, prefix=action.replace("_", "-"))


def visible_rotation(request, rotation_id: int) -> Rotation:
    """A rotation this member may see; any other id (another tenant's too) is a 404."""
    return get_object_or_404(services.visible_rotations(request.membership), pk=rotation_id)


def allowed_actions(membership: Membership, rotation: Rotation, open_change) -> dict:
    """Which buttons this member sees. The services decide again on every POST."""
    status = rotation.status
    is_student = rotation.student_id == membership.pk
    is_attending = rotation.attending.membership_id == membership.pk
    return {
        "approve": is_attending and status == RotationStatus.REQUESTED,
        "decline": is_attending and status == RotationStatus.REQUESTED,
        "withdraw": is_student and status == RotationStatus.REQUESTED,
        "cancel": (is_student or membership.is_admin) and status in MOVABLE,
        # Refund protection (§15): the attending's own cancellation, an admin's no-show.
        "attending_cancel": is_attending and status in cancellations.BEFORE_START,
        "no_show": membership.is_admin and cancellations.can_record_no_show(rotation),
        "propose": is_student and status in MOVABLE and open_change is None,
        "answer_change": is_attending and open_change is not None,
        "postpone": membership.is_admin and status in MOVABLE,
        "complete": is_attending and status == RotationStatus.IN_PROGRESS,
        "message": messaging.is_participant(membership, rotation)
        and status in messaging.OPEN_STATUSES,
    }


def rotation_page(request, rotation: Rotation, *, bound=None, error: str = "", status=200):
    membership = request.membership
    open_change = (
        rotation.date_changes.filter(status=DateChangeStatus.PROPOSED)
        .select_related("proposed_by__user")
        .first()
    )
    can_read_thread = messaging.can_read(membership, rotation)
    evaluation = (
        getattr(rotation, "evaluation", None)
        if rotation.status == RotationStatus.COMPLETED
        else None
    )
    # Double-blind (§15): the student reads the evaluation once it is revealed.
    evaluation_sealed = evaluation is not None and not reveal.evaluation_visible_to(
        membership, rotation
    )
    if evaluation_sealed:
        evaluation = None
    experience = services.experience_entry(rotation)
    if experience and evaluation_sealed:
        experience["activities"] = ""
    rotation.title = services.type_title(rotation)
    context = {
        "rotation": rotation,
        "is_student": rotation.student_id == membership.pk,
        "is_attending": rotation.attending.membership_id == membership.pk,
        "can": allowed_actions(membership, rotation, open_change),
        "forms": {
            action: (bound or {}).get(action) or action_form(action) for action in ACTION_FORMS
        },
        "action_error": error,
        "open_change": open_change,
        "ended": services.today() > rotation.end,
        "events": rotation.events.select_related("by__user", "by__profile"),
        "can_read_thread": can_read_thread,
        "thread": (
            rotation.messages.select_related("author__user", "author__profile")
            if can_read_thread
            else []
        ),
        "thread_open": rotation.status in messaging.OPEN_STATUSES,
        "evaluation": evaluation,
        "evaluation_sealed": evaluation_sealed,
        "ratings": [(label, getattr(evaluation, name)) for name, label in Evaluation.COMPETENCIES]
        if evaluation
        else [],
        "experience": experience,
        "show_student_profile": can_view_student(membership, rotation.student),
        # The window the request was given (§2's setting when it was sent), for its next step.
        "response_days": max((rotation.respond_by - rotation.requested_at).days, 1),
        "panels": panels.render_panels(request, rotation),
    }
    return render(request, "rotations/rotation_detail.html", context, status=status)


@member_required()
def rotation_detail(request, rotation_id: int):
    return rotation_page(request, visible_rotation(request, rotation_id))


def act(request, rotation_id: int, action: str, run, success: str):
    """One POST action on a rotation: parse its form (if any), call the service, then
    redirect back with ``success`` or show the refusal on the rotation page."""
    rotation = visible_rotation(request, rotation_id)
    form = action_form(action, request.POST) if action in ACTION_FORMS else None
    if form is not None and not form.is_valid():
        return rotation_page(request, rotation, bound={action: form}, status=400)
    try:
        run(rotation, request.membership, form.cleaned_data if form else {})
    except NotAllowed as error:
        raise PermissionDenied(error.message) from error
    except DomainError as error:
        top = place_error(form, error) if form is not None else error.message
        return rotation_page(
            request, rotation, bound={action: form}, error=top, status=error.status_code
        )
    messages.success(request, success)
    return redirect("rotation_detail", rotation_id=rotation.pk)


def open_change_or_404(rotation_id: int, change_id: int) -> DateChange:
    return get_object_or_404(DateChange, pk=change_id, rotation_id=rotation_id)


@require_POST
@member_required()
def rotation_approve(request, rotation_id: int):
    return act(
        request,
        rotation_id,
        "approve",
        lambda rotation, by, data: services.approve_rotation(rotation, by=by),
        "Approved. We emailed the student; your messages stay here on the rotation page.",
    )


@require_POST
@member_required()
def rotation_decline(request, rotation_id: int):
    return act(
        request,
        rotation_id,
        "decline",
        lambda rotation, by, data: services.decline_rotation(
            rotation, by=by, reason=data["reason"]
        ),
        "Declined. We emailed the student.",
    )


@require_POST
@member_required()
def rotation_withdraw(request, rotation_id: int):
    return act(
        request,
        rotation_id,
        "withdraw",
        lambda rotation, by, data: services.withdraw_rotation(rotation, by=by),
        "Your request is withdrawn. We told the attending.",
    )


@require_POST
@member_required()
def rotation_cancel(request, rotation_id: int):
    return act(
        request,
        rotation_id,
        "cancel",
        lambda rotation, by, data: services.cancel_rotation(rotation, by=by, reason=data["reason"]),
        "The rotation is cancelled and its weeks are free again. What was paid follows "
        "the cancellation schedule: the rotation page shows what comes back, how and when.",
    )


@require_POST
@member_required()
def rotation_attending_cancel(request, rotation_id: int):
    return act(
        request,
        rotation_id,
        "attending_cancel",
        lambda rotation, by, data: cancellations.cancel_by_attending(
            rotation, by=by, reason=data["reason"]
        ),
        "The rotation is cancelled and its weeks are free again. The student gets back "
        "everything they paid, card fees included.",
    )


@require_POST
@member_required("admin")
def rotation_no_show(request, rotation_id: int):
    return act(
        request,
        rotation_id,
        "no_show",
        lambda rotation, by, data: cancellations.record_no_show(
            rotation, by=by, note=data["reason"]
        ),
        "No-show recorded: the rotation is cancelled and everything the student paid is "
        "being refunded.",
    )


@require_POST
@member_required()
def rotation_complete(request, rotation_id: int):
    return act(
        request,
        rotation_id,
        "complete",
        lambda rotation, by, data: services.complete_rotation(
            rotation,
            by=by,
            ratings={name: data[name] for name, _label in Evaluation.COMPETENCIES},
            comments=data["comments"],
            activities=data["activities"],
        ),
        "Marked completed. The student sees your evaluation with their review of the "
        "rotation, or in 14 days.",
    )


@require_POST
@member_required()
def rotation_propose_date(request, rotation_id: int):
    return act(
        request,
        rotation_id,
        "propose",
        lambda rotation, by, data: date_changes.propose_date_change(
            rotation, by=by, new_start=data["new_start"], reason=data["reason"]
        ),
        "Your new start date is proposed. We emailed the attending and will tell you their answer.",
    )


@require_POST
@member_required()
def rotation_accept_date(request, rotation_id: int, change_id: int):
    change = open_change_or_404(rotation_id, change_id)
    return act(
        request,
        rotation_id,
        "accept_change",
        lambda rotation, by, data: date_changes.accept_date_change(change, by=by),
        f"Accepted: the rotation now starts {services.long_date(change.proposed_start)}. "
        "We emailed the student.",
    )


@require_POST
@member_required()
def rotation_decline_date(request, rotation_id: int, change_id: int):
    change = open_change_or_404(rotation_id, change_id)
    return act(
        request,
        rotation_id,
        "decline_change",
        lambda rotation, by, data: date_changes.decline_date_change(
            change, by=by, reason=data["reason"]
        ),
        "You declined the new date; the rotation keeps its dates. We emailed the student.",
    )


@require_POST
@member_required("admin")
def rotation_postpone(request, rotation_id: int):
    return act(
        request,
        rotation_id,
        "postpone",
        lambda rotation, by, data: date_changes.postpone_rotation(
            rotation, by=by, new_start=data["new_start"], reason=data["reason"]
        ),
        "Postponed. We emailed the student and the attending.",
    )


@require_POST
@member_required()
def rotation_message(request, rotation_id: int):
    """Post to the thread. With htmx the answer is the new message (appended to the list)
    or the form with its error; without, a redirect back or the page with the error."""
    rotation = visible_rotation(request, rotation_id)
    form = action_form("message", request.POST)
    error = ""
    status = 400
    if form.is_valid():
        try:
            post = messaging.post_message(
                rotation, author=request.membership, body=form.cleaned_data["body"]
            )
        except NotAllowed as refusal:
            raise PermissionDenied(refusal.message) from refusal
        except DomainError as refusal:
            error = place_error(form, refusal)
            status = refusal.status_code
        else:
            if is_htmx(request):
                return render(
                    request,
                    "rotations/_message_posted.html",
                    {"post": post, "rotation": rotation, "form": action_form("message")},
                )
            messages.success(request, "Message sent.")
            return redirect(reverse("rotation_detail", args=[rotation.pk]) + "#messages")
    if is_htmx(request):
        if error:
            form.add_error(None, error)
        response = render(
            request, "rotations/_message_form.html", {"form": form, "rotation": rotation}
        )
        # htmx swaps 2xx answers only: send the form back in place of the form.
        response["HX-Retarget"] = "#message-form"
        response["HX-Reswap"] = "outerHTML"
        return response
    return rotation_page(request, rotation, bound={"message": form}, error=error, status=status)
