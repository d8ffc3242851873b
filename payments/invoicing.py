"""The invoice written on approval (DESIGN §5 "approval creates the invoice", §6).

``invoice_rotation`` is the ``approved`` lifecycle subscriber (PaymentsConfig.ready()):
it runs inside the approval's transaction, so the booking and the invoice commit
together or not at all. No gateway is called here (§6: never inside a transaction):
installments to send by PayPal are handed to ``payments.tasks.send_installment`` after
commit.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from notifications.services import notify
from payments.credits import apply_credit
from payments.fees import ZERO, method_fee
from payments.models import (
    Installment,
    InstallmentStatus,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
)
from payments.schedule import APPLICATION_FEE_LABEL, installment_schedule, with_application_fee
from rotations.choices import Payer, PaymentMethod, Plan
from rotations.models import Rotation
from usdoctors.links import organization_url
from usdoctors.money import to_cents


def long_date(day) -> str:
    return f"{day:%A %B} {day.day}, {day.year}"


def invoice_rotation(rotation: Rotation, *, by) -> Invoice:
    """Lifecycle ``approved`` handler: invoice the rotation (§6).

    Price = the rate the student was quoted × weeks, one ``price`` line. The student's
    credit applies first (one negative ``credit`` line, ``payments.credits.apply_credit``);
    the rest is split into the plan's installments counted from today, the approval
    date (``payments.schedule``). The application fee fixed on the rotation at request
    time (§6, §13) is added to the first installment's amount and is its own
    ``application_fee`` line, "Application fee (non-refundable)", on that installment;
    credit does not pay it (``payments.schedule.with_application_fee``). Paid by card,
    each installment carries the organization's surcharge on its whole amount — the
    first one's application fee included, as on any card payment — as its own
    ``card_fee`` line. Nothing left after credit and no application fee: no
    installments, and the invoice is paid at once.

    The payment request (self payer): by Zelle or wire, the student is emailed the
    instructions with the invoice's reference code; by card, installments due today are
    sent as PayPal invoices after commit, later ones by the due-installment sweep. A
    school payer's request goes through the school's confirmation link instead.
    """
    organization = rotation.organization
    approved_on = timezone.localdate()
    method = rotation.payment_method
    price = to_cents(rotation.weekly_rate * rotation.weeks)
    invoice = Invoice.objects.create(
        organization=organization,
        rotation=rotation,
        student=rotation.student,
        kind=InvoiceKind.ROTATION,
        payment_method=method,
        plan=rotation.plan,
        status=InvoiceStatus.ISSUED,
        issued_at=timezone.now(),
    )
    InvoiceLine.objects.create(
        organization=organization,
        invoice=invoice,
        kind=LineKind.PRICE,
        label=f"{rotation.weeks} weeks × ${rotation.weekly_rate} a week",
        amount=price,
    )
    credit = apply_credit(
        rotation.student, price, invoice=invoice, rotation=rotation, note=f"Invoice {invoice}"
    )
    if credit > 0:
        InvoiceLine.objects.create(
            organization=organization,
            invoice=invoice,
            kind=LineKind.CREDIT,
            label="Credit applied",
            amount=-credit,
        )
    schedule = with_application_fee(
        installment_schedule(
            price - credit,
            rotation.plan,
            approved_on,
            rotation.start,
            organization.weekly_plan_min_lead_days,
        ),
        rotation.application_fee,
        approved_on,
    )
    if not schedule:
        invoice.status = InvoiceStatus.PAID
        invoice.save(update_fields=["status"])
        return invoice

    installments = []
    for sequence, (due_on, amount, application_fee) in enumerate(schedule, start=1):
        fee = method_fee(amount, method, organization.card_surcharge_rate)
        installment = Installment.objects.create(
            organization=organization,
            invoice=invoice,
            sequence=sequence,
            due_on=due_on,
            amount=amount,
            card_fee=fee,
            application_fee=application_fee,
        )
        if application_fee > 0:
            InvoiceLine.objects.create(
                organization=organization,
                invoice=invoice,
                kind=LineKind.APPLICATION_FEE,
                label=APPLICATION_FEE_LABEL,
                amount=application_fee,
                installment=installment,
            )
        if fee > 0:
            InvoiceLine.objects.create(
                organization=organization,
                invoice=invoice,
                kind=LineKind.CARD_FEE,
                label=f"Card fee on payment {sequence} of {len(schedule)}",
                amount=fee,
                installment=installment,
            )
        installments.append(installment)

    if rotation.payer == Payer.SCHOOL:
        return invoice  # the school's confirmation link carries the request (payments.school)
    send_payment_request(invoice, installments, today=approved_on)
    return invoice


def invoice_single_payment(
    rotation: Rotation, *, kind: str, amount: Decimal, label: str
) -> Invoice:
    """An invoice of ``kind`` for one thing bought besides the rotation (the immigration
    letter, a letter of recommendation's fee; §6): one installment of ``amount`` due
    today, one ``add_on`` line labelled ``label``, the organization's card fee as its
    own line when the rotation is paid by card, and the payment request sent like any
    installment's (``send_payment_request``) — to the student, even when the school pays
    for the rotation. Runs inside the caller's transaction; the caller makes sure there
    is not one already (a unique constraint backs it where there may be only one)."""
    organization = rotation.organization
    card_fee = method_fee(amount, rotation.payment_method, organization.card_surcharge_rate)
    invoice = Invoice.objects.create(
        organization=organization,
        rotation=rotation,
        student=rotation.student,
        kind=kind,
        payment_method=rotation.payment_method,
        plan=Plan.FULL,
        status=InvoiceStatus.ISSUED,
        issued_at=timezone.now(),
    )
    today = timezone.localdate()
    installment = Installment.objects.create(
        organization=organization,
        invoice=invoice,
        sequence=1,
        due_on=today,
        amount=amount,
        card_fee=card_fee,
    )
    InvoiceLine.objects.create(
        organization=organization, invoice=invoice, kind=LineKind.ADD_ON, label=label, amount=amount
    )
    if card_fee:
        InvoiceLine.objects.create(
            organization=organization,
            invoice=invoice,
            kind=LineKind.CARD_FEE,
            label="Card fee",
            amount=card_fee,
            installment=installment,
        )
    send_payment_request(invoice, [installment], today=today)
    return invoice


def send_payment_request(invoice: Invoice, installments, *, today) -> None:
    """Ask the student for ``installments`` of ``invoice`` (§6), the same way for every
    kind of invoice (the rotation's, the immigration letter's): by card, those due by
    ``today`` go to the gateway after commit (``send_due_by_gateway``) and the
    due-installment sweep sends the later ones; by Zelle or wire, the student is emailed
    the instructions with the invoice's reference code (``_email_instructions``). Runs
    inside the caller's transaction; no gateway call here."""
    if invoice.payment_method == PaymentMethod.PAYPAL:
        send_due_by_gateway(invoice.organization_id, installments, today)
    else:
        _email_instructions(invoice.rotation, invoice, installments)


def send_due_by_gateway(organization_id: int, installments, today) -> None:
    """Installments due by ``today`` are sent as gateway invoices once the caller's
    transaction (an approval, a letter request, a move) commits; they stay ``pending``
    until the task has sent them (it marks them ``sent``)."""
    from payments.tasks import enqueue_send_installment

    for installment in installments:
        if installment.due_on <= today:
            transaction.on_commit(
                lambda pk=installment.pk: enqueue_send_installment(organization_id, pk)
            )


def _email_instructions(rotation: Rotation, invoice: Invoice, installments) -> None:
    """Zelle / wire: the instructions are the payment request, so every installment counts
    as sent; the student gets the schedule, the reference code and where to pay, in words
    for what the invoice is for (the rotation, or its immigration letter)."""
    Installment.objects.filter(pk__in=[i.pk for i in installments]).update(
        status=InstallmentStatus.SENT
    )
    organization = rotation.organization
    method = invoice.payment_method
    field = "zelle_instructions" if method == PaymentMethod.ZELLE else "wire_instructions"
    notify(
        organization,
        rotation.student.user.email,
        "payment_instructions",
        {
            "student_name": rotation.student.display_name,
            "invoice_kind": invoice.kind,  # the rotation's price or the immigration letter
            "rotation_title": rotation.get_rotation_type_display().split(" (")[0],
            "method": PaymentMethod(method).label,
            "instructions": getattr(organization, field, "") or "",
            "reference_code": invoice.reference_code,
            "schedule": [
                f"Payment {i.sequence} of {len(installments)}: ${i.charged:,.2f}, "
                f"due {long_date(i.due_on)}"
                for i in installments
            ],
            "rotation_url": organization_url(organization, f"/rotations/{rotation.pk}/"),
        },
        dedupe_key=f"payment-instructions:{invoice.pk}",
    )


def amount_paid(invoice: Invoice) -> Decimal:
    """What the student has paid towards ``invoice``'s price: paid installments' shares
    (card fees excluded: they went to the card network; the application fee excluded:
    it is not part of the price) plus the credit it used."""
    paid = sum(
        (
            i.amount - i.application_fee
            for i in invoice.installments.all()
            if i.status == InstallmentStatus.PAID
        ),
        ZERO,
    )
    credit_used = -sum(
        (line.amount for line in invoice.lines.all() if line.kind == LineKind.CREDIT), ZERO
    )
    return paid + credit_used
