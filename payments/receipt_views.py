"""The admins' "record a Zelle or wire receipt" page (DESIGN §6): a small form per
installment that calls ``payments.receipts.record_receipt``."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from payments.models import Installment
from payments.receipts import record_receipt
from usdoctors.dates import validate_sane_date
from usdoctors.errors import DomainError
from usdoctors.views import member_required


class ReceiptForm(forms.Form):
    amount = forms.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    received_on = forms.DateField(
        validators=[validate_sane_date], widget=forms.DateInput(attrs={"type": "date"})
    )
    reference = forms.CharField(max_length=100)


def back_url() -> str:
    try:
        return reverse("payments_due")
    except Exception:  # the admins' due list lives in payments.pages
        return "/"


@member_required("admin")
def record_installment_receipt(request, installment_id: int):
    installment = get_object_or_404(
        Installment.objects.select_related("invoice__student__user", "invoice__rotation"),
        pk=installment_id,
    )
    status = 200
    if request.method == "POST":
        form = ReceiptForm(request.POST)
        if form.is_valid():
            try:
                payment, created = record_receipt(
                    installment,
                    amount=form.cleaned_data["amount"],
                    received_on=form.cleaned_data["received_on"],
                    reference=form.cleaned_data["reference"],
                    by=request.membership,
                )
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
                status = error.status_code
            else:
                if created:
                    messages.success(
                        request,
                        f"Recorded ${payment.amount:,.2f} for installment "
                        f"{installment.sequence} of {installment.invoice.reference_code}.",
                    )
                else:
                    messages.info(request, "That receipt was already recorded.")
                return redirect(back_url())
        else:
            status = 400
    else:
        form = ReceiptForm(
            initial={"amount": installment.charged, "received_on": timezone.localdate()}
        )
    return render(
        request,
        "payments/record_receipt.html",
        {"installment": installment, "form": form, "back_url": back_url()},
        status=status,
    )
