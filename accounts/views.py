"""Browser pages for accounts: the student profile, the verification queue and support
tickets, and accounts' part of the dashboard (portal.views shows it). Thin: parse → one
service call → render (STYLE §2)."""

from allauth.account import views as allauth_views
from allauth.account.utils import perform_login
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts import corrections, services, tickets
from accounts.choices import TicketCategory, TicketStatus, VerificationStatus
from accounts.forms import (
    DecisionMessageForm,
    ProfileCorrectionForm,
    ReplyForm,
    StudentProfileForm,
    TicketForm,
)
from accounts.login_limits import TOO_MANY_ATTEMPTS, retry_after_seconds, too_many_attempts_message
from accounts.memberships import memberships_of_user
from accounts.models import Membership, StudentProfile, SupportTicket
from accounts.privacy import visible_student_or_404
from usdoctors.errors import DomainError
from usdoctors.links import organization_url
from usdoctors.models import Organization
from usdoctors.tenancy import current_membership
from usdoctors.uploads import private_download
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


class ConfirmEmailView(allauth_views.ConfirmEmailView):
    """allauth's email confirmation, which also logs a new account in wherever the link
    is opened (``services.logs_in_on_confirmation``), then sends the user to their next
    step (``services.next_step_path``: the profile, for a new student)."""

    def post(self, *args, **kwargs):
        try:
            confirmation = self.get_object()
        except Http404:
            return super().post(*args, **kwargs)
        email_address = confirmation.email_address
        logs_in = services.logs_in_on_confirmation(email_address)
        response = super().post(*args, **kwargs)
        email_address.refresh_from_db()
        if not email_address.verified:
            return response
        user = email_address.user
        if not self.request.user.is_authenticated and logs_in:
            perform_login(self.request, user, email_verification="mandatory")
        if self.request.user.is_authenticated and self.request.user.pk == user.pk:
            if self.get_next_url():
                return response
            self.request._membership_cache = None
            return redirect(services.next_step_path(current_membership(self.request)))
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


# --- Joining this organization, the staff page, the account page (DESIGN §2, §3) ----------


def _with_site_links(memberships: list[Membership]) -> list[dict]:
    return [
        {"membership": membership, "url": organization_url(membership.organization, "/dashboard/")}
        for membership in memberships
    ]


@login_required
def join(request):
    """Where a signed-in user who is not a member here lands: it says where the account
    belongs and offers to join this organization as a student (``services.join_organization``).
    Members go to their dashboard, platform staff to the staff page."""
    membership = current_membership(request)
    if request.method != "POST":
        if membership is not None:
            return redirect("dashboard")
        if request.user.is_staff:
            return redirect("staff_home")
    status = 200
    if request.method == "POST":
        try:
            services.join_organization(request.user, request.organization)
        except DomainError as error:
            messages.error(request, error.message)
            status = error.status_code
        else:
            messages.success(
                request,
                f"You joined {request.organization.name} as a student. Complete your profile "
                "and submit it: an admin verifies it, usually within "
                f"{request.organization.verification_target_hours} hours.",
            )
            return redirect("profile")
    return render(
        request,
        "accounts/join.html",
        {"elsewhere": _with_site_links(memberships_of_user(request.user))},
        status=status,
    )


@login_required
def staff_home(request):
    """Platform staff on an organization's site where they hold no membership: the way
    to the staff console (``/admin/``) and to every organization's site. Others: 404."""
    if not request.user.is_staff:
        raise Http404("This page is for platform staff.")
    organizations = [
        {"organization": organization, "url": organization_url(organization)}
        for organization in Organization.objects.filter(is_active=True).order_by("name")
    ]
    return render(request, "accounts/staff.html", {"organizations": organizations})


