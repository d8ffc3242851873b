"""Admin pages for attendings: the NPI check (DESIGN §4)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from rotations.attendings import verify_npi
from rotations.models import AttendingProfile
from usdoctors.errors import DomainError
from usdoctors.views import member_required


def attendings_page(request, *, refused: int | None = None, error: str = "", status=200):
    attendings = AttendingProfile.objects.select_related("membership__user").order_by(
        "npi_verified_at", "display_name"
    )
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
