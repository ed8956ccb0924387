import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "buddyscheme.settings")
application = get_wsgi_application()

# The web process watches the safety net itself (buddyscheme/watchdog.py): when the sweeper
# and Celery are down, it is the one left to tell staff.
from django.conf import settings  # noqa: E402 - needs the application set up first

if settings.SAFETY_WATCHDOG_SECONDS:
    from buddyscheme.watchdog import start_watchdog  # noqa: E402, PLC0415 - as above

    start_watchdog(settings.SAFETY_WATCHDOG_SECONDS)
