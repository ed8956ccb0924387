from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect

from .access import coordinator_scheme_ids, mfa_missing, redirect_to_mfa_setup


class BuddyAdminSite(admin.AdminSite):
    """The admin for coordinators: allauth's rate-limited login, MFA, rows of their schemes only."""

    site_header = "Buddy scheme administration"
    site_title = "Buddy scheme admin"
    index_title = "Manage your scheme"

    def has_permission(self, request):
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        return user.is_superuser or bool(coordinator_scheme_ids(user))

    def login(self, request, extra_context=None):
        # No second, unthrottled login form: send everyone through allauth.
        return secure_admin_login(super().login)(request, extra_context)

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def wrapper(request, *args, **kwargs):
            user = request.user
            if user.is_authenticated and self.has_permission(request) and mfa_missing(user):
                return redirect_to_mfa_setup(request)
            return inner(request, *args, **kwargs)

        wrapper.__wrapped__ = inner
        wrapper.admin_site = self
        wrapper.csrf_exempt = getattr(inner, "csrf_exempt", False)
        return wrapper

    def logout(self, request, extra_context=None):
        # Logging out changes state: POST only (the admin's own button posts), as Django's.
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return redirect("account_logout")
