from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "matching"

    def ready(self):
        # Once models are loaded: "please answer" and "Rank the people you met" cards on
        # people's home pages, the participant's Home sections (the core asks through signals,
        # never importing matching) and the coordinator dashboard's figures.
        from . import selectors  # noqa: F401, PLC0415
