"""Rotation rules: request, decide, withdraw, cancel, start, complete (DESIGN §5).

Capacity is taken at approval, never at request: approval locks the affected weeks
(rotations.locks, date order) and checks each inside one transaction, so concurrent
approvals can never book a week beyond its capacity; the losers get 409 naming the week.

Every transition announces itself through ``rotations.lifecycle`` inside its transaction
(STYLE §7): payments, documents and letters act on it there, and rotations imports none
of them.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_scopes import scope

from accounts.models import Membership
from accounts.services import require_verified_student
from notifications.services import notify
from rotations import lifecycle
from rotations.choices import (
    ACTIVE_STATUSES,
    TYPES_FOR_KIND,
    CancellationCause,
    Payer,
    PaymentMethod,
    Plan,
    RotationStatus,
    RotationType,
)
from rotations.eligibility import require_eligible
from rotations.free_weeks import keep_free_weeks
from rotations.housing import housing_partners_for
from rotations.locks import lock_rotation, lock_weeks
from rotations.models import (
    MAX_WEEKS,
    AttendingProfile,
    AvailabilityWeek,
    Evaluation,
    Rotation,
    RotationEvent,
    week_starts,
)
from rotations.requirements import requirements_for
from usdoctors.dates import (  # noqa: F401 (callers use next_monday, this_monday, today here)
    deadline_text,
    next_monday,
    this_monday,
    today,
)
from usdoctors.errors import Conflict, Invalid, NotAllowed
from usdoctors.links import organization_url


def long_date(day: date) -> str:
    """``Monday January 4, 2027``: how dates read in messages."""
    return f"{day:%A %B} {day.day}, {day.year}"


def type_title(rotation: Rotation) -> str:
    """``Clerkship``, without the eligibility note of the choice label."""
    return rotation.get_rotation_type_display().split(" (")[0]


# --- Who may see what ---------------------------------------------------------------


def attending_shares_active_rotation(attending: Membership, student: Membership) -> bool:
    """Privacy (§3): an attending sees a student's profile while they share an
    approved or in-progress rotation."""
    with scope(organization=student.organization_id):  # callable from any context
        return Rotation.objects.filter(
            attending__membership=attending,
            student=student,
            status__in=(RotationStatus.APPROVED, RotationStatus.IN_PROGRESS),
        ).exists()


def attending_has_waiting_request_from(attending: Membership, student: Membership) -> bool:
    """Privacy (§3's narrow addition): the requested attending sees the student's profile
    and CV while the request is ``requested``, to decide knowing who asks; a decline,
    withdrawal or expiry ends it. Documents keep their own stricter rule
    (documents.access): never the requested attending."""
    with scope(organization=student.organization_id):  # callable from any context
        return Rotation.objects.filter(
            attending__membership=attending, student=student, status=RotationStatus.REQUESTED
        ).exists()


def visible_rotations(membership: Membership):
    """Students see theirs, attendings the ones requested of them, admins all."""
    rotations = Rotation.objects.select_related(
        "student__user", "student__profile", "attending__membership__user"
    )
    if membership.is_admin:
        return rotations
    if membership.is_attending:
        return rotations.filter(attending__membership=membership)
    return rotations.filter(student=membership)


# --- Requests -----------------------------------------------------------------------


def check_weeks_free(
    attending: AttendingProfile, starts: list[date], *, ignoring: Rotation | None = None
) -> None:
    """Each week must be published with a free place (``ignoring`` a rotation's own seat)."""
    weeks = {
        week.week_start: week
        for week in AvailabilityWeek.objects.filter(attending=attending, week_start__in=starts)
    }
    own = set(ignoring.week_starts) if ignoring else set()
    for start in starts:
        require_free_place(attending, start, weeks.get(start), own_place=start in own)


def require_free_place(
    attending: AttendingProfile,
    start: date,
    week: AvailabilityWeek | None,
    *,
    own_place: bool = False,
    unpublished: str = "does not host",
) -> None:
    """409 unless ``week`` is published with a place free (not counting ``own_place``)."""
    if week is None:
        raise Conflict(
            f"{attending.display_name} {unpublished} students the week of {long_date(start)}.",
            code="week_unavailable",
        )
    if week.booked - own_place >= week.capacity:
        raise Conflict(
            f"The week of {long_date(start)} is full "
            f"({week.booked} of {week.capacity} places taken).",
            code="week_full",
        )


def check_no_overlap(student: Membership, start: date, weeks: int, *, ignoring=None) -> None:
    """A student holds at most one active rotation over any week."""
    end = start + timedelta(weeks=weeks, days=-1)
    candidates = Rotation.objects.filter(
        student=student,
        status__in=ACTIVE_STATUSES,
        start__lte=end,
        start__gt=start - timedelta(weeks=MAX_WEEKS),
    ).select_related("attending")
    for other in candidates:
        if other.pk != getattr(ignoring, "pk", None) and other.end >= start:
            status = other.get_status_display().lower()
            article = "an" if status[0] in "aeiou" else "a"  # an approved, an in progress
            raise Conflict(
                f"You already have {article} {status} rotation with "
                f"{other.attending.display_name} from {other.start:%b} {other.start.day} "
                f"to {other.end:%b} {other.end.day}, {other.end.year}, overlapping these weeks.",
                code="overlapping_rotation",
            )


def check_weeks(attending: AttendingProfile, weeks: int) -> int:
    """1 to 12 weeks and at least the attending's minimum (§5), else 400 on ``weeks``."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise Invalid(
            f"A rotation lasts 1 to {MAX_WEEKS} weeks.", code="weeks_out_of_range", field="weeks"
        )
    if weeks < attending.minimum_weeks:
        raise Invalid(
            f"{attending.display_name} takes students for at least {attending.minimum_weeks} "
            "weeks.",
            code="below_minimum_weeks",
            field="weeks",
        )
    return weeks


def check_start(start: date, *, field: str = "start") -> None:
    """Rotations start on a Monday after today."""
    if start.weekday() != 0:
        raise Invalid(
            f"{long_date(start)} is not a Monday; rotations start on Mondays.",
            code="start_not_monday",
            field=field,
        )
    if start <= today():
        raise Invalid("Choose a start date in the future.", code="start_in_past", field=field)


@transaction.atomic
def request_rotation(
    student: Membership,
    *,
    attending: AttendingProfile,
    rotation_type: str,
    mode: str,
    start: date,
    weeks: int,
    payer: str = Payer.SELF,
    plan: str = Plan.FULL,
    payment_method: str = PaymentMethod.PAYPAL,
    message: str = "",
    confirmed_total: Decimal | None = None,
) -> Rotation:
    """A verified student asks an attending for ``weeks`` weeks from Monday ``start``.

    Refused when the student is not verified (403), the type is not allowed for the
    student's kind (403), the type or mode is not offered (400), the start is not a future
    Monday (400), the length is outside 1–12 or below the attending's minimum (400), the
    student does not meet the requirements for a rotation starting then (403
    ``not_eligible`` listing every unmet item, rotations.eligibility), a week is not free
    (409) or the student already has an active rotation overlapping those weeks (409).
    Capacity is not taken yet.

    The rotation is announced ``requested`` inside this transaction; a subscriber's
    refusal rolls the request back. That is how the plan rule (§6, 400 when the plan is
    not allowed) refuses it: payments owns plans (``payments.plans``).

    The attending's weekly rate and the type's non-refundable application fee (§6, §13:
    ``rotations.requirements.requirements_for``) are copied onto the rotation, so what
    the student is invoiced is what applied when they asked.

    ``confirmed_total`` is what the student agreed to pay (fees included) after seeing
    the price summary; it is stored on the rotation, and payments refuses the request
    (409) when today's price no longer matches it.
    """
    require_verified_student(student)
    kind = student.profile.kind
    if rotation_type not in RotationType.values:
        raise Invalid("Choose a rotation type.", code="type_invalid", field="rotation_type")
    label = RotationType(rotation_type).label.split(" (")[0]
    if rotation_type not in TYPES_FOR_KIND.get(kind, ()):
        who = "graduates (IMG)" if kind == "img" else "current students (IMS)"
        raise NotAllowed(
            f"{label} rotations are not open to {who}.", code="type_not_allowed_for_kind"
        )
    if rotation_type not in attending.rotation_types:
        raise Invalid(
            f"{attending.display_name} does not offer {label.lower()} rotations.",
            code="type_not_offered",
            field="rotation_type",
        )
    if mode not in attending.modes:
        raise Invalid(
            f"{attending.display_name} does not offer this mode ({mode.replace('_', '-')}).",
            code="mode_not_offered",
            field="mode",
        )
    check_start(start)
    check_weeks(attending, weeks)
    # §13: every unmet requirement at once, before anything is written (403 not_eligible).
    require_eligible(student, attending, rotation_type, on=start)
    check_weeks_free(attending, week_starts(start, weeks))
    check_no_overlap(student, start, weeks)

    now = timezone.now()
    rotation = Rotation.objects.create(
        organization=student.organization,
        student=student,
        attending=attending,
        rotation_type=rotation_type,
        mode=mode,
        start=start,
        weeks=weeks,
        payer=payer,
        plan=plan,
        payment_method=payment_method,
        message=message.strip(),
        weekly_rate=attending.weekly_rate,
        # Fixed now, like the rate: a later change of the requirement changes no request.
        application_fee=requirements_for(attending, rotation_type).application_fee,
        confirmed_total=confirmed_total,
        requested_at=now,
        respond_by=now + timedelta(days=student.organization.attending_response_days),
    )
    record(rotation, RotationStatus.REQUESTED, by=student)
    lifecycle.announce("requested", rotation, by=student)
    context = rotation_context(rotation)
    notify(
        rotation.organization,
        attending.membership.user.email,
        "rotation_requested",
        context,
        dedupe_key=f"rotation-requested:{rotation.pk}",
    )
    notify(
        rotation.organization,
        student.user.email,
        "rotation_request_sent",
        context,
        dedupe_key=f"rotation-request-sent:{rotation.pk}",
    )
    return rotation


# --- Decisions ----------------------------------------------------------------------


def _require_attending_of(rotation: Rotation, by: Membership) -> None:
    if rotation.attending.membership_id != by.pk:
        raise NotAllowed("Only the rotation's attending can do this.", code="not_the_attending")


def _require_status(rotation: Rotation, *allowed: str, action: str) -> None:
    if rotation.status not in allowed:
        status = rotation.get_status_display().lower()
        message = (
            f"This rotation is already {status}."
            if status == action
            else f"This rotation is {status}; it cannot be {action}."
        )
        raise Conflict(message, code="wrong_status")


@transaction.atomic
def approve_rotation(rotation: Rotation, *, by: Membership) -> Rotation:
    """Approve a request within the response window (§5). The weeks are locked in date
    order and each must have a free place, else 409 names the first full week."""
    _require_attending_of(rotation, by)
    _refuse_if_already_full(rotation)
    weeks = lock_weeks(rotation.attending, rotation.week_starts)
    rotation = lock_rotation(rotation)
    _require_status(rotation, RotationStatus.REQUESTED, action="approved")
    if timezone.now() > rotation.respond_by:
        raise Conflict("The response window for this request has passed.", code="request_expired")
    book(rotation.attending, weeks, rotation.week_starts)
    rotation.status = RotationStatus.APPROVED
    rotation.decided_at = timezone.now()
    rotation.save(update_fields=["status", "decided_at"])
    record(rotation, RotationStatus.APPROVED, by=by)
    lifecycle.announce("approved", rotation, by=by)
    notify(
        rotation.organization,
        rotation.student.user.email,
        "rotation_approved",
        # In person: where to stay, the organization's housing partners (rotations.housing).
        {**rotation_context(rotation), "housing_partners": housing_partners_for(rotation)},
        dedupe_key=f"rotation-approved:{rotation.pk}",
    )
    return rotation


def _refuse_if_already_full(rotation: Rotation) -> None:
    """A request whose weeks are already full is refused before any lock is taken, with
    the 409 the locked check gives: the refusal holds as of this read, so a hundred
    attempts on a week that filled up answer at once instead of queueing for its lock.
    Only refusing is decided here; booking a place still takes the locks. A request no
    longer waiting (or past its window) is left to the locked path, whose message says
    so."""
    if rotation.status != RotationStatus.REQUESTED or timezone.now() > rotation.respond_by:
        return
    weeks = {
        week.week_start: week
        for week in AvailabilityWeek.objects.filter(
            organization_id=rotation.organization_id,
            attending_id=rotation.attending_id,
            week_start__in=rotation.week_starts,
        )
    }
    for start in rotation.week_starts:
        require_free_place(
            rotation.attending, start, weeks.get(start), unpublished="no longer hosts"
        )


def require_unmoved(rotation: Rotation, *, since: date) -> None:
    """The weeks were locked from the dates read before the rotation's own lock; if it
    moved in between (a date change, a postponement), they are not its weeks, and
    releasing them would free other students' places: 409, nothing changes."""
    if rotation.start != since:
        raise Conflict(
            "This rotation's dates changed a moment ago; reload it and try again.",
            code="rotation_changed",
        )


def book(attending, weeks: dict, starts: list[date]) -> None:
    """Take one place in each locked week; 409 names the first week that is full. The
    attending's free runs and next free week are kept in the same transaction."""
    for start in starts:
        week = weeks.get(start)
        require_free_place(attending, start, week, unpublished="no longer hosts")
        week.booked += 1
        week.save(update_fields=["booked"])
    keep_free_weeks(attending.pk, starts)


def release(weeks: dict, starts: list[date]) -> None:
    """Give back one place in each locked week (and keep the free runs)."""
    released = []
    for start in starts:
        week = weeks.get(start)
        if week is not None and week.booked > 0:
            week.booked -= 1
            week.save(update_fields=["booked"])
            released.append(week)
    if released:
        keep_free_weeks(released[0].attending_id, [week.week_start for week in released])


@transaction.atomic
def decline_rotation(rotation: Rotation, *, by: Membership, reason: str = "") -> Rotation:
    """The attending declines a request; the student is told (with the reason, if any)."""
    _require_attending_of(rotation, by)
    rotation = lock_rotation(rotation)
    _require_status(rotation, RotationStatus.REQUESTED, action="declined")
    return _close(
        rotation, RotationStatus.DECLINED, by=by, note=reason, template="rotation_declined"
    )


@transaction.atomic
def withdraw_rotation(rotation: Rotation, *, by: Membership) -> Rotation:
    """The student withdraws a request the attending has not answered yet."""
    if rotation.student_id != by.pk:
        raise NotAllowed("Only the student who asked can withdraw.", code="not_the_student")
    rotation = lock_rotation(rotation)
    _require_status(rotation, RotationStatus.REQUESTED, action="withdrawn")
    return _close(
        rotation,
        RotationStatus.WITHDRAWN,
        by=by,
        note="",
        template="rotation_withdrawn",
        recipient=rotation.attending.membership.user.email,
    )


@transaction.atomic
def cancel_rotation(rotation: Rotation, *, by: Membership, reason: str = "") -> Rotation:
    """The student (or an admin for them) cancels an approved or on-hold rotation; its
    places go back to the attending. The money follows the organization's published
    cancellation schedule (payments, §5, §15; by default what was paid becomes credit).
    The attending's cancellation and the refund-protected causes are
    rotations.cancellations."""
    if not (by.is_admin or rotation.student_id == by.pk):
        raise NotAllowed("Only the student or an admin can cancel.", code="not_allowed")
    return end_by_cancellation(rotation, by=by, reason=reason, cause=CancellationCause.STUDENT)


def end_by_cancellation(
    rotation: Rotation,
    *,
    by: Membership,
    reason: str,
    cause: str,
    statuses: tuple[str, ...] = (RotationStatus.APPROVED, RotationStatus.ON_HOLD),
    check=None,
) -> Rotation:
    """Cancel ``rotation`` for ``cause`` inside the caller's transaction (§5, §15): the
    weeks are locked in date order, then the rotation; it must be in ``statuses`` (409)
    and unmoved since it was read; ``check(rotation)`` may refuse under the lock. Its
    places go back, the cause is stored (payments reads it to decide between the
    schedule and a full refund), ``cancelled`` is announced, and both sides are told."""
    weeks = lock_weeks(rotation.attending, rotation.week_starts)
    read_start = rotation.start
    rotation = lock_rotation(rotation)
    _require_status(rotation, *statuses, action="cancelled")
    require_unmoved(rotation, since=read_start)
    if check is not None:
        check(rotation)
    release(weeks, rotation.week_starts)
    rotation.cancellation_cause = cause
    rotation.save(update_fields=["cancellation_cause"])
    _close(
        rotation,
        RotationStatus.CANCELLED,
        by=by,
        note=reason,
        template="rotation_cancelled",
        recipient=rotation.attending.membership.user.email,
    )
    notify(
        rotation.organization,
        rotation.student.user.email,
        "rotation_cancelled",
        rotation_context(rotation, note=reason),
        dedupe_key=f"rotation-cancelled-student:{rotation.pk}",
    )
    return rotation


def _close(rotation, status, *, by, note, template, recipient=None) -> Rotation:
    """End a rotation as declined, expired, withdrawn or cancelled: its status, history
    row and lifecycle event (named as the status), then the email."""
    rotation.status = status
    rotation.decided_at = rotation.decided_at or timezone.now()
    rotation.decision_note = note.strip()
    rotation.save(update_fields=["status", "decided_at", "decision_note"])
    record(rotation, status, by=by, note=note)
    lifecycle.announce(status, rotation, by=by, reason=note.strip())
    notify(
        rotation.organization,
        recipient or rotation.student.user.email,
        template,
        rotation_context(rotation, note=note),
        dedupe_key=f"{template}:{rotation.pk}",
    )
    return rotation


# --- Completion -----------------------------------------------------------------------


@transaction.atomic
def complete_rotation(
    rotation: Rotation, *, by: Membership, ratings: dict[str, int], comments: str, activities: str
) -> Rotation:
    """After the end date the attending marks an in-progress rotation completed with an
    evaluation: 1–5 on each competency, comments, and the activities for ERAS."""
    _require_attending_of(rotation, by)
    rotation = lock_rotation(rotation)
    _require_status(rotation, RotationStatus.IN_PROGRESS, action="completed")
    if today() <= rotation.end:
        raise Conflict(
            f"The rotation ends on {rotation.end:%B} {rotation.end.day}; mark it completed "
            "after that.",
            code="not_ended",
        )
    evaluation = Evaluation(
        organization=rotation.organization,
        rotation=rotation,
        comments=comments.strip(),
        activities=activities.strip(),
        **{name: ratings.get(name) for name, _label in Evaluation.COMPETENCIES},
    )
    try:
        evaluation.full_clean(exclude=["organization", "rotation"])
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise Invalid(
            f"{field.replace('_', ' ')}: {messages[0]}", code="invalid_evaluation", field=field
        ) from error
    evaluation.save()
    rotation.status = RotationStatus.COMPLETED
    rotation.completed_at = timezone.now()
    rotation.save(update_fields=["status", "completed_at"])
    record(rotation, RotationStatus.COMPLETED, by=by)
    lifecycle.announce("completed", rotation, by=by)
    notify(
        rotation.organization,
        rotation.student.user.email,
        "rotation_completed",
        rotation_context(rotation),
        dedupe_key=f"rotation-completed:{rotation.pk}",
    )
    return rotation


def experience_entry(rotation: Rotation) -> dict | None:
    """An ERAS-style experience entry for a completed rotation (§5)."""
    if rotation.status != RotationStatus.COMPLETED:
        return None
    attending = rotation.attending
    evaluation = getattr(rotation, "evaluation", None)
    return {
        "title": f"{attending.get_specialty_display()} {type_title(rotation).lower()}",
        "organization": attending.practice_name or attending.display_name,
        "site": f"{attending.city}, {attending.state}",
        "supervisor": f"{attending.display_name}, {attending.credentials}",
        "start": rotation.start.isoformat(),
        "end": rotation.end.isoformat(),
        "duration_weeks": rotation.weeks,
        "hours_per_week": 40 if rotation.mode == "in_person" else 20,
        "setting": attending.get_care_setting_display(),
        "activities": evaluation.activities if evaluation else "",
    }


# --- Sweeps ---------------------------------------------------------------------------

# The sweeps live in rotations.sweeps (which imports this module's rotation_context);
# --- Shared bits ------------------------------------------------------------------------


def record(
    rotation: Rotation, status: str, *, by: Membership | None, note: str = ""
) -> RotationEvent:
    return RotationEvent.objects.create(
        organization=rotation.organization,
        rotation=rotation,
        status=status,
        by=by,
        note=note.strip(),
    )


def rotation_context(rotation: Rotation, *, note: str = "") -> dict:
    """JSON context for rotation emails."""
    return {
        "rotation_id": rotation.pk,
        "student_name": rotation.student.display_name,
        "attending_name": rotation.attending.display_name,
        "rotation_title": type_title(rotation),
        "start": long_date(rotation.start),
        "end": f"{rotation.end:%B} {rotation.end.day}, {rotation.end.year}",
        "weeks": rotation.weeks,
        "respond_by": deadline_text(rotation.respond_by),
        "note": note.strip(),
        "rotation_url": organization_url(rotation.organization, f"/rotations/{rotation.pk}/"),
    }
