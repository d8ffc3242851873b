from django.apps import AppConfig


class LorConfig(AppConfig):
    name = "lor"
    verbose_name = "Letters of recommendation"

    def ready(self):
        from django.db.models.signals import post_migrate

        from lor import pages, season_seed, services
        from payments import paid
        from payments.models import InvoiceKind
        from rotations import lifecycle, panels

        # The LOR fee's invoice, once paid, releases the writer's address (§8).
        paid.on(InvoiceKind.LOR_FEE, services.release_after_payment)
        # A completed rotation invites the student to ask its attending for a letter.
        lifecycle.on("completed", services.invite_to_request)
        # A completed rotation's page offers to request a letter; a letter's page links back.
        panels.register(pages.rotation_letters_panel)
        # Season dates are data; a test's flush empties them, and post_migrate writes
        # the missing ones again (staff edits stay).
        post_migrate.connect(
            season_seed.write_seasons_after_migrate, sender=self, dispatch_uid="lor.seasons"
        )
