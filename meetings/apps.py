from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"

    def ready(self):
        # Once models are loaded: register "Missed this month" on the dashboard, and follow
        # changes of a buddy's support person.
        from . import patterns, selectors, services  # noqa: F401, PLC0415
