"""A signed-in session for the security scanner (`make scan`), printed as a Cookie header
value: the session and a CSRF cookie (so the forms it posts carry a token that matches, and
its attacks reach the views instead of stopping at the CSRF check).

Only for the plain-HTTP demo (SECURE_HTTPS=false, as `make run` and `make scan` set): a
production instance refuses, so this cannot become a way round the sign-in and its second step.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client


class Command(BaseCommand):
    help = "Print a session cookie value for a demo user (the scanner signs in with it)."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        if settings.SECURE_HTTPS:
            raise CommandError("Only for the demo served over plain HTTP (SECURE_HTTPS=false).")
        user = get_user_model().objects.filter(email__iexact=email, is_active=True).first()
        if user is None:
            raise CommandError("No active user with that email.")
        client = Client()
        client.force_login(user)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        csrf = _get_new_csrf_string()
        self.stdout.write(
            f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={csrf}"
        )
