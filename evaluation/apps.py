from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "evaluation"

    def ready(self):
        # The evidence pack's link on the coordinator dashboard (dashboard_sections).
        from . import evidence  # noqa: F401, PLC0415
