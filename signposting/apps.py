from django.apps import AppConfig


class SignpostingConfig(AppConfig):
    """The scheme's signposting directory and each participant's next-steps plan after an
    ending (seed 003: "Signposting people is an important part of moving on")."""

    name = "signposting"
