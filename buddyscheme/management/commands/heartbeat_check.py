"""Exit 0 when a heartbeat is fresh, 1 when stale or missing: a container healthcheck.

manage.py heartbeat_check sweep    the sweeper (or beat's sweep) ran in the last 2 minutes
manage.py heartbeat_check celery   beat scheduled, and a worker ran, the heartbeat task
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from buddyscheme.selectors import heartbeat_age


class Command(BaseCommand):
    help = "Fail when the named heartbeat is older than HEARTBEAT_MAX_AGE_SECONDS."

    def add_arguments(self, parser):
        parser.add_argument("name", choices=["sweep", "celery"])

    def handle(self, *args, name, **options):
        age = heartbeat_age(name)
        if age is None:
            raise CommandError(f"no {name} heartbeat yet")
        if age.total_seconds() > settings.HEARTBEAT_MAX_AGE_SECONDS:
            raise CommandError(f"the {name} heartbeat is {age.total_seconds():.0f} s old")
        self.stdout.write(f"{name}: {age.total_seconds():.0f} s old")
