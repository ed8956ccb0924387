"""What every public form (no login) shares: a honeypot field and rate limits.

Public forms (a scheme's application, referral and anonymous feedback forms) take input from
anyone. Two defences, neither a third-party CAPTCHA:

- ``HoneypotMixin`` adds a field people never see (visually hidden, skipped by the keyboard,
  ``autocomplete="off"``); bots that fill every input fill it too. A filled honeypot is not an
  error shown to the sender: the view pretends to accept and keeps nothing (``is_spam``).
- ``allow_public_post`` counts posts with django-allauth's rate limiter (the same cache and
  code that throttle logins), per address and per ``key`` (an email address or a session id),
  with rates from ``ACCOUNT_RATE_LIMITS`` under the action's name.
"""

from __future__ import annotations

import hashlib

from allauth.core import ratelimit
from django import forms
from django.http import HttpRequest

HONEYPOT_FIELD = "website"


class HoneypotMixin(forms.Form):
    """Adds the hidden ``website`` field; ``is_spam`` is true when it was filled."""

    website = forms.CharField(
        required=False,
        label="Leave this empty",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "tabindex": "-1", "class": "visually-hidden-field"}
        ),
    )

    @property
    def is_spam(self) -> bool:
        return bool((self.data.get(self.add_prefix(HONEYPOT_FIELD)) or "").strip())


def allow_public_post(request: HttpRequest, action: str, key: str | None = None) -> bool:
    """True if this post is within the limits for ``action`` (per IP, and per key if given).

    The key is hashed before it reaches the cache, so no email address is stored there.
    """
    hashed = hashlib.sha256(key.strip().lower().encode()).hexdigest()[:32] if key else None
    return ratelimit.consume(request, action=action, key=hashed)
