from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "matching"

    def ready(self):
        # Once models are loaded: tell the core whom each buddy supports.
        from . import selectors  # noqa: F401, PLC0415
