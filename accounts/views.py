"""Browser pages for accounts: the student profile, the verification queue and support
tickets, and accounts' part of the dashboard (portal.views shows it). Thin: parse → one
service call → render (STYLE §2)."""

from allauth.account import views as allauth_views
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts import services, tickets
from accounts.choices import TicketCategory, TicketStatus, VerificationStatus
from accounts.forms import DecisionMessageForm, ReplyForm, StudentProfileForm, TicketForm
from accounts.login_limits import TOO_MANY_ATTEMPTS, retry_after_seconds, too_many_attempts_message
from accounts.models import Membership, StudentProfile, SupportTicket
from accounts.privacy import visible_student_or_404
from usdoctors.errors import DomainError
from usdoctors.views import member_required


class LoginView(allauth_views.LoginView):
    """allauth's login page, answering 429 with ``Retry-After`` once the account or the
    address is out of attempts (``accounts.login_limits``)."""

    def form_invalid(self, form):
        if not form.has_error(NON_FIELD_ERRORS, TOO_MANY_ATTEMPTS):
            return super().form_invalid(form)
        retry_after = retry_after_seconds(self.request, form.data.get("login", ""))
        form.errors[NON_FIELD_ERRORS] = form.error_class([too_many_attempts_message(retry_after)])
        response = super().form_invalid(form)
        response.status_code = 429
        response["Retry-After"] = str(retry_after)
        return response


def dashboard_accounts(membership: Membership) -> dict:
    """What the dashboards show about accounts (portal.views puts the dashboard together):
    admins their queues, students their profile's progress."""
    if membership.is_admin:
        return {
            "pending_count": services.verification_queue(membership.organization).count(),
            "overdue_count": services.overdue_count(membership.organization),
            "open_ticket_count": SupportTicket.objects.filter(status=TicketStatus.OPEN).count(),
        }
    if membership.is_student:
        return {
            "profile": membership.profile,
            "missing_fields": membership.profile.missing_fields(),
        }
    return {}


# --- The student's own profile ------------------------------------------------------


@member_required("student")
def profile(request):
    membership = request.membership
    instance = membership.profile
    editable = membership.verification_status in services.EDITABLE_STATES
    form = StudentProfileForm(request.POST or None, request.FILES or None, instance=instance)
    if request.method == "POST":
        try:
            services.ensure_profile_editable(membership)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("profile")
        if form.is_valid():
            with transaction.atomic():
                form.save()
                if "submit" in request.POST:
                    try:
                        services.submit_profile(membership)
                    except DomainError as error:
                        messages.warning(request, f"Saved, not submitted yet. {error.message}")
                        return redirect("profile")
                    messages.success(
                        request,
                        "Submitted. An admin will verify your profile, usually within "
                        f"{request.organization.verification_target_hours} hours.",
                    )
                    return redirect("dashboard")
            messages.success(request, "Your profile is saved.")
            return redirect("profile")
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "editable": editable,
            "reviews": membership.reviews.select_related("by__user"),
            "missing_fields": instance.missing_fields(),
        },
    )


# --- Viewing a student (privacy rule, DESIGN §3) ------------------------------------


def _visible_profile(request, profile_id: int) -> StudentProfile:
    profile = get_object_or_404(
        StudentProfile.objects.select_related("membership__user"), pk=profile_id
    )
    visible_student_or_404(request.membership, profile.membership)
    return profile


@member_required()
def student_detail(request, profile_id: int):
    profile = _visible_profile(request, profile_id)
    return render(request, "accounts/student_detail.html", {"profile": profile})


@member_required()
def student_cv(request, profile_id: int):
    profile = _visible_profile(request, profile_id)
    if not profile.cv:
        raise Http404("No CV uploaded.")
    return FileResponse(
        profile.cv.open("rb"),
        content_type="application/pdf",
        filename=f"cv-{profile.pk}.pdf",
    )


# --- Verification queue (admins) ----------------------------------------------------


@member_required("admin")
def verification_queue(request):
    queue = list(services.verification_queue(request.organization))
    now = timezone.now()
    rows = [
        {
            "membership": membership,
            "age": services.pending_age(membership, now),
            "overdue": services.is_overdue(membership, now),
        }
        for membership in queue
    ]
    return render(
        request,
        "accounts/verification_queue.html",
        {"rows": rows, "target_hours": request.organization.verification_target_hours},
    )


