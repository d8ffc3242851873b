"""Payments' browser pages (payments.pages): the request form's price summary, the
student's payments, the admins' due list and a student's ledger."""

from django.urls import path

from payments import pages, refund_pages

urlpatterns = [
    path("attendings/<int:attending_id>/quote/", pages.attending_quote, name="attending_quote"),
    path("payments/", pages.my_payments, name="my_payments"),
    path("payments/due/", pages.payments_due, name="payments_due"),
    path("payments/students/<int:membership_id>/", pages.student_ledger, name="student_ledger"),
    path("payments/refunds/", refund_pages.refund_list, name="refund_list"),
    path(
        "payments/refunds/<int:refund_id>/payout/",
        refund_pages.complete_payout,
        name="refund_complete_payout",
    ),
]
