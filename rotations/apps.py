from django.apps import AppConfig


class RotationsConfig(AppConfig):
    name = "rotations"

    def ready(self):
        from accounts.privacy import register_attending_relationship
        from rotations.services import attending_shares_active_rotation

        register_attending_relationship(attending_shares_active_rotation)
