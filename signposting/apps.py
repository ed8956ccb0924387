from django.apps import AppConfig


class SignpostingConfig(AppConfig):
    """The scheme's signposting directory and each participant's next-steps plan after an
    ending (seed 003: "Signposting people is an important part of moving on")."""

    name = "signposting"

    def ready(self):
        # The match_ended receiver lives in services, the page sections in selectors.
        from . import selectors, services  # noqa: F401, PLC0415
