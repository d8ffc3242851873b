"""Account rules: student sign-up, profile verification, escalation (DESIGN §3)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.choices import Role, VerificationStatus
from accounts.models import Membership, ProfileReview, StudentProfile, User
from notifications.services import admin_recipients, admin_rows, notify, notify_admins, notify_many
from usdoctors.errors import Conflict, Invalid, NotAllowed
from usdoctors.links import organization_url

ESCALATION_BATCH_SIZE = 2000
ESCALATION_TIME_BUDGET_SECONDS = 60.0
ESCALATION_FIELDS = (
    "organization",
    "role",
    "submitted_at",
    "user__email",
    "user__first_name",
    "user__last_name",
    "profile__full_name",
)

EDITABLE_STATES = (VerificationStatus.INCOMPLETE, VerificationStatus.NEEDS_INFO)

BLOCKED_STUDENT_MESSAGES = {
    VerificationStatus.INCOMPLETE: (
        "Your profile is incomplete; finish and submit it for verification first."
    ),
    VerificationStatus.PENDING: (
        "Your profile is pending verification; allow up to {hours} hours."
    ),
    VerificationStatus.NEEDS_INFO: (
        "An admin asked for more information; update your profile and submit it again."
    ),
    VerificationStatus.REJECTED: (
        "Your profile was not verified; open a support ticket if you think this is a mistake."
    ),
}


@transaction.atomic
def join_as_student(user: User, organization) -> Membership:
    """Sign-up on an organization's site makes the user a student there, ``incomplete``."""
    membership, created = Membership.objects.get_or_create(
        organization=organization,
        user=user,
        defaults={"role": Role.STUDENT, "verification_status": VerificationStatus.INCOMPLETE},
    )
    if created or membership.is_student:
        StudentProfile.objects.get_or_create(organization=organization, membership=membership)
    return membership


@transaction.atomic
def join_organization(user: User, organization) -> Membership:
    """A signed-in user with an account (of any organization) joins ``organization`` as a
    student (DESIGN §2, §3): a new student membership in state ``incomplete`` with an
    empty profile, verified here like any other (profile, submit, an admin decides).

    Users are global, memberships are per organization: nothing of the user's other
    memberships is copied or shown here. Refused with 409 ``already_member`` when the
    user already belongs to the organization, in any role or state, and with 403
    ``staff_console`` for platform staff, who work in the staff console instead. The user's
    row is locked first, so two joins at once make one membership and the second is
    refused: joining twice never changes anything.
    """
    User.objects.select_for_update().filter(pk=user.pk).first()
    existing = Membership.objects.filter(organization=organization, user=user).first()
    if existing is not None:
        if existing.is_student:
            what = f"a student ({existing.get_verification_status_display().lower()})"
        else:
            what = f"an {existing.get_role_display().lower()}"
        raise Conflict(
            f"You are already a member of {organization.name}, as {what}.",
            code="already_member",
        )
    if user.is_staff:
        raise NotAllowed(
            "Platform staff work in the staff console; they do not join as students.",
            code="staff_console",
        )
    return join_as_student(user, organization)


def logs_in_on_confirmation(email_address) -> bool:
    """Whether confirming ``email_address`` logs its account in (DESIGN §3): a new
    account's first confirmation does, in whichever browser the emailed link is opened,
    so sign-up goes straight on to the profile. Only when the account has never logged
    in, the address is its login email, and it has no second factor (a second factor is
    always asked for). allauth's own rule covers only the browser that signed up (and 15
    minutes); ours is as safe because a link answers only while its address is
    unconfirmed: it logs in once. An email change's confirmation never logs in."""
    from allauth.mfa.models import Authenticator

    user = email_address.user
    return (
        user.is_active
        and user.last_login is None
        and email_address.email.lower() == user.email.lower()
        and not Authenticator.objects.filter(user=user).exists()
    )


def next_step_path(membership: Membership | None) -> str:
    """Where a member goes next: a student whose profile still needs work to the
    profile, everyone else to the dashboard; a user who is not a member here to the page
    offering to join."""
    if membership is None:
        return "/join/"
    if membership.is_student and membership.verification_status in EDITABLE_STATES:
        return "/profile/"
    return "/dashboard/"


