"""Password guessing is throttled without letting anyone lock a person out of their account.

Three rules, all in the shared cache (allauth's rate limits live there too), all keyed by the
address typed into the form whether or not an account has it, so the answers are the same for
known and unknown addresses:

- per address and per address + account (ACCOUNT_RATE_LIMITS["login_failed"]): one network
  cannot guess much, but a wrong guess from an attacker's network does not count against the
  owner on theirs. Successful sign-ins are rolled back, so 50 buddies at a group event behind one
  router all get in.
- per account, from every address: after SLOW_AFTER failures within WINDOW, attempts from a
  device the account has not signed in on are let through one at a time, with a delay that
  doubles with each further failure up to MAX_DELAY. Nothing is ever locked: the owner signs in
  from a device they have used before (a signed long-lived cookie set at each successful sign-in,
  with its own budget, ACCOUNT_RATE_LIMITS["login_failed_device"]), waits a minute, or resets
  their password by email, which clears the count.
- the owner is told once per WINDOW, by a discreet email, that their account is seeing failed
  sign-ins.
"""

import hashlib
import time

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import get_random_string, salted_hmac

SLOW_AFTER = 10
WINDOW = 60 * 60
MAX_DELAY = 120

DEVICE_COOKIE = "buddy_device"
DEVICE_COOKIE_AGE = 365 * 24 * 60 * 60
DEVICE_SALT = "buddyscheme.throttle.device"
# A shared family computer may be used by a few people; the oldest falls off.
DEVICE_ACCOUNTS = 5


def normalised(email: str | None) -> str:
    return (email or "").strip().lower()


def _account_key(email: str, part: str) -> str:
    digest = hashlib.sha256(normalised(email).encode()).hexdigest()
    return f"throttle:account:{part}:{digest}"


def account_tag(email: str) -> str:
    """What the device cookie holds for an account: a keyed hash, never the address itself."""
    return salted_hmac(DEVICE_SALT, normalised(email), algorithm="sha256").hexdigest()[:24]


# Device cookie.


def _read_device(request: HttpRequest) -> dict | None:
    value = request.COOKIES.get(DEVICE_COOKIE)
    if not value:
        return None
    try:
        data = signing.loads(value, salt=DEVICE_SALT, max_age=DEVICE_COOKIE_AGE)
    except (signing.BadSignature, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("accounts"), list):
        return None
    return data


def known_device(request: HttpRequest, email: str) -> str | None:
    """The device's id when this browser has signed in to this account before, else None."""
    data = _read_device(request)
    if data and account_tag(email) in data["accounts"]:
        return str(data.get("device", ""))
    return None


def remember_device(request: HttpRequest, response: HttpResponse, email: str) -> None:
    data = _read_device(request) or {"device": get_random_string(20), "accounts": []}
    tag = account_tag(email)
    accounts = [item for item in data["accounts"] if item != tag] + [tag]
    data["accounts"] = accounts[-DEVICE_ACCOUNTS:]
    response.set_cookie(
        DEVICE_COOKIE,
        signing.dumps(data, salt=DEVICE_SALT),
        max_age=DEVICE_COOKIE_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


# Per-account slow-down.


def _recent_failures(email: str, now: float) -> list[float]:
    return [
        stamp for stamp in cache.get(_account_key(email, "failures"), []) if stamp > now - WINDOW
    ]


def account_delay(email: str, now: float | None = None) -> int:
    """Seconds between two attempts on this account from unknown devices; 0 when not slowed."""
    failures = len(_recent_failures(email, time.time() if now is None else now))
    if failures < SLOW_AFTER:
        return 0
    return min(2 ** (failures - SLOW_AFTER), MAX_DELAY)


def account_gate_open(email: str) -> bool:
    """Let one attempt through per delay. The time of the last one let through is read and
    written under a lock (an atomic add), so parallel guesses do not slip past together; an
    attempt that finds the lock taken is simply refused. The rule follows the clock, not the
    cache's expiry."""
    now = time.time()
    delay = account_delay(email, now)
    if not delay:
        return True
    lock = _account_key(email, "gate-lock")
    if not cache.add(lock, True, timeout=10):
        return False
    try:
        last = cache.get(_account_key(email, "gate"))
        if last is not None and now - last < delay:
            return False
        cache.set(_account_key(email, "gate"), now, WINDOW)
        return True
    finally:
        cache.delete(lock)


def account_failed(email: str) -> bool:
    """Counts a failure on the account; True when the owner should now be told (once a window)."""
    now = time.time()
    failures = [*_recent_failures(email, now), now]
    cache.set(_account_key(email, "failures"), failures, WINDOW)
    if len(failures) < SLOW_AFTER:
        return False
    # One notice per window of the clock: the first failure past the threshold in it sends it.
    slot = int(now // WINDOW)
    return cache.add(_account_key(email, f"told:{slot}"), True, timeout=WINDOW)


def account_clear(email: str) -> None:
    """After a password reset by email: the owner has proved they hold the mailbox."""
    cache.delete(_account_key(email, "failures"))