@member_required("admin")
def verification_review(request, profile_id: int):
    profile = get_object_or_404(
        StudentProfile.objects.select_related("membership__user"), pk=profile_id
    )
    return render(
        request,
        "accounts/verification_review.html",
        {
            "profile": profile,
            # Not "membership": that names the viewer (the navigation reads it).
            "student": profile.membership,
            "reviews": profile.membership.reviews.select_related("by__user"),
            "is_pending": profile.membership.verification_status == VerificationStatus.PENDING,
            "info_form": DecisionMessageForm(prefix="info"),
            "reject_form": DecisionMessageForm(prefix="reject"),
        },
    )


# decision → (service call, the form field carrying its text, success message)
DECISIONS = {
    "verify": (lambda m, by, text: services.verify_profile(m, by=by), None, "Verified {name}."),
    "request-info": (
        lambda m, by, text: services.request_profile_info(m, by=by, message=text),
        "info-message",
        "Asked {name} for more information.",
    ),
    "reject": (
        lambda m, by, text: services.reject_profile(m, by=by, reason=text),
        "reject-message",
        "Rejected {name}'s profile.",
    ),
}


@require_POST
@member_required("admin")
def verification_decide(request, profile_id: int, decision: str):
    if decision not in DECISIONS:
        raise Http404
    profile = get_object_or_404(StudentProfile, pk=profile_id)
    decide, text_field, success = DECISIONS[decision]
    text = request.POST.get(text_field, "") if text_field else ""
    try:
        decide(profile.membership, request.membership, text)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("verification_review", profile_id=profile.pk)
    messages.success(request, success.format(name=profile.membership.display_name))
    return redirect("verification_queue")


# --- Support tickets ----------------------------------------------------------------


def _ticket_list(membership: Membership):
    tickets_qs = SupportTicket.objects.select_related("author__user", "author__profile")
    if not membership.is_admin:
        tickets_qs = tickets_qs.filter(author=membership)
    return tickets_qs


@member_required()
def ticket_list(request):
    return render(
        request,
        "accounts/ticket_list.html",
        {"tickets": _ticket_list(request.membership)[:200]},
    )


@member_required()
def ticket_new(request):
    initial = {"category": request.GET.get("category", TicketCategory.GENERAL)}
    if initial["category"] == TicketCategory.EMAIL_CHANGE:
        initial["subject"] = "Please change my login email"
    form = TicketForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = tickets.open_ticket(request.membership, **form.cleaned_data)
        except DomainError as error:
            form.add_error(error.field, error.message)
        else:
            messages.success(request, "Your ticket is open; we will answer by email.")
            return redirect("ticket_detail", ticket_id=ticket.pk)
    return render(request, "accounts/ticket_new.html", {"form": form})


@member_required()
def ticket_detail(request, ticket_id: int):
    ticket = get_object_or_404(_ticket_list(request.membership), pk=ticket_id)
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tickets.reply_to_ticket(
                ticket, author=request.membership, message=form.cleaned_data["message"]
            )
        except DomainError as error:
            form.add_error("message", error.message)
        else:
            messages.success(request, "Reply sent.")
            return redirect("ticket_detail", ticket_id=ticket.pk)
    return render(
        request,
        "accounts/ticket_detail.html",
        {
            "ticket": ticket,
            "replies": ticket.replies.select_related("author__user"),
            "form": form,
            "can_approve": request.membership.is_admin
            and ticket.category == TicketCategory.EMAIL_CHANGE
            and ticket.status in (TicketStatus.OPEN, TicketStatus.ANSWERED),
        },
    )


@require_POST
@member_required("admin")
def ticket_approve(request, ticket_id: int):
    ticket = get_object_or_404(SupportTicket, pk=ticket_id)
    try:
        tickets.approve_email_change(ticket, by=request.membership, request=request)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Approved. A confirmation link went to {ticket.new_email}.")
    return redirect("ticket_detail", ticket_id=ticket.pk)
