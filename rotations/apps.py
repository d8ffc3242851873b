from django.apps import AppConfig


class RotationsConfig(AppConfig):
    name = "rotations"
    verbose_name = "Rotations and attendings"

    def ready(self):
        from auditlog.registry import auditlog
        from django.db.models.signals import post_save

        from accounts.models import Membership
        from accounts.privacy import register_attending_relationship
        from rotations import panels
        from rotations.housing import housing_panel
        from rotations.models import AttendingProfile
        from rotations.services import (
            attending_has_waiting_request_from,
            attending_shares_active_rotation,
        )

        # The student's "Where to stay" on an approved in-person rotation (rotations.housing).
        panels.register(housing_panel)
        register_attending_relationship(attending_shares_active_rotation)
        # §3: the requested attending sees the profile and CV (not documents) meanwhile.
        register_attending_relationship(attending_has_waiting_request_from)
        # Audit trail (issue 10, accounts.audit): the NPI and the admins' check of it.
        auditlog.register(AttendingProfile, include_fields=["npi", "npi_verified_at"])
        # A profile is listed in search while its member is an attending (rotations.search).
        post_save.connect(keep_listed, sender=Membership, dispatch_uid="rotations.keep_listed")


def keep_listed(sender, instance, **kwargs):
    """A membership saved anywhere (an admin's role change, a staff edit) keeps its
    profile's ``listed`` flag; the membership names the organization."""
    from django_scopes import scopes_disabled

    from rotations.models import AttendingProfile

    listed = instance.role == "attending"
    with scopes_disabled():
        AttendingProfile.objects.filter(
            organization_id=instance.organization_id, membership=instance
        ).exclude(listed=listed).update(listed=listed)
