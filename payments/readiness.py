"""The money part of "ready to start" (DESIGN §5: paid as due — or school confirmed).

``payment_readiness`` is registered with ``rotations.readiness`` in
PaymentsConfig.ready(). The rule: every installment of the rotation's invoice that falls
due on or before the start date must be paid (every plan's last installment is due the
Friday before the start, so in practice all of them). When the school pays, the school's
confirmation (payments.school.school_confirmed) counts instead.
"""

from __future__ import annotations

from payments.models import Installment, InstallmentStatus, InvoiceKind
from rotations.choices import Payer
from rotations.models import Rotation
from rotations.readiness import ReadinessItem

OPEN = (InstallmentStatus.PENDING, InstallmentStatus.SENT)


def payment_readiness(rotation: Rotation) -> list[ReadinessItem]:
    """One ``payment_due`` item per installment still unpaid that was due by the start,
    naming the amount charged and carrying the due date as deadline."""
    if rotation.payer == Payer.SCHOOL:
        from payments.school import school_confirmed

        if school_confirmed(rotation):
            return []
    unpaid = Installment.objects.filter(
        invoice__rotation=rotation,
        invoice__kind=InvoiceKind.ROTATION,
        status__in=OPEN,
        due_on__lte=rotation.start,
    ).order_by("sequence")
    return [
        ReadinessItem(
            code="payment_due",
            message=f"Pay installment {installment.sequence} (${installment.charged:,.2f}).",
            deadline=installment.due_on,
        )
        for installment in unpaid
    ]
