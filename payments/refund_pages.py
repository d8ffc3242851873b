"""Browser pages for refunds (DESIGN §15): the rotation page's "Cancellation and
refunds" section (the schedule and what applies today before a cancellation; what comes
back, how and by when after one), and the admins' refunds page, where open payout tasks
are completed with a reference. Lists cost a fixed number of queries."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from payments import refunds
from payments.cancellation_schedule import policy
from payments.refund_models import Refund, RefundStatus
from rotations.choices import RotationStatus
from usdoctors.errors import DomainError, NotAllowed
from usdoctors.views import member_required

POLICY_STATUSES = (RotationStatus.REQUESTED, RotationStatus.APPROVED, RotationStatus.ON_HOLD)


def rotation_refund_panel(request, rotation):
    """For the student and admins: before cancellation the schedule (and what the
    student would get back today); after it, each refund with its method, status and
    date. Attendings see none of the student's money."""
    membership = request.membership
    if rotation.student_id != membership.pk and not membership.is_admin:
        return None
    rows = list(Refund.objects.filter(rotation=rotation).order_by("created_at", "pk"))
    show_policy = rotation.status in POLICY_STATUSES
    if not (rows or show_policy):
        return None
    return (
        "payments/_rotation_refunds.html",
        {
            "rotation": rotation,
            "refunds": rows,
            "policy": policy(
                rotation.organization,
                rotation.start,
                timezone.localdate(),
                application_fee=rotation.application_fee,
            )
            if show_policy
            else None,
            "is_admin": membership.is_admin,
        },
    )


class PayoutForm(forms.Form):
    reference = forms.CharField(max_length=100, label="Zelle or wire reference")


def refunds_page(request, *, bound=None, bound_id=None, error: str = "", status: int = 200):
    payouts = list(refunds.open_payouts()[:200])
    for payout in payouts:
        payout.form = bound if payout.pk == bound_id else PayoutForm(prefix=f"payout-{payout.pk}")
    unsent = (
        Refund.objects.filter(
            payment__isnull=False, status__in=(RefundStatus.PENDING, RefundStatus.FAILED)
        )
        .select_related("student__user", "student__profile", "invoice")
        .order_by("created_at", "pk")[:200]
    )
    recent = (
        Refund.objects.filter(status__in=(RefundStatus.COMPLETED, RefundStatus.PROCESSING))
        .select_related("student__user", "student__profile", "invoice", "completed_by__user")
        .order_by("-created_at", "-pk")[:50]
    )
    return render(
        request,
        "payments/refunds.html",
        {"payouts": payouts, "unsent": unsent, "recent": recent, "error": error},
        status=status,
    )


@member_required("admin")
def refund_list(request):
    """Open payout tasks (oldest first), card refunds not yet through, and the latest."""
    return refunds_page(request)


@require_POST
@member_required("admin")
def complete_payout(request, refund_id: int):
    refund = get_object_or_404(Refund, pk=refund_id)
    form = PayoutForm(request.POST, prefix=f"payout-{refund.pk}")
    if not form.is_valid():
        return refunds_page(
            request,
            bound=form,
            bound_id=refund.pk,
            error="Enter the Zelle or wire reference of the payout.",
            status=400,
        )
    try:
        refund, changed = refunds.complete_payout(
            refund, by=request.membership, reference=form.cleaned_data["reference"]
        )
    except NotAllowed:
        raise
    except DomainError as error:
        return refunds_page(
            request, bound=form, bound_id=refund.pk, error=error.message, status=error.status_code
        )
    if changed:
        messages.success(request, f"Payout of ${refund.amount:,.2f} recorded; we told the student.")
    return redirect("refund_list")
