from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "matching"

    def ready(self):
        # Once models are loaded: the participant's Home cards and the dashboard figure.
        from . import selectors  # noqa: F401, PLC0415
