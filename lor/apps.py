from django.apps import AppConfig


class LorConfig(AppConfig):
    name = "lor"
    verbose_name = "Letters of recommendation"

    def ready(self):
        from lor import pages, services
        from payments import paid
        from payments.models import InvoiceKind
        from rotations import lifecycle, panels

        # The LOR fee's invoice, once paid, releases the writer's address (§8).
        paid.on(InvoiceKind.LOR_FEE, services.release_after_payment)
        # A completed rotation invites the student to ask its attending for a letter.
        lifecycle.on("completed", services.invite_to_request)
        # A completed rotation's page offers to request a letter; a letter's page links back.
        panels.register(pages.rotation_letters_panel)
