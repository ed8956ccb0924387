"""How a message leaves the building: an email (built by emails.email_build) through Django's
mailer, SMS through a small backend interface chosen by SMS_BACKEND (console by default, or an
HTTP provider)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class ChannelError(Exception):
    """The channel refused or failed; the outbox will retry with backoff."""


def email_send(message: EmailMessage) -> None:
    try:
        message.send()
    except OSError as error:
        raise ChannelError(f"email: {type(error).__name__}") from error


class SMSBackend:
    def send(self, notification, text: str) -> None:
        raise NotImplementedError


class ConsoleSMSBackend(SMSBackend):
    """Development: writes that a text would go, never the number or the words (logs are not private)."""

    sent: list = []  # the locmem-style record tests read

    def send(self, notification, text: str) -> None:
        phone = _phone(notification)
        ConsoleSMSBackend.sent.append((notification.pk, phone, text))
        logger.info("SMS notification %s: %d characters", notification.pk, len(text))


class FileSMSBackend(SMSBackend):
    """Tests with a real worker (the browser journeys): each text appended as one JSON line
    {"notification", "to", "text"} to the file SMS_FILE_PATH, which the test reads. Like
    Django's file email backend, for a test or a developer's machine, never production."""

    def send(self, notification, text: str) -> None:
        line = json.dumps(
            {"notification": notification.pk, "to": _phone(notification), "text": text}
        )
        try:
            with open(settings.SMS_FILE_PATH, "a", encoding="utf-8") as file:
                file.write(line + "\n")
        except OSError as error:
            raise ChannelError(f"sms: {type(error).__name__}") from error


class TwilioSMSBackend(SMSBackend):
    """Twilio's Messages API over HTTPS. Settings: SMS_ACCOUNT_ID, SMS_AUTH_TOKEN, SMS_FROM, and
    SMS_API_URL (Twilio's by default; another address for a Twilio-compatible provider, or the
    fault tests' stand-in)."""

    path = "/2010-04-01/Accounts/{account}/Messages.json"

    def send(self, notification, text: str) -> None:
        account, token = settings.SMS_ACCOUNT_ID, settings.SMS_AUTH_TOKEN
        data = urllib.parse.urlencode(
            {"To": _phone(notification), "From": settings.SMS_FROM, "Body": text}
        ).encode()
        url = settings.SMS_API_URL.rstrip("/") + self.path.format(account=account)
        request = urllib.request.Request(url, data=data, method="POST")  # noqa: S310 - from settings
        request.add_header(
            "Authorization", "Basic " + base64.b64encode(f"{account}:{token}".encode()).decode()
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - from settings
                body = json.loads(response.read() or b"{}")
        except (urllib.error.URLError, TimeoutError, ValueError) as error:
            raise ChannelError(f"sms: {type(error).__name__}") from error
        if body.get("status") in ("failed", "undelivered"):
            raise ChannelError(f"sms: provider said {body.get('status')}")


def twilio_signature(url: str, params, auth_token: str) -> str:
    """Twilio's X-Twilio-Signature: base64 HMAC-SHA1, keyed by the auth token, of the full URL
    followed by each POST parameter's name and value, sorted by name (then value)."""
    payload = url
    for name in sorted(set(params)):
        values = params.getlist(name) if hasattr(params, "getlist") else [params[name]]
        for value in sorted(set(values)):
            payload += name + value
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_signature_valid(url: str, params, signature: str, auth_token: str) -> bool:
    """False without a token: an unsigned webhook is never trusted."""
    if not auth_token or not signature:
        return False
    return hmac.compare_digest(twilio_signature(url, params, auth_token), signature)


def phone_e164(raw: str) -> str:
    """A typed phone number as the provider writes it: digits and '+', UK national to +44."""
    phone = "".join(ch for ch in raw if ch.isdigit() or ch == "+")
    if phone.startswith("00"):
        phone = "+" + phone[2:]  # the international prefix dialled from the UK
    elif phone.startswith("0"):
        phone = "+44" + phone[1:]  # UK schemes: national format to E.164
    if phone.startswith("+440"):
        phone = "+44" + phone[4:]  # "+44 (0)7700 …": the trunk zero is not dialled
    return phone


def _phone(notification) -> str:
    profile = getattr(notification.recipient, "profile", None)
    phone = phone_e164(profile.phone if profile else "")
    if not phone:
        raise ChannelError("sms: no phone number")
    return phone


def get_sms_backend() -> SMSBackend:
    return import_string(settings.SMS_BACKEND)()
