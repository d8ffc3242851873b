from django.apps import AppConfig


class UsdoctorsConfig(AppConfig):
    name = "usdoctors"
    verbose_name = "Platform"

    def ready(self):
        from usdoctors import inprocess_beat

        inprocess_beat.start_if_enabled()
        self.register_audited_models()

    @staticmethod
    def register_audited_models() -> None:
        """Organization settings go to the audit trail (issue 10, accounts.audit), housing
        partners included. Only these fields; the PayPal secret's ciphertext is masked
        (``mask_fields``)."""
        from auditlog.registry import auditlog

        from usdoctors.models import HousingPartner, Organization

        auditlog.register(
            Organization,
            include_fields=[
                "name",
                "slug",
                "is_active",
                "card_surcharge_rate",
                "immigration_letter_fee",
                "attending_response_days",
                "verification_target_hours",
                "weekly_plan_min_lead_days",
                "support_email",
                "payment_gateway",
                "paypal_environment",
                "paypal_client_id",
                "paypal_webhook_id",
                "zelle_instructions",
                "wire_instructions",
                # The ciphertext, masked: the trail shows that the secret changed, not it.
                "paypal_client_secret_encrypted",
            ],
            mask_fields=["paypal_client_secret_encrypted"],
        )
        auditlog.register(HousingPartner, include_fields=["name", "url", "notes", "order"])
