"""Who is asking, without asking the database on every request.

A logged-in request needs the user and their active memberships (with their schemes). Loaded
from PostgreSQL, that is two queries on every page. Here they are kept in the cache (Redis in
production) under the user's id, as they were loaded, and forgotten whenever a user, a
membership or a scheme is saved or deleted (at once, and again when the transaction commits,
so a request that read the old rows meanwhile cannot leave them behind). They also expire
after ACCESS_CACHE_SECONDS, for a change made behind the ORM's back (raw SQL).

The session is still checked on every request exactly as Django does (the password-derived
hash in the session must match the user's), so a password change or a deactivated account
signs the person out as before. A cache that does not answer costs the two queries, never a
page.
"""

import logging

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger("buddyscheme.access_cache")

ACCESS_CACHE_SECONDS = 5 * 60
_VERSION = 1  # bumped when what is kept changes shape


def _key(user_id) -> str:
    return f"access:v{_VERSION}:{user_id}"


def access_load(user_id):
    """(user, memberships) as stored, or None."""
    try:
        return cache.get(_key(user_id))
    except Exception:
        logger.warning("access cache: the cache did not answer; the database serves")
        return None


def access_store(user, memberships) -> None:
    try:
        cache.set(_key(user.pk), (user, list(memberships)), ACCESS_CACHE_SECONDS)
    except Exception:
        logger.warning("access cache: the cache did not take an entry")


def _delete(keys) -> None:
    try:
        cache.delete_many(keys)
    except Exception:
        # A stale entry could outlive a change for up to ACCESS_CACHE_SECONDS: say so loudly.
        logger.error("access cache: could not forget %d entries", len(keys))


def access_forget(*user_ids) -> None:
    """Forget these users' entries now and once the current transaction commits."""
    keys = [_key(user_id) for user_id in user_ids if user_id is not None]
    if not keys:
        return
    _delete(keys)
    transaction.on_commit(lambda: _delete(keys))


def _user_changed(sender, instance, **kwargs):
    access_forget(instance.pk)


def _membership_changed(sender, instance, **kwargs):
    access_forget(instance.user_id)


def _scheme_changed(sender, instance, **kwargs):
    from .models import Membership  # noqa: PLC0415

    if instance.pk is None:
        return
    access_forget(
        *Membership.objects.filter(scheme_id=instance.pk)
        .values_list("user_id", flat=True)
        .distinct()
    )


def connect_signals() -> None:
    from django.db.models.signals import post_delete, post_save  # noqa: PLC0415

    from .models import Membership, Scheme, User  # noqa: PLC0415

    for signal in (post_save, post_delete):
        signal.connect(_user_changed, sender=User, dispatch_uid=f"access_user_{signal}")
        signal.connect(
            _membership_changed, sender=Membership, dispatch_uid=f"access_membership_{signal}"
        )
        signal.connect(_scheme_changed, sender=Scheme, dispatch_uid=f"access_scheme_{signal}")
