from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class BuddySchemeConfig(AppConfig):
    name = "buddyscheme"
    verbose_name = "Schemes and people"
    default = True

    def ready(self):
        # Receivers of the core's own signals: the person page's recruitment section, and the
        # referrals line on the coordinator dashboard (a dashboard_sections receiver).
        from . import interviews, referrals  # noqa: F401, PLC0415


class BuddyAdminConfig(admin_apps.AdminConfig):
    """The Django admin, with a site that admits coordinators and scopes rows to their schemes."""

    default = False
    default_site = "buddyscheme.admin_site.BuddyAdminSite"
