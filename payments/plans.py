"""Which payment plan a rotation may use (DESIGN §6), checked when it is requested.

Payments owns the plan rule; rotations only announces the request (rotations.lifecycle,
STYLE §7). ``PaymentsConfig.ready()`` subscribes ``refuse_a_plan_not_allowed`` to the
``requested`` event: it runs inside the request's transaction, after the rotation row is
written, and its ``Invalid`` rolls the request back and reaches the student as a 400 on
the ``plan`` field, exactly as when rotations checked it itself.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from rotations.choices import Plan
from rotations.models import Rotation
from usdoctors.errors import Invalid


def check_plan_allowed(organization, plan: str, start: date, *, on: date | None = None) -> None:
    """§6: the plan must be one we offer (full, two_payment, weekly), else 400
    ``plan_invalid``; weekly installments need the start at least the organization's
    ``weekly_plan_min_lead_days`` (21 by default) after approval, else 400
    ``plan_not_allowed``. At request time, ``on`` is today."""
    if plan not in Plan.values:
        raise Invalid("Choose a payment plan.", code="plan_invalid", field="plan")
    lead = organization.weekly_plan_min_lead_days
    if plan == Plan.WEEKLY and (start - (on or timezone.localdate())).days < lead:
        raise Invalid(
            f"Weekly installments need the rotation to start at least {lead} days from now; "
            "choose full or two payments.",
            code="plan_not_allowed",
            field="plan",
        )


def refuse_a_plan_not_allowed(rotation: Rotation, *, by) -> None:
    """Lifecycle ``requested`` handler: the request's plan must be allowed today."""
    check_plan_allowed(rotation.organization, rotation.plan, rotation.start)
