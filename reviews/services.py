"""The rules of reviews (DESIGN §15). Views and the API parse, call one of these and
render (STYLE §2).

- Only the student of a ``completed`` rotation reviews its attending, once, within 30
  days of completion (``write_review``): a rotation not completed, a second review or a
  late one is refused (409) and nothing is saved.
- Double-blind: the student's review and the attending's evaluation are revealed
  together, when both are in or 14 days after completion, whichever is first
  (``Review.revealed_at``; ``evaluation_revealed`` keeps the evaluation from the
  student until then, through ``rotations.reveal``). Before that the attending does not
  see the review and the student does not see the evaluation. The evaluation is written
  when the attending marks the rotation completed, so a review written within 14 days
  is in practice revealed at once.
- The attending may answer a revealed review once (``answer_review``).
- An organization admin may hide a review with a reason, which is kept
  (``hide_review``). A hidden review shows only to admins (and to its author, without
  the reason) and stops counting in the attending's summary.
- The summary kept on the attending (``recount``): the number of reviews that count
  (not hidden), their teaching average, how many would recommend, and how many students
  reported no patient contact on a hands-on type (clerkship, elective, externship) — two
  or more flag the listing. Every write that changes what counts recounts inside its
  transaction, holding the attending's row lock, so concurrent reviews never lose one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import Membership
from notifications.services import notify
from reviews.models import PatientContact, Review
from rotations.choices import RotationStatus, RotationType
from rotations.locks import lock_rotation
from rotations.models import AttendingProfile, Rotation
from rotations.services import rotation_context
from usdoctors.errors import Conflict, Invalid, NotAllowed

REVIEW_WINDOW = timedelta(days=30)
REVEAL_AFTER = timedelta(days=14)
HANDS_ON_TYPES = (RotationType.CLERKSHIP, RotationType.ELECTIVE, RotationType.EXTERNSHIP)
REVIEW_FIELDS = (
    "teaching",
    "would_recommend",
    "patient_contact",
    "care_setting",
    "wrote_notes",
    "hours_per_week",
    "letter",
    "text",
)


# --- Reading --------------------------------------------------------------------------


def review_deadline(rotation: Rotation) -> datetime | None:
    """The last moment the student may review a completed rotation."""
    return rotation.completed_at + REVIEW_WINDOW if rotation.completed_at else None


def reveal_deadline(rotation: Rotation) -> datetime | None:
    """When the evaluation and any review show regardless: 14 days after completion."""
    return rotation.completed_at + REVEAL_AFTER if rotation.completed_at else None


def evaluation_revealed(rotation: Rotation, *, now: datetime | None = None) -> bool:
    """May the rotation's student read the attending's evaluation? Once their review
    is revealed with it, or 14 days after completion (the ``rotations.reveal`` gate).
    Asked twice for one rotation object, it reads the database once."""
    now = now or timezone.now()
    deadline = reveal_deadline(rotation)
    if deadline is not None and deadline <= now:
        return True
    if not hasattr(rotation, "_review_revealed_at"):
        rotation._review_revealed_at = (
            Review.objects.filter(rotation=rotation).values_list("revealed_at", flat=True).first()
        )
    return rotation._review_revealed_at is not None and rotation._review_revealed_at <= now


def is_revealed(review: Review, *, now: datetime | None = None) -> bool:
    return review.revealed_at <= (now or timezone.now())


def can_see_review(viewer: Membership | None, review: Review, *, now=None) -> bool:
    """Admins see every review; its author sees it always; anyone else — the attending
    included — once it is revealed, and not while it is hidden."""
    if viewer is None:
        return False
    if viewer.is_admin or viewer.pk == review.student_id:
        return True
    return review.hidden_at is None and is_revealed(review, now=now)


def visible_reviews(viewer: Membership, attending: AttendingProfile, *, now=None) -> QuerySet:
    """The reviews of ``attending`` ``viewer`` may read on the attending's page, newest
    revealed first: admins all of them (hidden and not yet revealed ones too); everyone
    else the revealed ones that are not hidden."""
    reviews = Review.objects.filter(attending=attending).select_related(
        "rotation",
        "attending",
        "student__profile",
        "student__user",
        "hidden_by__profile",
        "hidden_by__user",
    )
    if viewer.is_admin:
        return reviews
    return reviews.filter(hidden_at__isnull=True, revealed_at__lte=now or timezone.now())


# --- Writing --------------------------------------------------------------------------


@transaction.atomic
def write_review(rotation: Rotation, *, by: Membership, now: datetime | None = None, **fields):
    """The student reviews the attending of their completed rotation (§15): once, within
    30 days of completion. ``fields`` are ``REVIEW_FIELDS``: teaching 1–5, would
    recommend yes/no, patient contact (none/some/full), inpatient or outpatient, notes
    in the record yes/no, hours a week (1–120), the letter (received, promised, refused,
    not asked) and optional text. Refusals: 403 ``not_the_student``; 409
    ``rotation_not_completed``, ``already_reviewed``, ``review_window_closed``; 400 for a
    bad field. Nothing is saved on refusal.

    The review is revealed (to the attending and the organization) together with the
    attending's evaluation: now when the evaluation is in, else 14 days after completion.
    """
    now = now or timezone.now()
    if by.pk != rotation.student_id:
        raise NotAllowed("Only the rotation's student reviews it.", code="not_the_student")
    rotation = lock_rotation(rotation)
    if rotation.status != RotationStatus.COMPLETED or rotation.completed_at is None:
        raise Conflict(
            "You can review a rotation once the attending has marked it completed.",
            code="rotation_not_completed",
        )
    if Review.objects.filter(rotation=rotation).exists():
        raise Conflict("You have already reviewed this rotation.", code="already_reviewed")
    deadline = review_deadline(rotation)
    if now > deadline:
        raise Conflict(
            f"Reviews are open for 30 days after completion; this one closed on "
            f"{timezone.localtime(deadline):%B} {timezone.localtime(deadline).day}.",
            code="review_window_closed",
        )
    unknown = set(fields) - set(REVIEW_FIELDS)
    if unknown:
        raise TypeError(f"Unknown review fields: {', '.join(sorted(unknown))}")
    has_evaluation = hasattr(rotation, "evaluation") and rotation.evaluation is not None
    review = Review(
        organization=rotation.organization,
        rotation=rotation,
        attending=rotation.attending,
        student=rotation.student,
        created_at=now,
        revealed_at=now if has_evaluation else reveal_deadline(rotation),
        **{**fields, "text": (fields.get("text") or "").strip()},
    )
    try:
        _full_clean(review)
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise Invalid(
            f"{review._meta.get_field(field).verbose_name.capitalize()}: {messages[0]}",
            code="invalid_review",
            field=field,
        ) from error
    attending = _lock_attending(rotation.attending_id)
    review.save()
    recount(attending)
    if is_revealed(review, now=now):
        _tell_attending(review)
    return review


@transaction.atomic
def answer_review(review: Review, *, by: Membership, text: str, now=None) -> Review:
    """The attending answers a revealed review of theirs, once (§15). Refusals: 403
    ``not_the_attending``; 409 ``not_revealed``, ``review_hidden``, ``already_answered``;
    400 ``answer_required`` for an empty answer."""
    now = now or timezone.now()
    review = _lock_review(review)
    if by.pk != review.attending.membership_id:
        raise NotAllowed(
            "Only the attending who was reviewed answers a review.", code="not_the_attending"
        )
    if not is_revealed(review, now=now):
        raise Conflict(
            "You can answer once the review is revealed with your evaluation.",
            code="not_revealed",
        )
    if review.hidden:
        raise Conflict("An admin hid this review; it takes no answer.", code="review_hidden")
    if review.answered_at is not None:
        raise Conflict("You have already answered this review.", code="already_answered")
    text = (text or "").strip()
    if not text:
        raise Invalid("Write your answer.", code="answer_required", field="answer")
    review.answer = text
    review.answered_at = now
    _clean_field(review, "answer", label="Answer", code="invalid_answer", field="answer")
    review.save(update_fields=["answer", "answered_at"])
    return review


@transaction.atomic
def hide_review(review: Review, *, by: Membership, reason: str, now=None) -> Review:
    """An organization admin hides a review with a reason, which is kept and shown to
    admins. The review stops showing to students and the attending and stops counting
    in the attending's summary. Refusals: 403 ``admins_only``; 400 ``reason_required``;
    409 ``already_hidden``."""
    if not by.is_admin:
        raise NotAllowed("Only the organization's admins hide reviews.", code="admins_only")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(
            "Say why the review is hidden; the reason is kept.",
            code="reason_required",
            field="reason",
        )
    review = _lock_review(review)
    if review.hidden:
        raise Conflict("This review is already hidden.", code="already_hidden")
    attending = _lock_attending(review.attending_id)
    review.hidden_at = now or timezone.now()
    review.hidden_reason = reason
    review.hidden_by = by
    _clean_field(review, "hidden_reason", label="Reason", code="invalid_reason", field="reason")
    review.save(update_fields=["hidden_at", "hidden_reason", "hidden_by"])
    recount(attending)
    return review


def recount(attending: AttendingProfile) -> AttendingProfile:
    """Keep the attending's review summary equal to their reviews that count (not
    hidden): number, teaching average (cents, half up; 0 while none), would-recommend
    count, and the number of students who reported no patient contact on a hands-on
    type. Call it holding the attending's row lock (``_lock_attending``)."""
    summary = Review.objects.filter(attending=attending, hidden_at__isnull=True).aggregate(
        count=Count("pk"),
        teaching=Sum("teaching"),
        recommend=Count("pk", filter=Q(would_recommend=True)),
        no_contact=Count(
            "student",
            distinct=True,
            filter=Q(
                patient_contact=PatientContact.NONE, rotation__rotation_type__in=HANDS_ON_TYPES
            ),
        ),
    )
    count = summary["count"]
    average = (
        (Decimal(summary["teaching"]) / count).quantize(Decimal("0.01"), ROUND_HALF_UP)
        if count
        else Decimal("0")
    )
    attending.review_count = count
    attending.review_average = average
    attending.review_recommend_count = summary["recommend"]
    attending.review_no_contact_count = summary["no_contact"]
    AttendingProfile.objects.filter(pk=attending.pk).update(
        review_count=count,
        review_average=average,
        review_recommend_count=summary["recommend"],
        review_no_contact_count=summary["no_contact"],
    )
    return attending


