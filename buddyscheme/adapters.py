from email.utils import formataddr
from typing import Any
from urllib.parse import quote, urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.core.internal import ratelimit
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from . import throttle


class _Site:
    """What allauth's templates call `current_site`: the discreet name and the public host,
    never the host of whatever request happened to send the email."""

    def __init__(self, name: str):
        self.name = name
        self.domain = urlsplit(settings.SITE_URL).netloc


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": "Too many failed login attempts. Try again in a few minutes, "
        "sign in on a device you have used before, or reset your password by email.",
    }

    def is_open_for_signup(self, request):
        # People join a scheme only through a coordinator's invitation.
        return False

    # Throttling (buddyscheme/throttle.py says why each rule is there).

    def pre_authenticate(self, request, **credentials: Any) -> None:
        email = throttle.normalised(credentials.get("email") or credentials.get("username"))
        device = throttle.known_device(request, email)
        if device:
            # A device the account has signed in on before has its own budget, so guesses from
            # anywhere else never keep the owner out.
            usage = ratelimit.consume(
                request,
                app="allauth.account",
                action="login_failed_device",
                key=f"{device}:{throttle.account_tag(email)}",
            )
        else:
            usage = ratelimit.consume(
                request,
                app="allauth.account",
                action="login_failed",
                key=f"{ratelimit.get_ip(request)}:{email}",
            )
            if usage and not throttle.account_gate_open(email):
                usage.rollback()
                usage = None
        self._login_failed_rl_usage = usage
        if not usage:
            raise self.validation_error("too_many_login_attempts")

    def authentication_failed(self, request, **credentials: Any) -> None:
        email = throttle.normalised(credentials.get("email") or credentials.get("username"))
        if throttle.account_failed(email):
            self._send_failed_logins_notice(email)

    def _send_failed_logins_notice(self, email: str) -> None:
        user = get_user_model().objects.filter(email__iexact=email, is_active=True).first()
        if user is None:
            return
        self.send_mail(
            "account/email/failed_logins",
            user.email,
            {"password_reset_url": settings.SITE_URL + reverse("account_reset_password")},
        )

    def _delete_login_attempts_cached_email(self, request, **credentials: Any) -> None:
        # A reset through the emailed link proves the mailbox: the account is no longer slowed.
        throttle.account_clear(credentials.get("email") or "")

    def post_login(self, request, user, **kwargs: Any):
        response = super().post_login(request, user, **kwargs)
        throttle.remember_device(request, response, user.email)
        return response

    # Emails: the scheme's discreet sender name and the public address, plain text and HTML.

    def _sender_name(self, email: str) -> str:
        user = get_user_model().objects.filter(email__iexact=email).first()
        membership = (
            user.memberships.filter(is_active=True).select_related("scheme").first()
            if user is not None
            else None
        )
        return membership.scheme.sender_name if membership else settings.SITE_NAME

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        name = self._sender_name(email)
        site = _Site(name)
        context = {
            "request": allauth_context.request,
            "email": email,
            **context,
            "current_site": site,
            "sender_name": name,
            "site_url": settings.SITE_URL,
            "login_url": settings.SITE_URL + reverse("account_login"),
        }
        message = self.render_mail(template_prefix, email, context)
        message.from_email = formataddr((name, settings.DEFAULT_FROM_EMAIL))
        message.send()

    def get_reset_password_from_key_url(self, key: str) -> str:
        # The public address, not the Host header of the request that asked for the reset.
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return settings.SITE_URL + path.replace("UID-KEY", quote(key))
