from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "matching"

    def ready(self):
        # Once models are loaded: put "Rank the people you met" on buddies' and participants'
        # home pages (the core asks through a signal, never importing matching).
        from . import selectors  # noqa: F401, PLC0415
