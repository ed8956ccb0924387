from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "evaluation"

    def ready(self):
        # Connects the receivers that send questionnaires at a match's start, review and end,
        # and the person-page section.
        from . import questionnaires  # noqa: F401, PLC0415
