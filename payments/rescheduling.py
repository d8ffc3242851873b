"""A moved rotation's unpaid installments follow the new start (DESIGN §5 date change,
§6 plans).

``follow_the_new_friday`` is the lifecycle ``moved`` subscriber (PaymentsConfig.ready()):
it runs inside the move's transaction, after the weeks and the rotation are locked, so
the new dates and the moved booking commit together or not at all.
"""

from __future__ import annotations

from django.utils import timezone

from payments.invoicing import send_due_by_gateway
from payments.models import Installment, InstallmentStatus, Invoice, InvoiceKind, InvoiceStatus
from payments.schedule import friday_before
from payments.sending import paid_by_the_school
from rotations.choices import PaymentMethod
from rotations.models import Rotation


def follow_the_new_friday(rotation: Rotation, *, by, previous_start, reason) -> None:
    """Lifecycle ``moved``: the plan's last installment stays due on the Friday before the
    start (§6), and none is due after it.

    The rule: the rotation invoice is locked (then its installments, as cancellation
    does). Each installment still ``pending`` — not yet requested: not sent to the
    gateway, no instructions emailed — whose due date was the Friday before the old
    start, or that now falls after the Friday before the new start, becomes due on the
    new Friday, but never before today (the sweep sends what is due today). Installments
    already sent, paid or cancelled keep their dates: they were already requested.
    Amounts never change, so the installments still sum to the invoice.

    Moved earlier, an installment of a card invoice the student pays can thereby be due
    today: it is handed to the gateway after commit, as on approval
    (``payments.invoicing.send_due_by_gateway``). No email: the rotation page shows the
    new dates, and the move's own email tells the student the new start.
    """
    if rotation.start == previous_start:
        return
    invoice = (
        Invoice.objects.select_for_update()
        .select_related("rotation")
        .filter(rotation=rotation, kind=InvoiceKind.ROTATION)
        .first()
    )
    if invoice is None or invoice.status not in (InvoiceStatus.DRAFT, InvoiceStatus.ISSUED):
        return
    old_friday = friday_before(previous_start)
    new_friday = friday_before(rotation.start)
    today = timezone.localdate()
    new_due_on = max(new_friday, today)
    moved = [
        installment
        for installment in Installment.objects.select_for_update()
        .filter(invoice=invoice, status=InstallmentStatus.PENDING)
        .order_by("sequence")
        if (installment.due_on == old_friday or installment.due_on > new_friday)
        and installment.due_on != new_due_on
    ]
    if not moved:
        return
    Installment.objects.filter(pk__in=[installment.pk for installment in moved]).update(
        due_on=new_due_on
    )
    for installment in moved:
        installment.due_on = new_due_on
    if invoice.payment_method == PaymentMethod.PAYPAL and not paid_by_the_school(invoice):
        send_due_by_gateway(invoice.organization_id, moved, today)
