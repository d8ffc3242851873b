"""Support tickets, including the login-email change (DESIGN §3).

An ``email_change`` ticket carries the new address. An admin approves it; the new
address is then sent a confirmation link and becomes the login only once confirmed
(``complete_email_change``, called when allauth reports the confirmation).
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db import transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.choices import TicketCategory, TicketStatus
from accounts.models import Membership, SupportTicket, TicketReply, User
from notifications.services import notify, notify_admins
from usdoctors.errors import Conflict, Invalid, NotAllowed
from usdoctors.links import organization_url


def _validate_new_email(user: User, new_email: str) -> str:
    new_email = (new_email or "").strip().lower()
    if not new_email:
        raise Invalid("Give the new email address.", code="new_email_required", field="new_email")
    if new_email == user.email.lower():
        raise Invalid("That is already your login email.", code="same_email", field="new_email")
    with scopes_disabled():  # logins are global: the address must be free on the platform
        taken = (
            User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists()
            or EmailAddress.objects.filter(email__iexact=new_email).exclude(user=user).exists()
        )
    if taken:
        raise Invalid(
            "That email address already belongs to another account.",
            code="email_taken",
            field="new_email",
        )
    return new_email


@transaction.atomic
def open_ticket(
    author: Membership, *, category: str, subject: str, message: str, new_email: str = ""
) -> SupportTicket:
    """Any member may open a ticket; the organization's admins are emailed."""
    if category not in TicketCategory.values:
        raise Invalid("Choose a category.", code="invalid_category", field="category")
    if not (subject or "").strip() or not (message or "").strip():
        raise Invalid("A ticket needs a subject and a message.", code="ticket_empty")
    if category == TicketCategory.EMAIL_CHANGE:
        new_email = _validate_new_email(author.user, new_email)
    else:
        new_email = ""
    ticket = SupportTicket.objects.create(
        organization=author.organization,
        author=author,
        category=category,
        subject=subject.strip(),
        message=message.strip(),
        new_email=new_email,
    )
    notify_admins(
        author.organization,
        "ticket_opened",
        _ticket_context(ticket),
        dedupe_key=f"ticket-opened:{ticket.pk}",
    )
    return ticket


def can_see_ticket(viewer: Membership | None, ticket: SupportTicket) -> bool:
    return viewer is not None and (viewer.is_admin or ticket.author_id == viewer.pk)


# Admins work the list from the top: tickets waiting for them (open), then those waiting
# for the asker (answered, an approved email change), then closed ones.
STATUS_ORDER = {
    TicketStatus.OPEN: 0,
    TicketStatus.ANSWERED: 1,
    TicketStatus.APPROVED: 1,
    TicketStatus.CLOSED: 2,
}


def visible_tickets(viewer: Membership) -> QuerySet[SupportTicket]:
    """The tickets a member may see: admins every ticket of the organization, open ones
    (waiting for an admin) first, then answered, then closed, each group most recently
    active first; anyone else only their own, newest first."""
    tickets = SupportTicket.objects.select_related("author__user", "author__profile")
    if not viewer.is_admin:
        return tickets.filter(author=viewer).order_by("-created_at", "-pk")
    waiting = Case(
        *(When(status=status, then=Value(rank)) for status, rank in STATUS_ORDER.items()),
        default=Value(1),
        output_field=IntegerField(),
    )
    return tickets.annotate(waiting=waiting).order_by("waiting", "-updated_at", "-pk")


def closing_refusal(viewer: Membership | None, ticket: SupportTicket) -> str:
    """Why ``viewer`` cannot close ``ticket`` now, or "" when they can (``close_ticket``)."""
    if not can_see_ticket(viewer, ticket):
        return "You cannot close this ticket."
    if ticket.status == TicketStatus.CLOSED:
        return "This ticket is already closed."
    if ticket.category == TicketCategory.EMAIL_CHANGE and ticket.status == TicketStatus.APPROVED:
        return "This email change is approved; it closes once the new address is confirmed."
    return ""


def can_close_ticket(viewer: Membership | None, ticket: SupportTicket) -> bool:
    return not closing_refusal(viewer, ticket)


