from django.apps import AppConfig


class RotationsConfig(AppConfig):
    name = "rotations"

    def ready(self):
        from auditlog.registry import auditlog

        from accounts.privacy import register_attending_relationship
        from rotations.models import AttendingProfile
        from rotations.services import (
            attending_has_waiting_request_from,
            attending_shares_active_rotation,
        )

        register_attending_relationship(attending_shares_active_rotation)
        # §3: the requested attending sees the profile and CV (not documents) meanwhile.
        register_attending_relationship(attending_has_waiting_request_from)
        # Audit trail (issue 10, accounts.audit): the NPI and the admins' check of it.
        auditlog.register(AttendingProfile, include_fields=["npi", "npi_verified_at"])
