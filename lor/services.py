"""Letters of recommendation: the rules (DESIGN §8). Views parse, call one of these and
show the answer (STYLE §2); each transition locks the letter's row, so two clicks or
two tabs apply it once.

- ``request_letter``: a student asks an attending with whom they have a ``completed``
  rotation in this organization, for a target specialty and an open season; at most
  one open letter (requested or accepted) per (student, attending); the attending must
  write letters. The attending's fee at that moment is kept on the letter.
- ``accept_letter`` / ``decline_letter``: the attending decides a requested letter. On
  acceptance without a fee the attending's address is released at once; with a fee an
  invoice of kind ``lor_fee`` is issued through payments, and the address is released
  when it is paid (``release_after_payment``, a ``payments.paid`` subscriber).
- ``attach_letter_id``: the student gives the ERAS Letter ID of an accepted letter; not
  empty, and not one already attached to another letter of this organization.
- ``mark_uploaded``: the attending marks an accepted letter uploaded to ERAS; reminders
  stop.

The attending's email address reaches the student only through ``writer_email`` and
the ``letter_email_released`` email, both after release.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.choices import Specialty
from accounts.models import Membership
from lor import seasons
from lor.models import LETTER_ID_MAX, OPEN_STATUSES, Letter, LetterStatus
from notifications.services import notify
from payments.invoicing import invoice_single_payment
from payments.models import InvoiceKind
from rotations.choices import RotationStatus
from rotations.models import AttendingProfile, Rotation
from rotations.services import long_date, type_title
from usdoctors.errors import Conflict, Invalid, NotAllowed
from usdoctors.links import organization_url

# ERAS Letter IDs are short codes of letters and digits (hyphens allowed), as MyERAS
# prints them on the Letter Request Form; spaces around it are dropped, case is kept.
LETTER_ID_PATTERN = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9-]{{3,{LETTER_ID_MAX - 1}}}$")

# Reminders to the attending (§8): weekly, and every 3 days (about twice a week) in the
# last 3 weeks before the season's ERAS target date.
REMINDER_EVERY = timedelta(days=7)
FINAL_WEEKS = timedelta(weeks=3)
FINAL_EVERY = timedelta(days=3)


# --- What the student may see ------------------------------------------------------------


def writer_address(attending: AttendingProfile) -> str:
    """The address a letter writer gives for MyERAS: their private contact email, or
    their account's email when they left it blank."""
    return attending.contact_email or attending.membership.user.email


def writer_email(letter: Letter, viewer: Membership) -> str | None:
    """The attending's email address as ``viewer`` may see it on ``letter``: the
    student only once it is released (§8); the attending and the organization's admins
    always; anyone else never."""
    if viewer.pk == letter.student_id:
        return writer_address(letter.attending) if letter.is_released else None
    if viewer.pk == letter.attending.membership_id or viewer.is_admin:
        return writer_address(letter.attending)
    return None


def next_reminder(after: date, target: date) -> date:
    """When the attending is next reminded, after a reminder (or the release) on
    ``after``: a week later; every 3 days once within 3 weeks of the target date (the
    first of those on the day those 3 weeks begin); a week apart again after it."""
    final_from = target - FINAL_WEEKS
    if after < final_from:
        return min(after + REMINDER_EVERY, final_from)
    if after < target:
        return min(after + FINAL_EVERY, target)
    return after + REMINDER_EVERY


def letter_context(letter: Letter, today: date | None = None) -> dict:
    """JSON context for letter emails (never the attending's address: see
    ``release_email``)."""
    today = today or timezone.localdate()
    rotation = letter.rotation
    return {
        "student_name": letter.student.display_name,
        "attending_name": letter.attending.display_name,
        "rotation_title": type_title(rotation),
        "rotation_dates": f"{long_date(rotation.start)} to {long_date(rotation.end)}",
        "specialty": letter.get_specialty_display(),
        "season": seasons.season_label(letter.season),
        "target_date": long_date(letter.target_on),
        "days_left": seasons.days_left(letter.target_on, today),
        "days_left_words": seasons.days_left_words(letter.target_on, today),
        "letter_url": organization_url(letter.organization, f"/letters/{letter.pk}/"),
    }