def require_verified_student(membership: Membership | None) -> Membership:
    """Only verified students may request rotations; others learn why and what to do."""
    if membership is None or not membership.is_student:
        raise NotAllowed("Only students can do this.", code="not_a_student")
    if membership.verification_status != VerificationStatus.VERIFIED:
        message = BLOCKED_STUDENT_MESSAGES[membership.verification_status].format(
            hours=membership.organization.verification_target_hours
        )
        raise NotAllowed(message, code=f"profile_{membership.verification_status}")
    return membership


def ensure_profile_editable(membership: Membership) -> None:
    """A profile can change while incomplete or when an admin asked for more information;
    under review or once decided it is locked (a verified student asks support)."""
    if membership.verification_status not in EDITABLE_STATES:
        if membership.verification_status == VerificationStatus.PENDING:
            message = "Your profile is being reviewed and cannot change until an admin decides."
        else:
            message = (
                f"Your profile is {membership.get_verification_status_display().lower()}; "
                "open a support ticket to change it."
            )
        raise Conflict(message, code="profile_locked")


@transaction.atomic
def submit_profile(membership: Membership) -> Membership:
    """``incomplete``/``needs_info`` → ``pending`` once every required field is filled."""
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    ensure_profile_editable(membership)
    missing = membership.profile.missing_fields()
    if missing:
        labels = ", ".join(
            str(StudentProfile._meta.get_field(name).verbose_name) for name in missing
        )
        raise Invalid(f"Fill these fields before submitting: {labels}.", code="profile_incomplete")
    now = timezone.now()
    membership.verification_status = VerificationStatus.PENDING
    membership.submitted_at = now
    membership.escalated_at = None
    membership.status_message = ""
    membership.save(
        update_fields=["verification_status", "submitted_at", "escalated_at", "status_message"]
    )
    ProfileReview.objects.create(
        organization=membership.organization,
        membership=membership,
        action=ProfileReview.Action.SUBMITTED,
        by=membership,
    )
    context = _profile_context(membership)
    notify(
        membership.organization,
        membership.user.email,
        "profile_submitted",
        context,
        dedupe_key=f"profile-submitted:{membership.pk}:{now.isoformat()}",
    )
    notify_admins(
        membership.organization,
        "profile_awaiting_verification",
        context,
        dedupe_key=f"profile-awaiting:{membership.pk}:{now.isoformat()}",
    )
    return membership


def _decide(
    membership: Membership,
    *,
    by: Membership,
    status: str,
    action: str,
    message: str,
    template: str,
) -> Membership:
    if not by.is_admin or by.organization_id != membership.organization_id:
        raise NotAllowed("Only this organization's admins can decide on profiles.")
    membership = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
    if membership.verification_status != VerificationStatus.PENDING:
        raise Conflict(
            "This profile is not awaiting verification "
            f"(it is {membership.get_verification_status_display().lower()}).",
            code="not_pending",
        )
    now = timezone.now()
    membership.verification_status = status
    membership.decided_at = now
    membership.status_message = message
    membership.save(update_fields=["verification_status", "decided_at", "status_message"])
    ProfileReview.objects.create(
        organization=membership.organization,
        membership=membership,
        action=action,
        message=message,
        by=by,
        at=now,
    )
    notify(
        membership.organization,
        membership.user.email,
        template,
        {**_profile_context(membership), "message": message},
        dedupe_key=f"{template}:{membership.pk}:{now.isoformat()}",
    )
    return membership


@transaction.atomic
def verify_profile(membership: Membership, *, by: Membership) -> Membership:
    """``pending`` → ``verified``: the student may now request rotations."""
    return _decide(
        membership,
        by=by,
        status=VerificationStatus.VERIFIED,
        action=ProfileReview.Action.VERIFIED,
        message="",
        template="profile_verified",
    )


@transaction.atomic
def request_profile_info(membership: Membership, *, by: Membership, message: str) -> Membership:
    """``pending`` → ``needs_info``; the student is emailed what to finish."""
    message = (message or "").strip()
    if not message:
        raise Invalid("Tell the student what to finish.", code="message_required", field="message")
    return _decide(
        membership,
        by=by,
        status=VerificationStatus.NEEDS_INFO,
        action=ProfileReview.Action.INFO_REQUESTED,
        message=message,
        template="profile_needs_info",
    )


