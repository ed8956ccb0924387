from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"

    def ready(self):
        from . import services  # noqa: F401 - follows changes of a buddy's support person