# --- Requesting -----------------------------------------------------------------------------


def completed_rotation(student: Membership, attending: AttendingProfile) -> Rotation | None:
    """The student's latest completed rotation with ``attending`` in this organization."""
    return (
        Rotation.objects.filter(
            organization_id=student.organization_id,
            student=student,
            attending=attending,
            status=RotationStatus.COMPLETED,
        )
        .select_related("attending__membership__user", "student__user", "student__profile")
        .order_by("-start", "-pk")
        .first()
    )


def letter_writers(student: Membership):
    """The attendings a student may ask today: those of their completed rotations here
    who write letters, each once, by name."""
    return (
        AttendingProfile.objects.filter(
            organization_id=student.organization_id,
            writes_lors=True,
            rotations__student=student,
            rotations__status=RotationStatus.COMPLETED,
        )
        .distinct()
        .order_by("display_name", "pk")
    )


def open_letter(student: Membership, attending: AttendingProfile) -> Letter | None:
    return Letter.objects.filter(
        organization_id=student.organization_id,
        student=student,
        attending=attending,
        status__in=OPEN_STATUSES,
    ).first()


@transaction.atomic
def request_letter(
    student: Membership,
    attending: AttendingProfile,
    *,
    specialty: str,
    season: int,
    message: str = "",
    today: date | None = None,
) -> Letter:
    """Ask ``attending`` for a letter (§8). Refused, writing nothing: not a student
    (403); no completed rotation with this attending here (409, ``no_completed_rotation``);
    the attending does not write letters (409); a specialty not in the list or a season
    not open (400); an open letter already asked of this attending (409,
    ``letter_already_requested``). The attending is emailed the request."""
    today = today or timezone.localdate()
    if not student.is_student:
        raise NotAllowed("Only students request letters of recommendation.")
    if specialty not in Specialty.values:
        raise Invalid("Choose the target specialty from the list.", field="specialty")
    open_seasons = seasons.open_seasons(today)
    if season not in open_seasons:
        raise Invalid(
            "Choose an application season from "
            f"{', '.join(str(s) for s in open_seasons)} (named by its Match year).",
            code="season_not_open",
            field="season",
        )
    rotation = completed_rotation(student, attending)
    if rotation is None:
        raise Conflict(
            "You can ask for a letter only from an attending with whom you completed a "
            "rotation here. Once your rotation is marked completed, ask again.",
            code="no_completed_rotation",
        )
    if not attending.writes_lors:
        raise Conflict(
            f"{attending.display_name} does not write letters of recommendation.",
            code="does_not_write_letters",
        )
    if open_letter(student, attending) is not None:
        raise Conflict(_already_asked(attending), code="letter_already_requested")
    try:
        with transaction.atomic():
            letter = Letter.objects.create(
                organization_id=student.organization_id,
                student=student,
                attending=attending,
                rotation=rotation,
                specialty=specialty,
                season=season,
                target_on=seasons.target_date(season),
                message=message.strip(),
                fee=attending.lor_fee,
            )
    except IntegrityError:  # a concurrent request for the same pair won
        raise Conflict(_already_asked(attending), code="letter_already_requested") from None
    notify(
        letter.organization,
        writer_address(attending),
        "letter_requested",
        {**letter_context(letter, today), "message": letter.message, "fee": f"{letter.fee:,.2f}"},
        dedupe_key=f"letter-requested:{letter.pk}",
    )
    return letter


def _already_asked(attending: AttendingProfile) -> str:
    return (
        f"You already have an open letter request with {attending.display_name}. "
        "Follow it on your letters page; you can ask again once it is uploaded or declined."
    )


# --- The attending decides ------------------------------------------------------------------


