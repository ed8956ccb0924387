from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"

    def ready(self):
        from . import selectors  # noqa: F401, PLC0415 - registers "Missed this month" on the dashboard once models are loaded
