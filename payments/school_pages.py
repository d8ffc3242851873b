"""Browser pages for school payers and the immigration letter (payments.school,
payments.immigration_letter): parse, call one service, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from payments import immigration_letter, school
from payments.models import CardOnFile, CardStatus
from rotations.services import visible_rotations
from usdoctors import signed_links
from usdoctors.errors import DomainError, NotAllowed
from usdoctors.views import member_required


def school_payment_link(request, token: str):
    """The school's confirm/refuse page (§6, §10): no account, a signed single-use link.
    GET shows the rotation and the amount; POST records the answer once."""
    try:
        link, school_payment = school.read_link(token, request.organization)
    except signed_links.LinkError as error:
        return signed_links.link_error_page(request, error)
    if request.method == "POST":
        decision = request.POST.get("decision")
        if decision not in ("confirm", "refuse"):
            return signed_links.link_error_page(
                request,
                signed_links.LinkError(
                    signed_links.INVALID, "Choose to confirm or to refuse. Nothing was changed."
                ),
            )
        try:
            school.record_school_decision(
                token, request.organization, confirmed=decision == "confirm"
            )
        except signed_links.LinkError as error:
            return signed_links.link_error_page(request, error)
        return render(
            request,
            "payments/school_payment_done.html",
            {"confirmed": decision == "confirm", "rotation": school_payment.rotation},
        )
    rotation = school_payment.rotation
    return render(
        request,
        "payments/school_payment_link.html",
        {
            "rotation": rotation,
            "student_name": rotation.student.display_name,
            "amount": school.amount_owed(rotation),
            "expires": link.expires,
        },
    )


@member_required("student")
def card_on_file(request):
    """The student's card on file (school payers, §6). Simulated gateway: one button
    saves a test card. PayPal: the card is typed into PayPal's card fields with a setup
    token from ``POST /api/v1/payment-methods/card/setup-token``; the approved token is
    posted here (or to ``POST /api/v1/payment-methods/card``)."""
    student = request.membership
    paypal = school.gateway_name(request.organization) == "paypal"
    error = ""
    if request.method == "POST":
        try:
            if paypal:
                school.finish_paypal_card(student, request.POST.get("setup_token_id", "").strip())
            else:
                school.save_simulated_card(student)
        except DomainError as failure:
            error = failure.message
        else:
            messages.success(request, "Your card is on file.")
            return redirect("card_on_file")
    return render(
        request,
        "payments/card_on_file.html",
        {
            "card": CardOnFile.objects.filter(student=student, status=CardStatus.ACTIVE).first(),
            "paypal": paypal,
            "error": error,
        },
        status=400 if error else 200,
    )


def _rotation(request, rotation_id: int):
    return get_object_or_404(visible_rotations(request.membership), pk=rotation_id)


@member_required()
def immigration_letter_page(request, rotation_id: int):
    rotation = _rotation(request, rotation_id)
    if not immigration_letter.can_download(rotation, request.membership):
        raise Http404
    error = ""
    if request.method == "POST":
        try:
            immigration_letter.request_immigration_letter(rotation, by=request.membership)
        except NotAllowed as failure:
            error = failure.message
        except DomainError as failure:
            error = failure.message
        else:
            messages.success(request, "Your immigration letter is invoiced; pay it to download.")
            return redirect("immigration_letter", rotation_id=rotation.pk)
    invoice = immigration_letter.letter_invoice(rotation)
    return render(
        request,
        "payments/immigration_letter.html",
        {
            "rotation": rotation,
            "invoice": invoice,
            "paid": immigration_letter.is_paid(invoice),
            "fee": request.organization.immigration_letter_fee,
            "long_enough": rotation.weeks >= immigration_letter.MIN_WEEKS,
            "error": error,
        },
        status=400 if error else 200,
    )


@member_required()
def immigration_letter_pdf(request, rotation_id: int):
    """The letter, once paid, for the rotation's student and the admins; 404 otherwise."""
    rotation = _rotation(request, rotation_id)
    if not immigration_letter.can_download(rotation, request.membership):
        raise Http404
    if not immigration_letter.is_paid(immigration_letter.letter_invoice(rotation)):
        raise Http404
    compress = not getattr(settings, "PDF_UNCOMPRESSED", False)
    response = HttpResponse(
        immigration_letter.letter_pdf(rotation, compress=compress), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="immigration-letter-{rotation.pk}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
