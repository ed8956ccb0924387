from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"

    def ready(self):
        # Once models are loaded: answer the core's home cards, dashboard and settings hub.
        from . import selectors  # noqa: F401, PLC0415
