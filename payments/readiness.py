"""The money part of "ready to start" (DESIGN §5: paid as due — or school confirmed).

``payment_readiness`` is registered with ``rotations.readiness`` in
PaymentsConfig.ready(). The rule: every installment of the rotation's invoice that falls
due on or before the start date must be paid (every plan's last installment is due the
Friday before the start, so in practice all of them). When the school pays, the school's
confirmation (as ``payments.school.school_confirmed`` reads it) counts instead.

It is a batch check: a batch of rotations is judged in two queries whatever its size
(the school confirmations of the school-paid ones, the unpaid installments of the rest).
"""

from __future__ import annotations

from django.db.models import F

from payments.models import (
    Installment,
    InstallmentStatus,
    InvoiceKind,
    SchoolDecision,
    SchoolPayment,
)
from rotations.choices import Payer
from rotations.models import Rotation
from rotations.readiness import Answers, ReadinessItem, batch_check

OPEN = (InstallmentStatus.PENDING, InstallmentStatus.SENT)


@batch_check
def payment_readiness(rotations: list[Rotation]) -> Answers:
    """One ``payment_due`` item per installment still unpaid that was due by the start,
    in installment order, naming the amount charged and carrying the due date as
    deadline; none for a school-paid rotation the school confirmed."""
    school_paid = [rotation.pk for rotation in rotations if rotation.payer == Payer.SCHOOL]
    confirmed_by_school = set(
        SchoolPayment.objects.filter(
            rotation_id__in=school_paid,
            decision=SchoolDecision.CONFIRMED,
        ).values_list("rotation_id", flat=True)
    )
    answers: Answers = {rotation.pk: [] for rotation in rotations}
    unpaid = (
        Installment.objects.filter(
            invoice__rotation_id__in=[pk for pk in answers if pk not in confirmed_by_school],
            invoice__kind=InvoiceKind.ROTATION,
            status__in=OPEN,
            due_on__lte=F("invoice__rotation__start"),
        )
        .annotate(rotation_id=F("invoice__rotation_id"))
        .order_by("rotation_id", "sequence")
    )
    for installment in unpaid:
        answers[installment.rotation_id].append(
            ReadinessItem(
                code="payment_due",
                message=f"Pay installment {installment.sequence} (${installment.charged:,.2f}).",
                deadline=installment.due_on,
            )
        )
    return answers
