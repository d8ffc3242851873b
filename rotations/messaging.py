"""The message thread of a rotation (DESIGN §5): it opens with the request, so a student
can ask a question before the attending decides, and stays open while the rotation is
active (and once completed); a declined, withdrawn, expired or cancelled rotation's
thread is closed (readable, not writable). Only the student and the attending write; the
organization's admins can read it. The other side is emailed about new messages at most
once per thread every 15 minutes."""

from datetime import timedelta

from django.db import transaction

from accounts.models import Membership
from notifications.services import notify
from rotations import services
from rotations.choices import RotationStatus
from rotations.locks import lock_rotation
from rotations.models import Message, Rotation
from usdoctors.errors import Conflict, Invalid, NotAllowed

EMAIL_AT_MOST_EVERY = timedelta(minutes=15)
OPEN_STATUSES = (
    RotationStatus.REQUESTED,
    RotationStatus.APPROVED,
    RotationStatus.IN_PROGRESS,
    RotationStatus.ON_HOLD,
    RotationStatus.COMPLETED,
)

ENDED_REQUEST_STATUSES = (
    RotationStatus.DECLINED,
    RotationStatus.WITHDRAWN,
    RotationStatus.EXPIRED,
)


def is_participant(membership: Membership, rotation: Rotation) -> bool:
    return membership.pk in (rotation.student_id, rotation.attending.membership_id)


def can_read(membership: Membership, rotation: Rotation) -> bool:
    return membership.is_admin or is_participant(membership, rotation)


@transaction.atomic
def post_message(rotation: Rotation, *, author: Membership, body: str) -> Message:
    if not is_participant(author, rotation):
        raise NotAllowed(
            "Only the student and the attending write in this thread; admins can read it.",
            code="not_a_participant",
        )
    body = (body or "").strip()
    if not body:
        raise Invalid("Write a message.", code="message_empty", field="body")
    rotation = lock_rotation(rotation)
    if rotation.status not in OPEN_STATUSES:
        ended = "request" if rotation.status in ENDED_REQUEST_STATUSES else "rotation"
        raise Conflict(
            f"This {ended} is {rotation.get_status_display().lower()}: its thread is closed.",
            code="thread_closed",
        )
    message = Message.objects.create(
        organization=rotation.organization, rotation=rotation, author=author, body=body
    )
    if author.pk == rotation.student_id:
        recipient, flag = rotation.attending.membership, "attending_messages_emailed_at"
    else:
        recipient, flag = rotation.student, "student_messages_emailed_at"
    last = getattr(rotation, flag)
    if last is None or message.created_at - last >= EMAIL_AT_MOST_EVERY:
        setattr(rotation, flag, message.created_at)
        rotation.save(update_fields=[flag])
        notify(
            rotation.organization,
            recipient.user.email,
            "rotation_new_message",
            {**services.rotation_context(rotation), "author_name": author.display_name},
            dedupe_key=f"rotation-message:{rotation.pk}:{recipient.pk}:{message.pk}",
        )
    return message
