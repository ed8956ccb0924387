from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "groups"

    def ready(self):
        # Once models are loaded: the groups' parts of the person page, Today and Home.
        from . import selectors  # noqa: F401, PLC0415
