from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self):
        from payments import pages, plans, quotes, school, school_tasks  # noqa: F401 (tasks)
        from rotations import lifecycle, panels

        # Rotations announces its transitions and never imports payments (STYLE §7).
        lifecycle.on("requested", plans.refuse_a_plan_not_allowed)
        # After the plan rule: the student's confirmed total must still be the price.
        lifecycle.on("requested", quotes.refuse_a_changed_price)
        # The rotation page's paid / due / overdue section.
        panels.register(pages.rotation_payment_panel)
        # Cancellation schedule before, refunds after a cancellation (§15).
        from payments import refund_pages

        panels.register(refund_pages.rotation_refund_panel)
        # Approval writes the invoice, applies credit and sends the payment request;
        # cancelling turns what was paid into credit (payments.invoicing, .cancellation).
        from payments import cancellation, invoicing, readiness

        lifecycle.on("approved", invoicing.invoice_rotation)
        lifecycle.on("cancelled", cancellation.credit_cancelled_rotation)
        from rotations import readiness as rotation_readiness

        # Start-date readiness: paid as due, or the school confirmed (§5).
        rotation_readiness.register(readiness.payment_readiness)
        # School payers: a card on file before approval completes, then the school's
        # signed confirm/refuse link (after invoicing, so the link names the amount).
        lifecycle.on("approved", school.require_card_and_ask_the_school)
        lifecycle.on("moved", school.follow_the_new_start)
        # A move: unpaid installments follow the Friday before the new start.
        from payments import rescheduling

        lifecycle.on("moved", rescheduling.follow_the_new_friday)
