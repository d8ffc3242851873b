from django.apps import AppConfig


class PortalConfig(AppConfig):
    """What combines every app, above them all (STYLE §1): the member's dashboard and the
    demo data. Nothing below imports portal."""

    name = "portal"
