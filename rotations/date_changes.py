"""Moving an approved rotation to another start (DESIGN §5).

The student proposes; the attending accepts (capacity moves atomically: old and new
weeks are locked together in date order, old places released, new ones taken) or
declines. An admin may postpone with the same effect as an accepted change. If the new
dates are not available the student may cancel instead; what was paid becomes credit.
Both moves are announced as the lifecycle's ``moved`` event inside their transaction.
"""

from datetime import date

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership
from notifications.services import notify
from rotations import lifecycle, services
from rotations.choices import DateChangeStatus, RotationStatus
from rotations.locks import lock_rotation, lock_weeks
from rotations.models import DateChange, Rotation, week_starts
from usdoctors.errors import Conflict, Invalid, NotAllowed

CANCEL_HINT = " If no other date works, you may cancel; what you paid becomes credit."
MOVABLE = (RotationStatus.APPROVED, RotationStatus.ON_HOLD)


@transaction.atomic
def propose_date_change(
    rotation: Rotation, *, by: Membership, new_start: date, reason: str = ""
) -> DateChange:
    """The student proposes a new start; the new weeks must be free now (409 otherwise)."""
    if rotation.student_id != by.pk:
        raise NotAllowed(
            "Only the rotation's student can propose a new date.", code="not_the_student"
        )
    rotation = lock_rotation(rotation)
    if rotation.status not in MOVABLE:
        raise Conflict(
            f"This rotation is {rotation.get_status_display().lower()}; its dates cannot change.",
            code="wrong_status",
        )
    services.check_start(new_start, field="new_start")
    if new_start == rotation.start:
        raise Invalid("That is the current start date.", code="same_start", field="new_start")
    if DateChange.objects.filter(rotation=rotation, status=DateChangeStatus.PROPOSED).exists():
        raise Conflict(
            "A date change is already waiting for the attending.", code="date_change_open"
        )
    try:
        services.check_weeks_free(
            rotation.attending, week_starts(new_start, rotation.weeks), ignoring=rotation
        )
    except Conflict as error:
        raise Conflict(error.message + CANCEL_HINT, code=error.code) from error
    services.check_no_overlap(rotation.student, new_start, rotation.weeks, ignoring=rotation)
    change = DateChange.objects.create(
        organization=rotation.organization,
        rotation=rotation,
        proposed_start=new_start,
        reason=reason.strip(),
        proposed_by=by,
    )
    notify(
        rotation.organization,
        rotation.attending.membership.user.email,
        "date_change_proposed",
        {
            **services.rotation_context(rotation, note=reason),
            "new_start": services.long_date(new_start),
        },
        dedupe_key=f"date-change-proposed:{change.pk}",
    )
    return change


def move_rotation(rotation: Rotation, new_start: date) -> Rotation:
    """Release the old weeks and take the new ones in one locked step; 409 names the first
    full week and nothing changes. The caller holds the transaction."""
    old_starts = rotation.week_starts
    new_starts = week_starts(new_start, rotation.weeks)
    weeks = lock_weeks(rotation.attending, old_starts + new_starts)
    read_start = rotation.start
    rotation = lock_rotation(rotation)
    if rotation.status not in MOVABLE:
        raise Conflict(
            f"This rotation is {rotation.get_status_display().lower()}; its dates cannot change.",
            code="wrong_status",
        )
    services.require_unmoved(rotation, since=read_start)
    # The student may have booked other weeks since proposing: one rotation per week.
    services.check_no_overlap(rotation.student, new_start, rotation.weeks, ignoring=rotation)
    services.release(weeks, old_starts)
    services.book(rotation.attending, weeks, new_starts)
    rotation.start = new_start
    rotation.save(update_fields=["start"])
    return rotation


