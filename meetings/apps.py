from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"

    def ready(self):
        from . import selectors  # noqa: F401 - puts "Missed this month" on the dashboard
