"""Admin checks on attendings (DESIGN §4): the NPI is shown to students with a
"verified by admins" mark once an admin has checked it."""

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership
from rotations.models import AttendingProfile
from usdoctors.errors import Conflict, NotAllowed


@transaction.atomic
def verify_npi(attending: AttendingProfile, *, by: Membership) -> AttendingProfile:
    """An admin confirms the attending's NPI (checked against the NPPES registry)."""
    if not by.is_admin:
        raise NotAllowed("Only this organization's admins can verify NPIs.", code="not_admin")
    attending = AttendingProfile.objects.select_for_update().get(pk=attending.pk)
    if not attending.npi:
        raise Conflict("This attending has not entered an NPI yet.", code="no_npi")
    if attending.npi_verified_at is None:
        attending.npi_verified_at = timezone.now()
        attending.save(update_fields=["npi_verified_at"])
    return attending


def clear_npi_check_if_changed(attending: AttendingProfile, *, old_npi: str, new_npi: str) -> None:
    """The "verified by admins" mark belongs to the number an admin checked: an attending
    who changes the NPI loses the mark until an admin checks the new one."""
    if (old_npi or "") != (new_npi or ""):
        attending.npi_verified_at = None
