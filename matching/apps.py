from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "matching"

    def ready(self):
        # Once models are loaded: put "please answer" cards on people's home pages and the
        # proposals awaiting an answer on the coordinator dashboard.
        from . import selectors  # noqa: F401, PLC0415
