"""Django's Redis cache, with one client per connection pool instead of one per call.

Django's RedisCacheClient builds a new redis.Redis object for every cache operation; building
one sets up its table of response callbacks (about 170 entries), which is most of the Python
time of a cache read that itself takes a fraction of a millisecond. The client is thread-safe
(it takes a connection from the pool for each command), so one per pool does.

Also the one guarded helper for keeping worked-out values (`cache_kept`, `cache_forget`,
`cache_bump`), used by the dashboard's body and figures, the pattern flags and the live board.
"""

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from django.db import transaction

logger = logging.getLogger("buddyscheme.cache")


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(
                    self._servers[index], **self._pool_options
                )
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient


# --- One guarded way to keep a worked-out value -----------------------------------------------
# A cache that is down (Redis restarting, a full disk) is logged and worked around: the value is
# worked out afresh, a forget is retried when the transaction commits, and nothing here ever
# fails a page or a save.


@dataclass(frozen=True)
class Kept[T]:
    value: T
    as_of: datetime  # when the value was worked out


def cache_kept[T](
    key: str,
    make: Callable[[], T],
    *,
    seconds: int,
    now: datetime,
    generation_key: str | None = None,
) -> Kept[T]:
    """`make()`'s value, kept under `key` for `seconds` after `now`: from the cache while it is
    younger than that (measured against `now`, so a clock moved in a test counts too) and, with
    `generation_key`, while that counter has not moved since it was kept (`cache_bump`).

    When it has just grown too old, one request works it out again while the others (many
    coordinators, or one reloading) are given the kept one meanwhile, at most `seconds` older,
    with its own `as_of`: a busy page never has every request work out the same thing at once.
    A forget (`cache_forget`, `cache_bump`) has everyone wait for the new value."""
    keys = [key] if generation_key is None else [key, generation_key]
    try:
        found = cache.get_many(keys)
    except Exception:
        logger.warning("cache: no answer reading %s; worked out afresh", key.split(":")[0])
        found = {}
    generation = found.get(generation_key) if generation_key else None
    entry = found.get(key)
    lifetime = timedelta(seconds=seconds)
    if (
        isinstance(entry, dict)
        and "value" in entry  # not an earlier release's shape
        and entry.get("generation") == generation
        and entry["as_of"] <= now < entry["as_of"] + 2 * lifetime
        and (now < entry["as_of"] + lifetime or not _claim(key, seconds))
    ):
        return Kept(entry["value"], entry["as_of"])
    value = make()
    try:
        cache.set(key, {"value": value, "as_of": now, "generation": generation}, 2 * seconds)
        cache.delete(f"{key}:working")
    except Exception:
        logger.warning("cache: no answer keeping %s", key.split(":")[0])
    return Kept(value, now)


def _claim(key: str, seconds: int) -> bool:
    """Whether this request works the value out again (no other is doing it now)."""
    try:
        return cache.add(f"{key}:working", 1, seconds)
    except Exception:
        return True


def _delete(keys: list[str]) -> None:
    try:
        cache.delete_many(keys)
    except Exception:
        # A stale entry lives at most its short lifetime: say so, never fail the save.
        logger.warning("cache: could not forget %d entries", len(keys))


def cache_forget(*keys: str) -> None:
    """Forget these entries now and again when the current transaction commits (a request that
    read the old rows meanwhile cannot leave them behind)."""
    if not keys:
        return
    _delete(list(keys))
    transaction.on_commit(lambda: _delete(list(keys)))


def cache_bump(generation_key: str) -> None:
    """Move a generation on: every entry kept with it is forgotten at once.

    The generation is a fresh token stored with no expiry, not a count: Django's incr on the
    file and local-memory caches re-stores the number with the default lifetime, so a
    generation that then expired read as "none" and matched entries kept before it (found when
    the board's and the dashboard's helpers were merged); a count that is evicted and starts
    again could also repeat an old value. One SET, as cheap as Redis's INCR."""
    try:
        cache.set(generation_key, uuid.uuid4().hex, None)
    except Exception:
        logger.warning("cache: could not move %s on", generation_key.split(":")[0])
