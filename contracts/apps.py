from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "contracts"

    def ready(self):
        from . import services  # noqa: F401 - registers the match-activation rule
