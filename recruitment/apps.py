from django.apps import AppConfig


class RecruitmentConfig(AppConfig):
    name = "recruitment"

    def ready(self):
        # Once models are loaded: the front door on the settings hub, references on the person
        # page, and references asked for when a buddy reaches the references stage.
        from . import selectors, services  # noqa: F401, PLC0415
