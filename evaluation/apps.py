from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "evaluation"

    def ready(self):
        # The dashboard's "Needs me today" additions and figures, and the evidence pack's link
        # (the core asks by signal: dashboard_sections, dashboard_figures).
        from . import dashboard, evidence  # noqa: F401, PLC0415
