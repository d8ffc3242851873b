from django.urls import path

from payments.api.receipt_views import RecordPaymentView

urlpatterns = [
    path(
        "installments/<int:pk>/record-payment",
        RecordPaymentView.as_view(),
        name="api_installment_record_payment",
    )
]
