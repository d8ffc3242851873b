"""Admin checks on attendings (DESIGN §4, §15): the NPI is shown to students with a
"verified" mark once it is checked — against the NPPES registry (rotations.npi_checks),
or by an admin by hand (``verify_npi``, for when the registry is unreachable), and the
mark says which."""

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership
from rotations.choices import NpiVerifiedBy
from rotations.models import AttendingProfile
from usdoctors.errors import Conflict, Invalid, NotAllowed

REGISTRY_NOT_CHECKED = (
    "Look the NPI up in the NPI registry first, then tick “I checked the registry” to mark it "
    "verified."
)


@transaction.atomic
def verify_npi(
    attending: AttendingProfile, *, by: Membership, registry_checked: bool
) -> AttendingProfile:
    """An admin marks the attending's NPI verified, confirming (``registry_checked``) that
    they looked it up in the public NPPES registry (``AttendingProfile.npi_registry_url``)
    and it matches the attending: without that confirmation the mark is refused (400)
    and nothing changes. Marking again keeps the first verification time."""
    if not by.is_admin:
        raise NotAllowed("Only this organization's admins can verify NPIs.", code="not_admin")
    attending = AttendingProfile.objects.select_for_update().get(pk=attending.pk)
    if not attending.npi:
        raise Conflict("This attending has not entered an NPI yet.", code="no_npi")
    if not registry_checked:
        raise Invalid(REGISTRY_NOT_CHECKED, code="registry_not_checked", field="registry_checked")
    if attending.npi_verified_at is None:
        attending.npi_verified_at = attending.npi_checked_at = timezone.now()
        attending.npi_verified_by = NpiVerifiedBy.MANUAL
        attending.save(update_fields=["npi_verified_at", "npi_verified_by", "npi_checked_at"])
    return attending


def clear_npi_check_if_changed(attending: AttendingProfile, *, old_npi: str, new_npi: str) -> None:
    """The "verified by admins" mark belongs to the number an admin checked: an attending
    who changes the NPI loses the mark until an admin checks the new one."""
    if (old_npi or "") != (new_npi or ""):
        attending.npi_verified_at = attending.npi_checked_at = None
        attending.npi_verified_by = ""
