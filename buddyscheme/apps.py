from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.contrib.auth.signals import user_logged_in


class BuddySchemeConfig(AppConfig):
    name = "buddyscheme"
    verbose_name = "Schemes and people"
    default = True

    def ready(self):
        # Receivers of the core's own signals: the person page's recruitment section, the
        # referrals line on the coordinator dashboard (a dashboard_sections receiver), and the
        # kept dashboard body forgotten when anyone acts (an audit row) in every process, so a
        # worker's or a command's action shows on the dashboard at once too.
        from . import dashboard, interviews, referrals  # noqa: F401, PLC0415

        # Once models are loaded (the middleware module reads them): stamp each new login's
        # session with its start and its idle refresh.
        from .middleware import session_started  # noqa: PLC0415

        user_logged_in.connect(session_started, dispatch_uid="buddyscheme_session_started")

        # The cached user and memberships are forgotten when any of them change, in every
        # process (web, worker, management commands).
        from .access_cache import connect_signals  # noqa: PLC0415

        connect_signals()
        from .middleware import access_cached_at_login  # noqa: PLC0415

        user_logged_in.connect(access_cached_at_login, dispatch_uid="buddyscheme_access_cached")


class BuddyAdminConfig(admin_apps.AdminConfig):
    """The Django admin, with a site that admits coordinators and scopes rows to their schemes."""

    default = False
    default_site = "buddyscheme.admin_site.BuddyAdminSite"