# --- Shared bits ----------------------------------------------------------------------


def _lock_attending(attending_id: int) -> AttendingProfile:
    """The attending's row, locked: after the rotation's (rotations.locks order), so a
    recount sees every review committed before it."""
    return AttendingProfile.objects.select_for_update().get(pk=attending_id)


def _lock_review(review: Review) -> Review:
    return (
        Review.objects.select_for_update(of=("self",))
        .select_related("attending", "rotation")
        .get(pk=review.pk)
    )


def _tell_attending(review: Review) -> None:
    rotation = review.rotation
    notify(
        rotation.organization,
        rotation.attending.membership.user.email,
        "review_revealed",
        rotation_context(rotation),
        dedupe_key=f"review-revealed:{review.pk}",
    )


def _full_clean(review: Review) -> None:
    """The model's own validation of what was typed (the references are ours)."""
    review.full_clean(exclude=["organization", "rotation", "attending", "student"])


def _clean_field(review: Review, name: str, *, label: str, code: str, field: str) -> None:
    """400 ``code`` on ``field`` when the model refuses the text just set in ``name``."""
    try:
        _full_clean(review)
    except ValidationError as error:
        raise Invalid(
            f"{label}: {error.message_dict.get(name, ['invalid'])[0]}", code=code, field=field
        ) from error