@transaction.atomic
def close_ticket(ticket: SupportTicket, *, by: Membership) -> SupportTicket:
    """The asker or one of the organization's admins closes a ticket: status ``closed``,
    with when and by whom. A closed ticket takes no more replies (a new question is a new
    ticket). An approved email change is not closed by hand: it closes itself once the
    new address is confirmed (``complete_email_change``), and closing it first would
    leave the confirmation link without effect."""
    if not can_see_ticket(by, ticket):
        raise NotAllowed(closing_refusal(by, ticket), code="not_ticket_participant")
    ticket = SupportTicket.objects.select_for_update().get(pk=ticket.pk)
    refusal = closing_refusal(by, ticket)
    if refusal:
        code = "ticket_closed" if ticket.status == TicketStatus.CLOSED else "email_change_pending"
        raise Conflict(refusal, code=code)
    ticket.status = TicketStatus.CLOSED
    ticket.closed_at = timezone.now()
    ticket.closed_by = by
    ticket.save(update_fields=["status", "closed_at", "closed_by", "updated_at"])
    return ticket


@transaction.atomic
def reply_to_ticket(ticket: SupportTicket, *, author: Membership, message: str) -> TicketReply:
    """The ticket's author or an admin replies; the other side is emailed."""
    if not can_see_ticket(author, ticket):
        raise NotAllowed("You cannot reply to this ticket.")
    if not (message or "").strip():
        raise Invalid("Write a reply.", code="reply_empty", field="message")
    if ticket.status == TicketStatus.CLOSED:
        raise Conflict("This ticket is closed; open a new one.", code="ticket_closed")
    reply = TicketReply.objects.create(
        organization=ticket.organization, ticket=ticket, author=author, message=message.strip()
    )
    context = {**_ticket_context(ticket), "reply": reply.message}
    key = f"ticket-reply:{reply.pk}"
    if author.is_admin and author.pk != ticket.author_id:
        ticket.status = TicketStatus.ANSWERED
        notify(
            ticket.organization, ticket.author.user.email, "ticket_reply", context, dedupe_key=key
        )
    else:
        ticket.status = TicketStatus.OPEN
        notify_admins(ticket.organization, "ticket_reply", context, dedupe_key=key)
    ticket.save(update_fields=["status", "updated_at"])
    return reply


@transaction.atomic
def approve_email_change(ticket: SupportTicket, *, by: Membership, request) -> SupportTicket:
    """An admin approves an email change; the new address gets a confirmation link and
    becomes the login only once confirmed."""
    if not by.is_admin:
        raise NotAllowed("Only this organization's admins can approve tickets.")
    ticket = (
        SupportTicket.objects.select_for_update().select_related("author__user").get(pk=ticket.pk)
    )
    if ticket.category != TicketCategory.EMAIL_CHANGE:
        raise Conflict("Only email-change tickets need approval.", code="not_email_change")
    if ticket.status in (TicketStatus.APPROVED, TicketStatus.CLOSED):
        raise Conflict("This ticket was already decided.", code="ticket_decided")
    user = ticket.author.user
    new_email = _validate_new_email(user, ticket.new_email)
    address, _ = EmailAddress.objects.get_or_create(
        user=user, email=new_email, defaults={"verified": False, "primary": False}
    )
    ticket.status = TicketStatus.APPROVED
    ticket.save(update_fields=["status", "updated_at"])
    TicketReply.objects.create(
        organization=ticket.organization,
        ticket=ticket,
        author=by,
        message=f"Approved. We sent a confirmation link to {new_email}; "
        "it becomes your login once you open it.",
    )
    # The confirmation is an outbox row written in this transaction (DESIGN §9), delivered
    # after commit. Writing it from an on_commit hook instead could lose it for good (a crash
    # after the commit, and the ticket cannot be approved twice) and, run outside the
    # request, allauth's mail bypassed the outbox entirely.
    address.send_confirmation(request, signup=False)
    return ticket


def complete_email_change(address: EmailAddress) -> bool:
    """A confirmed address from an approved email-change ticket becomes the login;
    the old address is removed so it can no longer sign in."""
    with scopes_disabled():  # the login is global; the ticket may be in any organization
        ticket = (
            SupportTicket.objects.filter(
                author__user=address.user,
                category=TicketCategory.EMAIL_CHANGE,
                status=TicketStatus.APPROVED,
                new_email__iexact=address.email,
            )
            .order_by("-created_at")
            .first()
        )
        if ticket is None:
            return False
        with transaction.atomic():
            address.set_as_primary()
            EmailAddress.objects.filter(user=address.user).exclude(pk=address.pk).delete()
            ticket.status = TicketStatus.CLOSED
            ticket.closed_at = timezone.now()
            ticket.save(update_fields=["status", "closed_at", "updated_at"])
    return True


def _ticket_context(ticket: SupportTicket) -> dict:
    return {
        "ticket_id": ticket.pk,
        "subject": ticket.subject,
        "category": ticket.get_category_display(),
        "author_name": ticket.author.display_name,
        "ticket_url": organization_url(ticket.organization, f"/support/{ticket.pk}/"),
    }