@transaction.atomic
def accept_date_change(change: DateChange, *, by: Membership) -> DateChange:
    """The attending accepts a proposed start: capacity moves (``move_rotation``), the
    proposal is marked accepted, the rotation is announced ``moved`` and the student told."""
    rotation = change.rotation
    previous_start = rotation.start  # move_rotation refuses if it changed under its lock
    if rotation.attending.membership_id != by.pk:
        raise NotAllowed("Only the rotation's attending can answer.", code="not_the_attending")
    if change.status != DateChangeStatus.PROPOSED:
        raise Conflict("This date change was already answered.", code="date_change_answered")
    # Locks in the fixed order: weeks, the rotation (both in move_rotation), then the
    # proposal. Locking the proposal first deadlocks against a postponement, which takes
    # the weeks and the rotation before it declines the open proposal.
    rotation = move_rotation(rotation, change.proposed_start)
    change = DateChange.objects.select_for_update().get(pk=change.pk)
    if change.status != DateChangeStatus.PROPOSED:  # answered meanwhile: the move rolls back
        raise Conflict("This date change was already answered.", code="date_change_answered")
    change.status = DateChangeStatus.ACCEPTED
    change.decided_by = by
    change.decided_at = timezone.now()
    change.save(update_fields=["status", "decided_by", "decided_at"])
    services.record(
        rotation,
        rotation.status,
        by=by,
        note=f"Moved to start {services.long_date(rotation.start)}.",
    )
    lifecycle.announce(
        "moved", rotation, by=by, previous_start=previous_start, reason=change.reason
    )
    _tell_student(rotation, "date_change_accepted", change)
    return change


@transaction.atomic
def decline_date_change(change: DateChange, *, by: Membership, reason: str = "") -> DateChange:
    rotation = change.rotation
    if rotation.attending.membership_id != by.pk:
        raise NotAllowed("Only the rotation's attending can answer.", code="not_the_attending")
    change = DateChange.objects.select_for_update().get(pk=change.pk)
    if change.status != DateChangeStatus.PROPOSED:
        raise Conflict("This date change was already answered.", code="date_change_answered")
    change.status = DateChangeStatus.DECLINED
    change.decided_by = by
    change.decided_at = timezone.now()
    change.save(update_fields=["status", "decided_by", "decided_at"])
    _tell_student(
        rotation, "date_change_declined", change, note=(reason.strip() + CANCEL_HINT).strip()
    )
    return change


@transaction.atomic
def postpone_rotation(
    rotation: Rotation, *, by: Membership, new_start: date, reason: str
) -> Rotation:
    """An admin moves a rotation (e.g. illness): the same as an accepted date change."""
    if not by.is_admin:
        raise NotAllowed("Only admins can postpone rotations.", code="not_admin")
    if not reason.strip():
        raise Invalid("Say why the rotation is postponed.", code="reason_required", field="reason")
    services.check_start(new_start, field="new_start")
    previous_start = rotation.start  # move_rotation refuses if it changed under its lock
    rotation = move_rotation(rotation, new_start)
    DateChange.objects.filter(rotation=rotation, status=DateChangeStatus.PROPOSED).update(
        status=DateChangeStatus.DECLINED, decided_by=by, decided_at=timezone.now()
    )
    services.record(
        rotation,
        rotation.status,
        by=by,
        note=f"Postponed to {services.long_date(new_start)}: {reason.strip()}",
    )
    lifecycle.announce(
        "moved", rotation, by=by, previous_start=previous_start, reason=reason.strip()
    )
    context = {
        **services.rotation_context(rotation, note=reason),
        "new_start": services.long_date(new_start),
    }
    for email in (rotation.student.user.email, rotation.attending.membership.user.email):
        notify(
            rotation.organization,
            email,
            "rotation_postponed",
            context,
            dedupe_key=f"rotation-postponed:{rotation.pk}:{new_start.isoformat()}:{email}",
        )
    return rotation


def _tell_student(rotation, template, change, note=""):
    notify(
        rotation.organization,
        rotation.student.user.email,
        template,
        {
            **services.rotation_context(rotation, note=note),
            "new_start": services.long_date(change.proposed_start),
        },
        dedupe_key=f"{template}:{change.pk}",
    )
