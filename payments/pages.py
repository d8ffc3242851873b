"""Browser pages for money (DESIGN §6 "money is shown before it is owed", issue 7 item 14).

- The price summary of the request form: ``attending_quote`` answers htmx with the
  summary fragment (live, as the student changes the plan, method, start or weeks) and,
  without JavaScript, the "Review the price" page that shows the same summary and sends
  the request on to rotations with the student's confirmation.
- Students: their payments page (every invoice's schedule, receipts, credit balance).
- Admins: installments due and overdue (oldest first) and a student's ledger.
- The rotation page's payment section (registered with ``rotations.panels``).

Read-only: nothing here writes money rows. Lists cost a fixed number of queries, however
many rows they show.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django import forms
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import Membership
from payments import immigration_letter
from payments.cancellation_schedule import policy as cancellation_policy
from payments.credits import credit_balance
from payments.fees import ZERO
from payments.models import (
    CreditEntry,
    Installment,
    InstallmentStatus,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    Refund,
)
from payments.quotes import quote_for
from rotations.choices import PaymentMethod, Plan, RotationType
from rotations.forms import percent
from rotations.models import MAX_WEEKS
from rotations.requirements import terms_for
from rotations.search import public_attendings
from usdoctors.dates import validate_sane_date
from usdoctors.errors import DomainError
from usdoctors.views import member_required

PAGE_SIZE = 50
# The request form's fields, carried through the review page back to rotations.
REQUEST_FIELDS = (
    "rotation_type",
    "mode",
    "start",
    "weeks",
    "payer",
    "plan",
    "payment_method",
    "message",
)
OPEN_INSTALLMENTS = (InstallmentStatus.PENDING, InstallmentStatus.SENT)


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- The price summary (§6, issue 7 item 3) ---------------------------------------------


class QuoteForm(forms.Form):
    """The request form's fields that decide the price, under the same names."""

    rotation_type = forms.ChoiceField(choices=RotationType.choices, required=False)
    start = forms.DateField(validators=[validate_sane_date])
    weeks = forms.IntegerField(min_value=1, max_value=MAX_WEEKS)
    plan = forms.ChoiceField(choices=Plan.choices)
    payment_method = forms.ChoiceField(choices=PaymentMethod.choices)


def summary_context(request, attending, data) -> dict:
    """The quote for the student's choices, or why there is none yet (missing or bad
    input, or a rule such as the weekly plan's lead time)."""
    form = QuoteForm(data)
    context = {"attending": attending, "quote": None, "error": "", "incomplete": False}
    if not (data.get("start") and data.get("weeks")):
        context["incomplete"] = True
        return context
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        label = {
            "start": "Start date",
            "weeks": "Number of weeks",
            "rotation_type": "Rotation type",
        }.get(field, field)
        context["error"] = f"{label}: {errors[0]}"
        return context
    data = form.cleaned_data
    today = timezone.localdate()
    try:
        terms = terms_for(attending, data["rotation_type"] or None)
        quote = quote_for(
            request.membership,
            attending,
            start=data["start"],
            weeks=data["weeks"],
            plan=data["plan"],
            method=data["payment_method"],
            rotation_type=terms.rotation_type,
            application_fee=terms.application_fee,
            on=today,
        )
    except DomainError as error:
        context["error"] = error.message
        return context
    context.update(
        quote=quote,
        weeks=data["weeks"],
        surcharge_percent=percent(request.organization.card_surcharge_rate),
        quote_today=today,
        # The organization's schedule for the student's own cancellation (§15).
        # The requirement's housing for the chosen type (§13).
        housing_included=terms.housing_included,
        cancellation_policy=cancellation_policy(
            request.organization, data["start"], today, application_fee=quote.application_fee
        ),
        # Same id, same summary: htmx keeps the box's state only across an identical redraw.
        confirmation_key=(
            f"confirm-{quote.plan}-{quote.method}-{data['start']:%Y%m%d}-{data['weeks']}-"
            f"{int(quote.total_charged * 100)}"
        ),
    )
    return context


