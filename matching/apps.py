from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "matching"

    def ready(self):
        # Once models are loaded: "please answer" and "Rank the people you met" cards on
        # people's home pages, the participant's Home sections, whom each buddy supports, matches
        # on the person page (the core asks through signals, never importing matching) and the
        # dashboard's figures; the ending flow's dashboard, person-page and Today parts.
        from . import endings, goal_selectors, menu, selectors  # noqa: F401, PLC0415
