from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "matching"

    def ready(self):
        # Once models are loaded: put matches on the person page.
        from . import selectors  # noqa: F401, PLC0415
