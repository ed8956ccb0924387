"""Sessions in the cache with the database behind them (SESSION_ENGINE).

Django's `cached_db`: a logged-in request reads its session from the cache (Redis in
production, the file cache under var/ otherwise), and every write goes to the database first,
so a cache that is emptied or restarted loses nobody's session. One difference: a cache that
does not answer (Redis down) never fails a page. Django's version already reads past it, but
then writes the session back to it unguarded, which would turn every logged-in page into a 500
while Redis is down; here the database alone serves until the cache is back.
"""

import logging
import time

from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.contrib.sessions.backends.db import SessionStore as DBStore

logger = logging.getLogger("buddyscheme.sessions")

# Written into the session by the idle refresh (buddyscheme/middleware.py) each time its expiry
# is pushed on: the session expires SESSION_COOKIE_AGE after it.
SESSION_REFRESHED_KEY = "session_refreshed_at"


def _outlived(data: dict) -> bool:
    """A cached session whose own refresh stamp says it has expired. The cache's lifetime
    normally drops it first; this keeps the idle timeout exact however the cache keeps time."""
    refreshed = data.get(SESSION_REFRESHED_KEY)
    return isinstance(refreshed, int | float) and (
        time.time() - refreshed >= settings.SESSION_COOKIE_AGE
    )


class SessionStore(CachedDBStore):
    def load(self):
        try:
            data = self._cache.get(self.cache_key)
        except Exception:  # any cache failure: the database has the session
            data = None
        if data is not None and not _outlived(data):
            return data
        stored = self._get_session_from_db()  # None once its expire_date has passed
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        try:
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=stored.expire_date))
        except Exception:
            logger.warning("sessions: the cache did not take a session; the database serves it")
        return data

    def exists(self, session_key):
        if session_key:
            try:
                if (self.cache_key_prefix + session_key) in self._cache:
                    return True
            except Exception:
                logger.warning("sessions: the cache did not answer; asking the database")
        return DBStore.exists(self, session_key)

    def delete(self, session_key=None):
        DBStore.delete(self, session_key)
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        try:
            self._cache.delete(self.cache_key_prefix + session_key)
        except Exception:
            logger.warning("sessions: the cache did not forget a deleted session")
