from django.urls import path

from payments.api import school_views

urlpatterns = [
    path("payment-methods/card", school_views.CardOnFileView.as_view(), name="api_card_on_file"),
    path(
        "payment-methods/card/setup-token",
        school_views.CardSetupTokenView.as_view(),
        name="api_card_setup_token",
    ),
    path(
        "payment-methods/card/paypal-approval",
        school_views.CardPayPalApprovalView.as_view(),
        name="api_card_paypal_approval",
    ),
    path(
        "rotations/<int:pk>/immigration-letter",
        school_views.ImmigrationLetterView.as_view(),
        name="api_immigration_letter",
    ),
]
