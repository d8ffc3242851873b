from django.apps import AppConfig


class UsdoctorsConfig(AppConfig):
    name = "usdoctors"
    verbose_name = "Platform"

    def ready(self):
        from usdoctors import inprocess_beat

        inprocess_beat.start_if_enabled()
