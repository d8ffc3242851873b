from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self):
        from payments import plans
        from rotations import lifecycle

        # Rotations announces its transitions and never imports payments (STYLE §7).
        lifecycle.on("requested", plans.refuse_a_plan_not_allowed)
