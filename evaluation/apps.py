from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "evaluation"

    def ready(self):
        # The dashboard's "Needs me today" additions and figures (the core asks by signal).
        from . import dashboard  # noqa: F401, PLC0415