def lock(letter: Letter) -> Letter:
    """The letter's row, locked for this transaction, with what the rules read."""
    return (
        Letter.objects.select_for_update(of=("self",))
        .select_related(
            "attending__membership__user",
            "student__user",
            "student__profile",
            "rotation",
            "organization",
        )
        .get(pk=letter.pk)
    )


def _attending_only(letter: Letter, by: Membership, what: str) -> None:
    if by.pk != letter.attending.membership_id:
        raise NotAllowed(f"Only the letter's writer can {what}.")


def _in_status(letter: Letter, allowed: tuple, what: str) -> None:
    if letter.status not in allowed:
        raise Conflict(
            f"This letter is {letter.get_status_display().lower()}; you cannot {what} it.",
            code="wrong_status",
        )


@transaction.atomic
def accept_letter(letter: Letter, *, by: Membership) -> Letter:
    """The attending accepts a requested letter (§8). Without a fee, the student gets
    the attending's address now (in the app and by email). With a fee, the fee is
    invoiced through payments (one payment, the card fee as its own line when the
    rotation was paid by card) and the student is told to pay it; the address follows
    the payment."""
    letter = lock(letter)
    _attending_only(letter, by, "accept it")
    _in_status(letter, (LetterStatus.REQUESTED,), "accept")
    letter.status = LetterStatus.ACCEPTED
    letter.decided_at = timezone.now()
    if letter.fee > 0:
        letter.invoice = invoice_single_payment(
            letter.rotation,
            kind=InvoiceKind.LOR_FEE,
            amount=letter.fee,
            label=f"Letter of recommendation fee ({letter.attending.display_name})",
        )
        letter.save(update_fields=["status", "decided_at", "invoice"])
        notify(
            letter.organization,
            letter.student.user.email,
            "letter_accepted_fee_due",
            {**letter_context(letter), "fee": f"{letter.fee:,.2f}"},
            dedupe_key=f"letter-accepted:{letter.pk}",
        )
        return letter
    letter.save(update_fields=["status", "decided_at"])
    release_email(letter)
    return letter


def release_after_payment(invoice) -> None:
    """``payments.paid`` subscriber for ``lor_fee`` invoices: the letter whose fee this
    is releases its writer's address (inside the payment's transaction)."""
    letter = Letter.objects.filter(invoice=invoice).first()
    if letter is None:
        return
    letter = lock(letter)
    if letter.status == LetterStatus.ACCEPTED and not letter.is_released:
        release_email(letter)


def release_email(letter: Letter) -> None:
    """Give the student the attending's address for MyERAS (§8), in the app (the
    letter shows it from now on) and by email, once; the weekly reminders start."""
    today = timezone.localdate()
    letter.released_at = timezone.now()
    letter.next_reminder_on = next_reminder(today, letter.target_on)
    letter.save(update_fields=["released_at", "next_reminder_on"])
    notify(
        letter.organization,
        letter.student.user.email,
        "letter_email_released",
        {**letter_context(letter, today), "writer_email": writer_address(letter.attending)},
        dedupe_key=f"letter-released:{letter.pk}",
    )


@transaction.atomic
def decline_letter(letter: Letter, *, by: Membership, reason: str = "") -> Letter:
    """The attending declines a requested letter, with an optional reason the student
    reads. The student may ask again later."""
    letter = lock(letter)
    _attending_only(letter, by, "decline it")
    _in_status(letter, (LetterStatus.REQUESTED,), "decline")
    letter.status = LetterStatus.DECLINED
    letter.decided_at = timezone.now()
    letter.decline_reason = reason.strip()
    letter.save(update_fields=["status", "decided_at", "decline_reason"])
    notify(
        letter.organization,
        letter.student.user.email,
        "letter_declined",
        {**letter_context(letter), "reason": letter.decline_reason},
        dedupe_key=f"letter-declined:{letter.pk}",
    )
    return letter


# --- Tracking to the upload -----------------------------------------------------------------


