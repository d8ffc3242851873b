"""The immigration letter add-on (B1/B2 visa support; DESIGN §6, issue 7 item 13).

Rotations of 4 weeks or more only. Requesting it writes an invoice of its own (kind
``immigration_letter``) at the organization's fee, one installment due now, with the
card fee as its own line when the rotation is paid by card. Once that invoice is paid,
the student (and the organization's admins) download a PDF letter naming the student,
the rotation, the site, the attending and the dates, made with fpdf2.

Requesting it also sends the payment request, exactly as a rotation invoice's
installment goes out (payments.invoicing.invoice_single_payment, as a letter of
recommendation's fee does): by card, the
installment is sent to the organization's gateway after commit (PayPal's invoice, or
the simulated gateway's email linking to the local pay page); by Zelle or wire, it
counts as sent and the student is emailed the instructions with the reference code. The
letter is always the student's own purchase, so it goes to the student even when the
school pays for the rotation.

The letter is set in DejaVu Sans (vendored in ``payments/fonts`` with its licence), a
Unicode font: students' names and schools are written as they are ("Nguyễn Thị Minh
Khai", "Łukasz Wąsowski", "Ахмед"), never with "?" for what Latin-1 lacks.
"""

from __future__ import annotations

from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils import timezone
from fpdf import FPDF

from payments.invoicing import invoice_single_payment
from payments.models import InstallmentStatus, Invoice, InvoiceKind, InvoiceStatus
from rotations.choices import RotationStatus
from rotations.models import Rotation
from rotations.services import long_date, type_title
from usdoctors.errors import Conflict, Invalid, NotAllowed

MIN_WEEKS = 4
FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVu"
# A letter for a rotation that will not happen would mislead a consulate.
LETTER_STATUSES = (
    RotationStatus.REQUESTED,
    RotationStatus.APPROVED,
    RotationStatus.ON_HOLD,
    RotationStatus.IN_PROGRESS,
)


def letter_invoice(rotation: Rotation) -> Invoice | None:
    return Invoice.objects.filter(rotation=rotation, kind=InvoiceKind.IMMIGRATION_LETTER).first()


def is_paid(invoice: Invoice | None) -> bool:
    if invoice is None:
        return False
    if invoice.status == InvoiceStatus.PAID:
        return True
    installments = list(invoice.installments.all())
    return bool(installments) and all(i.status == InstallmentStatus.PAID for i in installments)


@transaction.atomic
def request_immigration_letter(rotation: Rotation, *, by) -> Invoice:
    """Invoice the letter at the organization's fee (§6) and send its payment request.

    One installment due today, the card fee as its own line when the rotation is paid by
    card; the request goes out like any installment's (``send_payment_request``), to the
    student even when the school pays for the rotation. Refused for rotations under 4
    weeks (400) and for rotations no longer going ahead (409); asking again returns the
    invoice already written and sends nothing more."""
    if by.pk != rotation.student_id:
        raise NotAllowed("Only the rotation's student can ask for its immigration letter.")
    if rotation.weeks < MIN_WEEKS:
        raise Invalid(
            f"The immigration letter is only for rotations of {MIN_WEEKS} weeks or more; "
            f"this rotation is {rotation.weeks} week{'s' if rotation.weeks != 1 else ''}.",
            code="rotation_too_short",
        )
    if rotation.status not in LETTER_STATUSES:
        raise Conflict(
            f"This rotation is {rotation.get_status_display().lower()}; there is no "
            "immigration letter for it.",
            code="wrong_status",
        )
    existing = letter_invoice(rotation)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return invoice_single_payment(
                rotation,
                kind=InvoiceKind.IMMIGRATION_LETTER,
                amount=rotation.organization.immigration_letter_fee,
                label="Immigration letter (B1/B2 visa support)",
            )
    except IntegrityError:  # a concurrent request wrote it first
        return letter_invoice(rotation)


def can_download(rotation: Rotation, membership) -> bool:
    return membership.pk == rotation.student_id or membership.is_admin


def letter_pdf(rotation: Rotation, *, compress: bool = True) -> bytes:
    """The letter as PDF bytes (§6): the student, the rotation, the site, the attending
    and the dates."""
    organization = rotation.organization
    attending = rotation.attending
    student = rotation.student
    profile = getattr(student, "profile", None)
    student_name = student.display_name
    school = getattr(profile, "medical_school", "") or "their medical school"
    site = ", ".join(
        part for part in (attending.practice_name, attending.city, attending.state) if part
    )
    pdf = FPDF(format="Letter")
    pdf.set_compression(compress)
    # Unicode TrueType fonts (fpdf2 embeds the glyphs used): the core fonts are Latin-1.
    pdf.add_font(FONT, "", FONTS / "DejaVuSans.ttf")
    pdf.add_font(FONT, "B", FONTS / "DejaVuSans-Bold.ttf")
    pdf.set_title(f"Rotation letter for {student_name}")
    pdf.set_author(organization.name)
    pdf.add_page()
    pdf.set_margins(25, 25, 25)
    pdf.set_font(FONT, "B", 16)
    pdf.cell(0, 10, organization.name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 11)
    pdf.cell(0, 8, long_date(timezone.localdate()), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(FONT, "B", 12)
    pdf.cell(0, 8, "To whom it may concern:", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 11)
    paragraphs = [
        f"This letter confirms that {student_name}, a student of {school}, is accepted for "
        f"a {type_title(rotation).lower()} rotation ({rotation.get_mode_display().lower()}) "
        f"arranged through {organization.name}.",
        f"Site: {site}.",
        f"Attending physician: {attending.display_name}"
        f"{', ' + attending.credentials if attending.credentials else ''}.",
        f"Dates: {long_date(rotation.start)} to {long_date(rotation.end)} "
        f"({rotation.weeks} weeks).",
        "The rotation is an educational, unpaid clinical experience. This letter is issued "
        "to support the student's B1/B2 visa application.",
    ]
    for paragraph in paragraphs:
        pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    pdf.ln(6)
    pdf.cell(0, 6, f"{organization.name}", new_x="LMARGIN", new_y="NEXT")
    if organization.support_email:
        pdf.cell(0, 6, organization.support_email, new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, f"Reference: rotation {rotation.pk}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
