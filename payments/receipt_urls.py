"""The admins' receipt page (payments.receipt_views)."""

from django.urls import path

from payments import receipt_views

urlpatterns = [
    path(
        "payments/installments/<int:installment_id>/record/",
        receipt_views.record_installment_receipt,
        name="installment_record",
    ),
]