@login_required
def account(request):
    """The signed-in user's account: password and login email, two-factor sign-in, and
    every membership (organization, role, status) with a link to its site."""
    return render(
        request,
        "accounts/account.html",
        {"memberships": _with_site_links(memberships_of_user(request.user))},
    )


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
    return private_download(
        profile.cv,
        filename=f"cv-{profile.pk}.pdf",
        content_type="application/pdf",
        missing="No CV uploaded.",
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


def review_page(request, profile: StudentProfile, *, correction=None, status=200):
    student = profile.membership
    return render(
        request,
        "accounts/verification_review.html",
        {
            "profile": profile,
            # Not "membership": base.html reads that name as the viewer's own membership.
            "student": student,
            "reviews": student.reviews.select_related("by__user"),
            "is_pending": student.verification_status == VerificationStatus.PENDING,
            "info_form": DecisionMessageForm(prefix="info"),
            "reject_form": DecisionMessageForm(prefix="reject"),
            "correction_form": correction
            or ProfileCorrectionForm(instance=profile, prefix="correct"),
        },
        status=status,
    )


def _reviewed_profile(profile_id: int) -> StudentProfile:
    return get_object_or_404(
        StudentProfile.objects.select_related("membership__user"), pk=profile_id
    )


@member_required("admin")
def verification_review(request, profile_id: int):
    return review_page(request, _reviewed_profile(profile_id))


@require_POST
@member_required("admin")
def profile_correct(request, profile_id: int):
    """An admin corrects a student's profile fields (accounts.corrections)."""
    profile = _reviewed_profile(profile_id)
    # The form validates a copy: a refused correction leaves the page showing the
    # profile as stored, next to the form with what was typed.
    form = ProfileCorrectionForm(
        request.POST, instance=_reviewed_profile(profile_id), prefix="correct"
    )
    if not form.is_valid():
        return review_page(request, profile, correction=form, status=400)
    try:
        changes = corrections.correct_profile(
            profile, by=request.membership, values=form.cleaned_data
        )
    except DomainError as error:
        form.add_error(error.field, error.message)
        return review_page(request, profile, correction=form, status=error.status_code)
    if changes:
        fields = ", ".join(change["field"] for change in changes)
        messages.success(
            request, f"Corrected {fields}. We emailed {profile.membership.display_name}."
        )
    else:
        messages.info(request, "Nothing changed.")
    return redirect("verification_review", profile_id=profile.pk)


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


@member_required()
def ticket_list(request):
    membership = request.membership
    return render(
        request,
        "accounts/ticket_list.html",
        {
            "tickets": tickets.visible_tickets(membership)[:200],
            "admin_view": membership.is_admin,
        },
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


def ticket_page(request, ticket: SupportTicket, *, form=None, error: str = "", status=200):
    return render(
        request,
        "accounts/ticket_detail.html",
        {
            "ticket": ticket,
            "replies": ticket.replies.select_related("author__user"),
            "form": form or ReplyForm(),
            "action_error": error,
            "can_approve": request.membership.is_admin
            and ticket.category == TicketCategory.EMAIL_CHANGE
            and ticket.status in (TicketStatus.OPEN, TicketStatus.ANSWERED),
            "can_close": tickets.can_close_ticket(request.membership, ticket),
        },
        status=status,
    )


@member_required()
def ticket_detail(request, ticket_id: int):
    ticket = get_object_or_404(tickets.visible_tickets(request.membership), pk=ticket_id)
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
    return ticket_page(request, ticket, form=form)


@require_POST
@member_required()
def ticket_close(request, ticket_id: int):
    # Someone else's ticket is not visible: 404 (DESIGN §2), never a hint that it exists.
    ticket = get_object_or_404(tickets.visible_tickets(request.membership), pk=ticket_id)
    try:
        tickets.close_ticket(ticket, by=request.membership)
    except DomainError as error:
        return ticket_page(request, ticket, error=error.message, status=error.status_code)
    messages.success(request, "The ticket is closed.")
    return redirect("ticket_detail", ticket_id=ticket.pk)


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