def clean_letter_id(value: str) -> str:
    """The Letter ID as stored: spaces around it dropped. Empty or malformed: 400."""
    value = (value or "").strip()
    if not value:
        raise Invalid(
            "Enter the ERAS Letter ID from your MyERAS Letter Request Form.",
            code="letter_id_required",
            field="letter_id",
        )
    if not LETTER_ID_PATTERN.match(value):
        raise Invalid(
            f"An ERAS Letter ID is 4 to {LETTER_ID_MAX} letters and digits (hyphens allowed), "
            "as printed on your MyERAS Letter Request Form.",
            code="letter_id_invalid",
            field="letter_id",
        )
    return value


@transaction.atomic
def attach_letter_id(letter: Letter, *, by: Membership, letter_id: str) -> Letter:
    """The student attaches the ERAS Letter ID to an accepted letter; the attending is
    emailed it. A Letter ID is single-use: one already on another letter of this
    organization is refused (409, ``letter_id_in_use``). Attaching the same ID again
    changes nothing; a different one replaces a mistyped ID until the letter is
    uploaded. Refusals come in this order: not the student (403), not accepted (409), an
    empty or malformed ID (400), an ID in use (409)."""
    letter = lock(letter)
    if by.pk != letter.student_id:
        raise NotAllowed("Only the student who asked for this letter can attach its Letter ID.")
    _in_status(letter, (LetterStatus.ACCEPTED,), "attach a Letter ID to")
    value = clean_letter_id(letter_id)
    if letter.eras_letter_id == value:
        return letter
    taken = Letter.objects.filter(
        organization_id=letter.organization_id, eras_letter_id__iexact=value
    ).exclude(pk=letter.pk)
    if taken.exists():
        raise Conflict(_letter_id_in_use(), code="letter_id_in_use")
    letter.eras_letter_id = value
    letter.letter_id_added_at = timezone.now()
    try:
        with transaction.atomic():
            letter.save(update_fields=["eras_letter_id", "letter_id_added_at"])
    except IntegrityError:  # a concurrent attach of the same ID won
        raise Conflict(_letter_id_in_use(), code="letter_id_in_use") from None
    notify(
        letter.organization,
        writer_address(letter.attending),
        "letter_id_added",
        {**letter_context(letter), "letter_id": value},
        dedupe_key=f"letter-id:{letter.pk}:{value}",
    )
    return letter


def _letter_id_in_use() -> str:
    return (
        "This Letter ID is already attached to another letter. Each ERAS Letter ID is for "
        "one letter: check your MyERAS Letter Request Form for this writer's ID."
    )


@transaction.atomic
def mark_uploaded(letter: Letter, *, by: Membership) -> Letter:
    """The attending marks an accepted letter uploaded to ERAS (§8): the student is told,
    and the reminders stop."""
    letter = lock(letter)
    _attending_only(letter, by, "mark it uploaded")
    _in_status(letter, (LetterStatus.ACCEPTED,), "mark uploaded")
    letter.status = LetterStatus.UPLOADED
    letter.uploaded_at = timezone.now()
    letter.next_reminder_on = None
    letter.save(update_fields=["status", "uploaded_at", "next_reminder_on"])
    notify(
        letter.organization,
        letter.student.user.email,
        "letter_uploaded",
        letter_context(letter),
        dedupe_key=f"letter-uploaded:{letter.pk}",
    )
    return letter


# --- The lifecycle ---------------------------------------------------------------------------


def invite_to_request(rotation: Rotation, *, by) -> None:
    """Lifecycle ``completed`` subscriber: when the attending writes letters, the
    student learns they can ask for one now, and what it costs."""
    attending = rotation.attending
    if not attending.writes_lors:
        return
    notify(
        rotation.organization,
        rotation.student.user.email,
        "letter_invitation",
        {
            "student_name": rotation.student.display_name,
            "attending_name": attending.display_name,
            "rotation_title": type_title(rotation),
            "fee": f"{attending.lor_fee:,.2f}",
            "request_url": organization_url(
                rotation.organization, f"/letters/request/?attending={attending.pk}"
            ),
        },
        dedupe_key=f"letter-invitation:{rotation.pk}",
    )
