"""Where to stay: the organization's housing partners for a rotation (DESIGN §2, §5).

A student sees the partners for an in-person rotation once it is booked — approved, on
hold before its start, or in progress — on the rotation's page and in the approval
email. Tele rotations, requests still waiting and rotations that ended or were called
off show none. Staff keep the list on the organization's page in /admin/
(``usdoctors.models.HousingPartner``).
"""

from __future__ import annotations

from rotations.choices import Mode, RotationStatus
from rotations.models import Rotation
from usdoctors.models import HousingPartner

BOOKED_STATUSES = (RotationStatus.APPROVED, RotationStatus.ON_HOLD, RotationStatus.IN_PROGRESS)


def shows_housing(rotation: Rotation) -> bool:
    return rotation.mode == Mode.IN_PERSON and rotation.status in BOOKED_STATUSES


def housing_partners_for(rotation: Rotation) -> list[dict]:
    """The partners to show for ``rotation`` as JSON (name, url, notes), in the
    organization's order; empty when the rotation shows none (module docstring)."""
    if not shows_housing(rotation):
        return []
    return list(
        HousingPartner.objects.filter(organization_id=rotation.organization_id).values(
            "name", "url", "notes"
        )
    )


def housing_panel(request, rotation: Rotation):
    """The rotation page's "Where to stay" section, for the rotation's student
    (``rotations.panels``)."""
    membership = getattr(request, "membership", None)
    if membership is None or rotation.student_id != membership.pk:
        return None
    partners = housing_partners_for(rotation)
    if not partners:
        return None
    return "rotations/_housing_panel.html", {"housing_partners": partners}
