"""Every email the platform sends, and the context its templates need (DESIGN §9).

An email type is a template name: ``templates/emails/<name>.subject.txt``, ``.txt`` and
``.html`` (the HTML part extends ``emails/base.html``). The keys listed are the ones the
three parts read; ``notify()`` refuses an unknown name or a context lacking one of them,
and tests/notifications/test_email_templates.py renders every type with exactly these
keys and fails on any variable a template reads that is not listed. A caller may pass
more (``rotation_context()`` serves every rotation email).

``organization_name`` and ``site_url`` are not listed: ``notifications.services.render``
adds them to every context when the email is sent.
"""

from __future__ import annotations

from collections.abc import Mapping

# Added by notifications.services.render() at delivery, never by callers.
ADDED_AT_DELIVERY = frozenset({"organization_name", "site_url"})

EMAIL_TYPES: dict[str, frozenset[str]] = {
    name: frozenset(keys)
    for name, keys in {
        # allauth's own messages (confirm your address, reset your password, ...), rendered
        # by allauth with the request in accounts.adapter.send_mail and queued as text.
        "allauth_message": ("subject", "text", "html"),
        # Profiles and verification (accounts.services).
        "profile_submitted": ("student_name", "profile_url"),
        "profile_awaiting_verification": (
            "student_name",
            "student_email",
            "review_url",
            "queue_url",
        ),
        "profile_verified": ("student_name",),
        "profile_needs_info": ("student_name", "message", "profile_url"),
        "profile_rejected": ("student_name", "message"),
        # An admin corrected the profile (accounts.corrections): ``changes`` is a list of
        # {"field", "old", "new"} in words.
        "profile_corrected": ("student_name", "changes", "profile_url"),
        "profile_verification_overdue": (
            "student_name",
            "student_email",
            "hours_pending",
            "target_hours",
            "review_url",
        ),
        # Support tickets (accounts.tickets).
        "ticket_opened": ("ticket_id", "subject", "category", "author_name", "ticket_url"),
        "ticket_reply": ("ticket_id", "subject", "reply", "ticket_url"),
        # Rotations (rotations.services, rotations.date_changes, rotations.messaging); the
        # context comes from rotations.services.rotation_context() plus what is listed.
        "rotation_requested": (
            "student_name",
            "rotation_title",
            "weeks",
            "start",
            "respond_by",
            "rotation_url",
        ),
        "rotation_request_sent": (
            "attending_name",
            "rotation_title",
            "weeks",
            "start",
            "respond_by",
            "rotation_url",
        ),
        "rotation_request_reminder": (
            "student_name",
            "day",
            "rotation_title",
            "start",
            "respond_by",
            "rotation_url",
        ),
        "rotation_approved": (
            "attending_name",
            "rotation_title",
            "start",
            "end",
            "rotation_url",
            "housing_partners",  # [{"name", "url", "notes"}], empty for tele rotations
        ),
        "rotation_declined": ("attending_name", "start", "note", "rotation_url"),
        "rotation_withdrawn": ("student_name", "start", "rotation_url"),
        "rotation_expired": ("attending_name", "start", "rotation_url"),
        "rotation_cancelled": (
            "student_name",
            "attending_name",
            "rotation_title",
            "start",
            "note",
            "rotation_url",
        ),
        "rotation_completed": ("attending_name", "rotation_title", "rotation_url"),
        # Reviews (reviews.services): the attending is told a review is revealed.
        "review_revealed": ("student_name", "rotation_title", "rotation_url"),
        "rotation_on_hold": ("attending_name", "start", "missing", "rotation_url"),
        "rotation_on_hold_admin": (
            "student_name",
            "attending_name",
            "start",
            "missing",
            "rotation_url",
        ),
        "rotation_postponed": (
            "student_name",
            "attending_name",
            "new_start",
            "note",
            "rotation_url",
        ),
        "rotation_new_message": ("author_name", "rotation_title", "start", "rotation_url"),
        "date_change_proposed": ("student_name", "start", "new_start", "note", "rotation_url"),
        "date_change_accepted": ("attending_name", "new_start", "rotation_url"),
        "date_change_declined": ("attending_name", "start", "new_start", "note", "rotation_url"),
        # The simulated gateway's invoice (payments.sending); PayPal emails its own.
        "installment_invoice": (
            "student_name",
            "description",
            "amount",
            "application_fee",  # "" or the non-refundable fee included in the amount
            "card_fee",
            "total",
            "due_on",
            "reference_code",
            "pay_url",
        ),
        # Money (payments.invoicing, payments.reminders, payments.settlement).
        "payment_instructions": (
            "student_name",
            "invoice_kind",  # "rotation", "immigration_letter" or "lor_fee": what it is for
            "rotation_title",
            "method",
            "instructions",
            "reference_code",
            "schedule",
            "rotation_url",
        ),
        "payment_reminder": (
            "when",
            "student_name",
            "what",  # "Payment 2 for your clerkship with Dr. …", or the letter it pays for
            "invoice_kind",
            "sequence",
            "amount",
            "due_on",
            "method",
            "reference_code",
            "rotation_url",
        ),
        "payment_received": (
            "student_name",
            "amount",
            "received_on",
            "sequence",
            "reference_code",
            "invoice_paid",
            "invoice_kind",  # what was paid in full: the rotation, a letter, its fee
            "rotation_url",
        ),
        # Refunds (payments.refunds, DESIGN §15): ``lines`` say what comes back, how and
        # by when; ``kept`` is what the schedule keeps ("" when nothing).
        "rotation_refund": ("student_name", "cause", "start", "lines", "kept", "rotation_url"),
        "refund_sent": ("student_name", "amount", "method", "reference", "rotation_url"),
        # School payers (payments.school): the school's signed link, the card charge.
        "school_payment_confirmation": (
            "student_name",
            "medical_school",
            "rotation_title",
            "attending_name",
            "start",
            "end",
            "amount",
            "confirm_by",
            "confirmation_url",
        ),
        "school_refused_card_charged": (
            "reason",
            "amount",
            "card",
            "rotation_title",
            "start",
            "rotation_url",
        ),
        "school_charge_declined": (
            "reason",
            "amount",
            "card",
            "rotation_title",
            "start",
            "rotation_url",
        ),
        "school_charge_declined_admin": (
            "student_name",
            "reason",
            "amount",
            "card",
            "rotation_title",
            "start",
            "rotation_url",
        ),
        # Documents (documents.school_link, documents.review, documents.reminders).
        "school_documents_request": (
            "student_name",
            "medical_school",
            "rotation_title",
            "attending_name",
            "start",
            "end",
            "document_names",  # list of the school-issued types' names
            "upload_url",
            "upload_by",
        ),
        "document_rejected": ("student_name", "document_name", "reason", "documents_url"),
        # An attending's licence or board certification was rejected (documents.credentials).
        "credential_rejected": ("attending_name", "credential_name", "reason", "credentials_url"),
        "documents_reminder": (
            "student_name",
            "rotation_title",
            "start",
            "days_left",
            "missing",  # list of what is still to do, in the student's words
            "rotation_url",
            "documents_url",
        ),
        # Letters of recommendation (lor.services, lor.reminders). The attending's
        # address is only ever in letter_email_released (§8).
        "letter_invitation": (
            "student_name",
            "attending_name",
            "rotation_title",
            "fee",
            "request_url",
        ),
        "letter_requested": (
            "student_name",
            "rotation_title",
            "rotation_dates",
            "specialty",
            "season",
            "target_date",
            "message",
            "fee",
            "letter_url",
        ),
        "letter_accepted_fee_due": ("student_name", "attending_name", "fee", "letter_url"),
        "letter_email_released": (
            "student_name",
            "attending_name",
            "writer_email",
            "specialty",
            "target_date",
            "days_left_words",
            "letter_url",
        ),
        "letter_declined": ("student_name", "attending_name", "reason", "letter_url"),
        "letter_id_added": ("student_name", "specialty", "letter_id", "target_date", "letter_url"),
        "letter_reminder": (
            "student_name",
            "specialty",
            "letter_id",
            "target_date",
            "days_left_words",
            "letter_url",
        ),
        "letter_uploaded": ("student_name", "attending_name", "letter_url"),
    }.items()
}


class UnknownEmailType(ValueError):
    """A programming error: the template is not registered in EMAIL_TYPES."""


class MissingEmailContext(ValueError):
    """A programming error: the context lacks keys the email's templates read."""


def check_context(template: str, context: Mapping) -> None:
    """Raise unless ``template`` is a registered email type and ``context`` has every key
    its templates need."""
    try:
        required = EMAIL_TYPES[template]
    except KeyError:
        raise UnknownEmailType(
            f"Email type {template!r} is not registered in notifications/email_types.py."
        ) from None
    missing = sorted(required - set(context))
    if missing:
        raise MissingEmailContext(
            f"Email {template!r} needs {', '.join(missing)} in its context "
            "(notifications/email_types.py)."
        )