@member_required("student")
def attending_quote(request, attending_id: int):
    """GET with htmx: the summary fragment for the request form. GET or POST without
    htmx (the form's "Review the price" button posts, so the CSRF token never lands in a
    URL): the review page, whose "Send request" form carries the same fields on to
    rotations' request URL with the confirmation checkbox."""
    attending = get_object_or_404(public_attendings(request.organization), pk=attending_id)
    data = request.POST if request.method == "POST" else request.GET
    context = summary_context(request, attending, data)
    if is_htmx(request):
        # htmx swaps 2xx answers only: an error is part of the summary, not a status.
        return render(request, "payments/_quote_summary.html", context)
    context["carried"] = [(name, data.get(name, "")) for name in REQUEST_FIELDS]
    status = 200 if context["quote"] else 400
    return render(request, "payments/quote_review.html", context, status=status)


# --- Installment standing ---------------------------------------------------------------

PAID, DUE, OVERDUE, CANCELLED = "paid", "due", "overdue", "cancelled"


def standing(installment: Installment, today: date) -> str:
    """paid, cancelled, overdue (due before today and unpaid) or due."""
    if installment.status == InstallmentStatus.PAID:
        return PAID
    if installment.status == InstallmentStatus.CANCELLED:
        return CANCELLED
    return OVERDUE if installment.due_on < today else DUE


def _dig(answer, *keys):
    for key in keys:
        answer = answer.get(key) if isinstance(answer, dict) else None
    return answer


def pay_link(installment: Installment) -> str:
    """The link where the payer pays this installment, from what the gateway answered
    when it was sent (payments.gateways): the simulated gateway's ``payer_url``, or
    PayPal's invoice ``recipient_view_url`` (else the sent invoice's ``href``). "" when
    we have none; only http(s) links, never another scheme."""
    answer = installment.gateway_answer if isinstance(installment.gateway_answer, dict) else {}
    for link in (
        answer.get("payer_url"),
        _dig(answer, "create", "detail", "metadata", "recipient_view_url"),
        _dig(answer, "detail", "metadata", "recipient_view_url"),
        _dig(answer, "send", "href"),
    ):
        if isinstance(link, str) and link.startswith(("https://", "http://")):
            return link
    return ""


def described(installment: Installment, today: date) -> Installment:
    installment.standing = standing(installment, today)
    installment.pay_link = pay_link(installment) if installment.standing in (DUE, OVERDUE) else ""
    return installment


def invoices_with_schedule(invoices, today: date) -> list[Invoice]:
    """Invoices with their installments (one query for all), each marked paid, due or
    overdue, and the sums of each."""
    invoices = list(
        invoices.select_related("rotation__attending").prefetch_related(
            Prefetch("installments", queryset=Installment.objects.order_by("sequence"))
        )
    )
    for invoice in invoices:
        invoice.schedule = [described(i, today) for i in invoice.installments.all()]
        invoice.sums = sums(invoice.schedule)
    return invoices


def sums(installments) -> dict[str, Decimal]:
    """What is paid, due and overdue, card fees included."""
    totals = {PAID: ZERO, DUE: ZERO, OVERDUE: ZERO}
    for installment in installments:
        if installment.standing in totals:
            totals[installment.standing] += installment.charged
    return totals


def record_receipt_url(installment_id: int) -> str:
    """The admin's "record a receipt" page for an installment (the receipts engineer's
    page, by name when it is there)."""
    for name in ("installment_record", "record_receipt", "installment_record_payment"):
        try:
            return reverse(name, args=[installment_id])
        except NoReverseMatch:
            continue
    return f"/payments/installments/{installment_id}/record/"


# --- Students -----------------------------------------------------------------------------


