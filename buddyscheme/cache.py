"""Django's Redis cache, with one client per connection pool instead of one per call; and
`cached`/`generation_bump`, a guarded read-through helper for results kept per generation.

Django's RedisCacheClient builds a new redis.Redis object for every cache operation; building
one sets up its table of response callbacks (about 170 entries), which is most of the Python
time of a cache read that itself takes a fraction of a millisecond. The client is thread-safe
(it takes a connection from the pool for each command), so one per pool does.
"""

import logging
import time
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient

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


# --- Kept results, forgotten by a generation ----------------------------------------------------
# A generation is a token stored with no expiry; bumping it makes every result kept under the
# old token unused (not deleted: each has its own short lifetime). The token is fresh on each
# bump rather than counted, so a generation that was evicted and set again never repeats an old
# value (a count would start again at 1 and could match an old result).


def generation_bump(generation_key: str) -> None:
    """Whatever was kept under `generation_key` is worked out again on its next read. Never fails
    the caller's save: a cache that does not answer is logged, and results expire by themselves."""
    try:
        cache.set(generation_key, uuid.uuid4().hex, None)
    except Exception:
        logger.warning("cache: a generation was not bumped")


def cached[T](key: str, builder: Callable[[], T], timeout: float, generation_key: str) -> T:
    """`builder()`, kept under `key` for `timeout` seconds or until `generation_key` is bumped,
    in one cache round trip when fresh. A cache that does not answer is worked around (logged,
    the result built), never an error page."""
    try:
        found = cache.get_many([key, generation_key])
    except Exception:
        logger.warning("cache: a read failed; working the result out")
        return builder()
    generation = found.get(generation_key)
    kept = found.get(key)
    # The lifetime is also checked here, by this process's clock: the cache's own expiry runs on
    # its server's clock, which a clock moved in a test (or a server's drift) does not follow.
    now = time.time()
    if kept is not None and kept[0] == generation and kept[1] <= now < kept[1] + timeout:
        return kept[2]
    value = builder()
    try:
        cache.set(key, (generation, now, value), timeout)
    except Exception:
        logger.warning("cache: a result was not kept")
    return value
