"""Browser pages for school payers and the immigration letter (payments.school,
payments.immigration_letter): parse, call one service, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from payments import cards, immigration_letter, school
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
    """The student's card on file (school payers, §6; payments.cards). Simulated gateway:
    one button saves a test card. PayPal: the button starts PayPal's approval flow and
    answers 303 to PayPal's approval page, where the student logs in and picks the card
    (or balance) to keep on file; PayPal sends them back to ``card_on_file_return``."""
    student = request.membership
    paypal = cards.gateway_name(request.organization) == "paypal"
    if request.method == "POST":
        try:
            if paypal:
                card = cards.start_paypal_account(
                    student,
                    return_url=request.build_absolute_uri(reverse("card_on_file_return")),
                    cancel_url=request.build_absolute_uri(reverse("card_on_file_cancel")),
                )
                return redirect_303(cards.approve_url(card))
            cards.save_simulated_card(student)
        except DomainError as failure:
            return _card_page(request, error=failure.message, status=failure.status_code)
        messages.success(request, "Your card is on file.")
        return redirect("card_on_file")
    return _card_page(request)


def _card_page(request, *, error: str = "", status: int = 200):
    paypal = cards.gateway_name(request.organization) == "paypal"
    response = render(
        request,
        "payments/card_on_file.html",
        {"card": cards.active_card(request.membership), "paypal": paypal, "error": error},
        status=status,
    )
    if paypal:
        # The form's answer redirects to PayPal's approval page: allowed for this page only.
        response._csp_update = {"form-action": [cards.paypal_web_origin(request.organization)]}
    return response


def redirect_303(url: str) -> HttpResponse:
    """See Other: the browser follows with a GET (PayPal's approval page)."""
    response = HttpResponse(status=303)
    response["Location"] = url
    return response


@member_required("student")
def card_on_file_return(request):
    """PayPal sends the student back here after they approved (``approval_token_id`` is
    the setup token's id): the PayPal account is vaulted and becomes the active card.
    A token that is not this student's pending setup here — unknown, another student's,
    another organization's, already finished — answers 409 with the reason and changes
    nothing."""
    try:
        cards.finish_paypal_card(request.membership, request.GET.get("approval_token_id", ""))
    except DomainError as failure:
        return _card_page(request, error=failure.message, status=failure.status_code)
    messages.success(request, "Your card is on file.")
    return redirect("card_on_file")


@member_required("student")
def card_on_file_cancel(request):
    """The student cancelled on PayPal's page: nothing is saved (the pending setup stays
    unfinished and is never charged)."""
    messages.info(request, "You cancelled on PayPal; no card was saved.")
    return redirect("card_on_file")


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
