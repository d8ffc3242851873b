"""The simulated gateway's pay page (DESIGN §6, §11): what PayPal's invoice page is to
the ``paypal`` gateway, for ``make run`` and organizations without PayPal credentials.

The invoice email links to ``/payments/simulated/<token>/``, a signed token naming the
organization and installment (no sign-in needed, as with a PayPal invoice link). It
shows the share, the card fee and the total; "Pay" makes the simulated gateway emit a
signed ``INVOICING.INVOICE.PAID`` event and hands it to the same webhook code as
PayPal's (``payments.webhooks.process_webhook``), which pays the installment once.
A tampered or foreign token gets a clear page, never a 500, and changes nothing.
"""

from __future__ import annotations

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from payments.gateways import SimulatedGateway, simulated_invoice_id
from payments.models import Installment, InstallmentStatus
from payments.webhooks import process_webhook
from usdoctors.links import organization_url

SALT = "payments.simulated-pay-page"


def pay_page_token(installment: Installment) -> str:
    return signing.dumps({"o": installment.organization_id, "i": installment.pk}, salt=SALT)


def pay_page_url(installment: Installment) -> str:
    path = reverse("simulated_pay_page", kwargs={"token": pay_page_token(installment)})
    return organization_url(installment.organization, path)


def _installment_for(request: HttpRequest, token: str) -> Installment | None:
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("o") != request.organization.pk:
        return None  # another organization's link: as if it did not exist
    installment = (
        Installment.objects.select_related("invoice__student__user", "organization")
        .filter(pk=data.get("i"))
        .first()
    )
    if installment is None or installment.gateway_invoice_id != simulated_invoice_id(installment):
        return None  # not (or no longer) invoiced by the simulated gateway
    return installment


def _bad_link(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "errors/link.html",
        {
            "title": "This payment link does not work",
            "message": "The link is damaged or is not for this site. Open the latest "
            "invoice email, or see your payments page.",
        },
        status=404,
    )


@require_http_methods(["GET", "POST"])
def pay_page(request: HttpRequest, token: str) -> HttpResponse:
    installment = _installment_for(request, token)
    if installment is None:
        return _bad_link(request)
    outcome = None
    if request.method == "POST" and installment.status == InstallmentStatus.SENT:
        gateway = SimulatedGateway(installment.organization)
        raw, headers = gateway.paid_event(installment)
        result = process_webhook(installment.organization, gateway, headers, raw)
        if result.status == 200:
            return redirect(request.path)
        outcome = result.detail
    return render(
        request,
        "payments/simulated_pay.html",
        {
            "installment": installment,
            "invoice": installment.invoice,
            "total": installment.charged,
            "paid": installment.status == InstallmentStatus.PAID,
            "payable": installment.status == InstallmentStatus.SENT,
            "error": outcome,
        },
        status=200 if outcome is None else 503,
    )