@member_required("student")
def my_payments(request):
    """The student's invoices with their schedules, receipts and credit balance."""
    student = request.membership
    today = timezone.localdate()
    invoices = invoices_with_schedule(
        Invoice.objects.filter(student=student).exclude(status=InvoiceStatus.CANCELLED), today
    )
    receipts = Payment.objects.filter(installment__invoice__student=student).select_related(
        "installment__invoice"
    )
    return render(
        request,
        "payments/my_payments.html",
        {
            "invoices": invoices,
            "receipts": receipts[:PAGE_SIZE],
            "credit_balance": credit_balance(student),
            "today": today,
        },
    )


# --- Admins -------------------------------------------------------------------------------


@member_required("admin")
def payments_due(request):
    """Installments still to be paid, oldest due date first, 50 a page."""
    today = timezone.localdate()
    installments = (
        Installment.objects.filter(status__in=OPEN_INSTALLMENTS)
        .exclude(invoice__status=InvoiceStatus.CANCELLED)
        .select_related("invoice__student__user", "invoice__student__profile", "invoice__rotation")
        .order_by("due_on", "pk")
    )
    page = Paginator(installments, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = [described(i, today) for i in page.object_list]
    for installment in page.object_list:
        installment.record_url = record_receipt_url(installment.pk)
    return render(request, "payments/payments_due.html", {"page": page, "today": today})


@member_required("admin")
def student_ledger(request, membership_id: int):
    """One student's invoices, payments received and credit entries."""
    student = get_object_or_404(
        Membership.objects.select_related("user", "profile"),
        pk=membership_id,
        organization=request.organization,
        role="student",
    )
    today = timezone.localdate()
    invoices = invoices_with_schedule(Invoice.objects.filter(student=student), today)
    for invoice in invoices:
        for installment in invoice.schedule:
            installment.record_url = record_receipt_url(installment.pk)
    return render(
        request,
        "payments/student_ledger.html",
        {
            "student": student,
            "invoices": invoices,
            "receipts": Payment.objects.filter(
                installment__invoice__student=student
            ).select_related("installment__invoice", "recorded_by__user"),
            "credit_entries": CreditEntry.objects.filter(student=student).select_related(
                "rotation", "invoice"
            ),
            "credit_balance": credit_balance(student),
            "refunds": Refund.objects.filter(student=student).select_related("invoice"),
        },
    )


# --- The rotation page's section (rotations.panels) -------------------------------------


def rotation_payment_panel(request, rotation):
    """Paid, due and overdue for the rotation's student and the organization's admins;
    attendings see none of the student's money."""
    membership = request.membership
    if rotation.student_id != membership.pk and not membership.is_admin:
        return None
    today = timezone.localdate()
    invoices = invoices_with_schedule(Invoice.objects.filter(rotation=rotation), today)
    live = [invoice for invoice in invoices if invoice.status != InvoiceStatus.CANCELLED]
    totals = sums(i for invoice in live for i in invoice.schedule)
    return (
        "payments/_rotation_payments.html",
        {
            "rotation": rotation,
            "invoices": invoices,
            "totals": totals,
            "letter": letter_state(rotation, invoices),
            "is_student": rotation.student_id == membership.pk,
            "ledger_url": reverse("student_ledger", args=[rotation.student_id])
            if membership.is_admin
            else "",
        },
    )


def letter_state(rotation, invoices) -> dict | None:
    """The immigration letter's line on the rotation page (§6): where to ask for it, that
    its invoice (shown above with the others) is to be paid, or where to download it.
    None when the rotation cannot have one and none was invoiced."""
    invoice = next((i for i in invoices if i.kind == InvoiceKind.IMMIGRATION_LETTER), None)
    offered = (
        rotation.weeks >= immigration_letter.MIN_WEEKS
        and rotation.status in immigration_letter.LETTER_STATUSES
    )
    if invoice is None and not offered:
        return None
    return {
        "invoice": invoice,
        "paid": immigration_letter.is_paid(invoice),
        "page_url": reverse("immigration_letter", args=[rotation.pk]),
        "pdf_url": reverse("immigration_letter_pdf", args=[rotation.pk]),
    }
