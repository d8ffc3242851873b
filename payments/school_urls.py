"""Pages for school payers, cards on file and the immigration letter."""

from django.urls import path

from payments import school_pages

urlpatterns = [
    path(
        "school/payment/<str:token>/", school_pages.school_payment_link, name="school_payment_link"
    ),
    path("payments/card/", school_pages.card_on_file, name="card_on_file"),
    path(
        "payments/card/paypal/return/",
        school_pages.card_on_file_return,
        name="card_on_file_return",
    ),
    path(
        "payments/card/paypal/cancel/",
        school_pages.card_on_file_cancel,
        name="card_on_file_cancel",
    ),
    path(
        "rotations/<int:rotation_id>/immigration-letter/",
        school_pages.immigration_letter_page,
        name="immigration_letter",
    ),
    path(
        "rotations/<int:rotation_id>/immigration-letter/letter.pdf",
        school_pages.immigration_letter_pdf,
        name="immigration_letter_pdf",
    ),
]
