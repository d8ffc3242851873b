"""Admin pages for attendings: the NPI check (DESIGN §4, §15) — against the NPPES
registry (rotations.npi_checks), or marked by hand when the registry is unreachable."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from rotations import npi_checks
from rotations.attendings import verify_npi
from rotations.models import AttendingProfile
from usdoctors.errors import DomainError
from usdoctors.views import member_required


def attendings_page(request, *, refused: int | None = None, error: str = "", status=200):
    attendings = list(
        AttendingProfile.objects.select_related("membership__user").order_by(
            "npi_verified_at", "display_name"
        )
    )
    checks = npi_checks.last_checks(attendings)
    for attending in attendings:
        attending.last_npi_check = checks.get(attending.pk)
    return render(
        request,
        "rotations/manage_attendings.html",
        {"attendings": attendings, "refused_id": refused, "refusal": error},
        status=status,
    )


@member_required("admin")
def attending_list(request):
    return attendings_page(request)


@require_POST
@member_required("admin")
def attending_verify_npi(request, attending_id: int):
    attending = get_object_or_404(AttendingProfile, pk=attending_id)
    try:
        verify_npi(
            attending,
            by=request.membership,
            registry_checked=request.POST.get("registry_checked") == "yes",
        )
    except DomainError as error:
        return attendings_page(
            request, refused=attending.pk, error=error.message, status=error.status_code
        )
    messages.success(request, f"NPI of {attending.display_name} marked verified.")
    return redirect("manage_attendings")


@require_POST
@member_required("admin")
def attending_check_npi(request, attending_id: int):
    """ "Check in registry": the registry is asked after commit; the page shows the
    answer once it is in (rotations.npi_checks)."""
    attending = get_object_or_404(AttendingProfile, pk=attending_id)
    try:
        npi_checks.request_check(attending, by=request.membership)
    except DomainError as error:
        return attendings_page(
            request, refused=attending.pk, error=error.message, status=error.status_code
        )
    messages.success(
        request,
        f"Asked the NPPES registry about {attending.display_name}'s NPI; the answer "
        "appears here in a moment (reload the page).",
    )
    return redirect("manage_attendings")
