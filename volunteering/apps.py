from django.apps import AppConfig


class VolunteeringConfig(AppConfig):
    name = "volunteering"

    def ready(self):
        # Selectors answer the dashboard and the buddy's Today; models load only once apps are.
        from . import selectors  # noqa: F401, PLC0415
