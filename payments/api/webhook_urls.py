from django.urls import path

from payments.api.webhook_views import PayPalWebhookView

urlpatterns = [
    path("payments/paypal/webhook", PayPalWebhookView.as_view(), name="api_paypal_webhook"),
]
