from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "contracts"

    def ready(self):
        # Importing services connects the match-activation rule, and selectors the Home card and
        # the agreements on the person page. They import models, which cannot load while this
        # module does (the app registry is still being filled).
        from . import selectors, services  # noqa: F401, PLC0415 - models load only once apps are ready