@transaction.atomic
def reject_profile(membership: Membership, *, by: Membership, reason: str) -> Membership:
    """``pending`` → ``rejected`` with a reason the student is told."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Give the student a reason.", code="reason_required", field="reason")
    return _decide(
        membership,
        by=by,
        status=VerificationStatus.REJECTED,
        action=ProfileReview.Action.REJECTED,
        message=reason,
        template="profile_rejected",
    )


def verification_queue(organization):
    """Pending profiles, oldest submission first."""
    return (
        Membership.objects.filter(
            organization=organization,
            role=Role.STUDENT,
            verification_status=VerificationStatus.PENDING,
        )
        # is_overdue() reads membership.organization: fetch it here, not once per row.
        .select_related("user", "profile", "organization")
        .order_by("submitted_at", "pk")
    )


def overdue_count(organization, now: datetime | None = None) -> int:
    """How many pending profiles have waited longer than the organization's target."""
    cutoff = (now or timezone.now()) - timedelta(hours=organization.verification_target_hours)
    return verification_queue(organization).filter(submitted_at__lt=cutoff).count()


def pending_age(membership: Membership, now: datetime | None = None) -> timedelta:
    return (now or timezone.now()) - membership.submitted_at


def is_overdue(membership: Membership, now: datetime | None = None) -> bool:
    target = timedelta(hours=membership.organization.verification_target_hours)
    return pending_age(membership, now) > target


def escalate_overdue_profiles(
    organization,
    *,
    batch_size: int = ESCALATION_BATCH_SIZE,
    time_budget: float = ESCALATION_TIME_BUDGET_SECONDS,
) -> int:
    """Tell the admins about each profile pending longer than the organization's target
    (24 h by default, DESIGN §3) — once per submission. Returns how many were escalated.

    A set-based sweep (STYLE §6): the admins are looked up once per run; then each batch
    of overdue profiles, oldest submission first, is locked (``FOR UPDATE SKIP LOCKED``:
    two sweeps share the work, and a profile being decided is left for the next run) with
    its user and profile, one email per admin and profile is written with one INSERT …
    ON CONFLICT DO NOTHING on ``notify_admins``' dedupe keys
    (``escalation:<membership>:<submitted at>:admin:<admin>``, so a resubmitted profile
    is escalated again), and ``escalated_at`` is set with one UPDATE. A batch costs the
    same few queries whatever its size; batches repeat until no overdue profile is left
    or the time budget is spent. A second run sends nothing new."""
    deadline = time.monotonic() + time_budget
    admins = admin_recipients(organization)
    escalated = 0
    while time.monotonic() < deadline:
        taken = _escalate_batch(organization, admins, batch_size)
        escalated += taken
        if taken < batch_size:
            break
    return escalated


@transaction.atomic
def _escalate_batch(organization, admins: list[tuple[int, str]], batch_size: int) -> int:
    now = timezone.now()
    target_hours = organization.verification_target_hours
    overdue = list(
        Membership.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(
            organization=organization,
            verification_status=VerificationStatus.PENDING,
            submitted_at__lt=now - timedelta(hours=target_hours),
            escalated_at__isnull=True,
        )
        .select_related("user", "profile")
        # Only what the email needs: a batch is thousands of rows (display_name reads
        # the role, the profile's full name and the user's names).
        .only(*ESCALATION_FIELDS)
        .order_by("submitted_at", "pk")[:batch_size]
    )
    rows = []
    for membership in overdue:
        membership.organization = organization  # its URLs read it: no query per row
        rows += admin_rows(
            admins,
            "profile_verification_overdue",
            {
                **_profile_context(membership),
                "hours_pending": int(pending_age(membership, now).total_seconds() // 3600),
                "target_hours": target_hours,
            },
            dedupe_key=f"escalation:{membership.pk}:{membership.submitted_at.isoformat()}",
        )
    notify_many(organization, rows)
    if overdue:
        Membership.objects.filter(pk__in=[membership.pk for membership in overdue]).update(
            escalated_at=now
        )
    return len(overdue)


def _profile_context(membership: Membership) -> dict:
    return {
        "student_name": membership.display_name,
        "student_email": membership.user.email,
        "profile_url": organization_url(membership.organization, "/profile/"),
        "queue_url": organization_url(membership.organization, "/manage/verification/"),
        "review_url": organization_url(
            membership.organization, f"/manage/verification/{membership.profile.pk}/"
        ),
    }
