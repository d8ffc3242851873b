from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "documents"

    def ready(self):
        from django.db.models.signals import post_migrate, post_save

        from documents import catalog, certificates, checklist, pages, requirements, school_link
        from rotations import certificates as eligibility_certificates
        from rotations import lifecycle, panels, readiness
        from usdoctors.models import Organization

        # The catalog is data; a test's flush empties it, and post_migrate writes it again.
        post_migrate.connect(
            catalog.write_catalog_after_migrate, sender=self, dispatch_uid="documents.catalog"
        )
        # A new organization starts with the default required set (§7).
        post_save.connect(
            requirements.give_new_organization_the_defaults,
            sender=Organization,
            dispatch_uid="documents.default_requirements",
        )
        # The school contact gets the signed upload link when a rotation is requested.
        lifecycle.on("requested", school_link.email_the_school_contact)
        # Start-date readiness: every checklist item approved and valid (§5, §7).
        readiness.register(checklist.document_readiness)
        # The eligibility check asks which certificates a student holds (§13).
        eligibility_certificates.register(
            certificates.TYPES,
            certificates.held,
            certificates.held_sql,
            certificates.held_codes_sql,
        )
        # The rotation page's checklist section.
        panels.register(pages.rotation_checklist_panel)
        # The rotation page's "Visa refused?" section (§15).
        from documents import visa_refusal_pages

        panels.register(visa_refusal_pages.visa_refusal_panel)
