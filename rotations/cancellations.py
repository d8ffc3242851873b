"""Cancellations that are not the student's choice (DESIGN §15 "refund protection").

The attending cancels an approved rotation, an admin records that the attending did not
show up in the rotation's first week, or an admin confirms the student's visa refusal
(documents.visa_refusals calls ``cancel_for_visa_refusal``). Each ends the rotation
through ``services.end_by_cancellation`` with its cause; payments reads the cause in its
``cancelled`` subscriber and refunds everything paid, card fees included, to where it
came from (payments.refunds). The student's own cancellation is
``services.cancel_rotation`` and follows the organization's schedule instead.

A second attempt finds the rotation cancelled already: 409, nothing changes, nothing
more is refunded.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction

from accounts.models import Membership
from rotations.choices import CancellationCause, RotationStatus
from rotations.models import Rotation
from rotations.services import end_by_cancellation, today
from usdoctors.errors import Conflict, NotAllowed

# An admin records a no-show within the rotation's first week: its Monday to Sunday.
NO_SHOW_WINDOW_DAYS = 7
BEFORE_START = (RotationStatus.APPROVED, RotationStatus.ON_HOLD)


def no_show_window(rotation: Rotation) -> tuple[date, date]:
    """The first and last day on which a no-show can be recorded: the first week."""
    return rotation.start, rotation.start + timedelta(days=NO_SHOW_WINDOW_DAYS - 1)


def can_record_no_show(rotation: Rotation, on: date | None = None) -> bool:
    first, last = no_show_window(rotation)
    return (
        rotation.status in (*BEFORE_START, RotationStatus.IN_PROGRESS)
        and first <= (on or today()) <= last
    )


@transaction.atomic
def cancel_by_attending(rotation: Rotation, *, by: Membership, reason: str = "") -> Rotation:
    """The rotation's attending cancels it before it starts (approved or on hold, §15):
    the student gets back everything paid, card fees included, where it came from.
    Only the rotation's own attending (403); any other status 409."""
    if rotation.attending.membership_id != by.pk:
        raise NotAllowed("Only the rotation's attending can cancel it.", code="not_the_attending")
    return end_by_cancellation(
        rotation, by=by, reason=reason, cause=CancellationCause.ATTENDING, statuses=BEFORE_START
    )


@transaction.atomic
def record_no_show(rotation: Rotation, *, by: Membership, note: str = "") -> Rotation:
    """An admin records that the attending did not show up (§15): only in the rotation's
    first week (Monday to Sunday of its start week; earlier or later is 409 and changes
    nothing), for a rotation that is approved, on hold or in progress. The rotation is
    cancelled and everything paid is refunded. Admins only (403)."""
    if not by.is_admin:
        raise NotAllowed("Only an admin can record a no-show.", code="not_admin")

    def in_first_week(locked: Rotation) -> None:
        first, last = no_show_window(locked)
        now = today()
        if now < first:
            raise Conflict(
                f"The rotation starts on {first:%B} {first.day}; a no-show can be recorded "
                "from that day.",
                code="no_show_not_started",
            )
        if now > last:
            raise Conflict(
                f"A no-show is recorded in the rotation's first week, which ended on "
                f"{last:%B} {last.day}, {last.year}.",
                code="no_show_too_late",
            )

    return end_by_cancellation(
        rotation,
        by=by,
        reason=note or "The attending did not show up.",
        cause=CancellationCause.NO_SHOW,
        statuses=(*BEFORE_START, RotationStatus.IN_PROGRESS),
        check=in_first_week,
    )


def cancel_for_visa_refusal(rotation: Rotation, *, by: Membership, note: str = "") -> Rotation:
    """An admin confirmed the student's visa refusal (documents.visa_refusals, §15): the
    rotation is cancelled before it starts and everything paid is refunded. Runs inside
    the confirmation's transaction. Admins only (403); other statuses 409."""
    if not by.is_admin:
        raise NotAllowed("Only an admin can confirm a visa refusal.", code="not_admin")
    return end_by_cancellation(
        rotation,
        by=by,
        reason=note or "The student's visa was refused.",
        cause=CancellationCause.VISA_REFUSED,
        statuses=BEFORE_START,
    )
