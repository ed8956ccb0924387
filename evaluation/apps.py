from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "evaluation"

    def ready(self):
        # The dashboard's "Needs me today" additions and figures, and the evidence pack's link
        # (the core asks by signal: dashboard_sections, dashboard_figures); the receivers that
        # send questionnaires at a match's start, review and end, and the person-page section.
        from . import dashboard, evidence, questionnaires  # noqa: F401, PLC0415
