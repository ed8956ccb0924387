from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "matching"

    def ready(self):
        # Once models are loaded: put "please answer" and "Rank the people you met" cards on
        # people's home pages (the core asks through a signal, never importing matching) and
        # the proposals awaiting an answer on the coordinator dashboard.
        from . import selectors  # noqa: F401, PLC0415
