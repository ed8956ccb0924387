import os

import pytest
from django.conf import settings
from django.db import connection

IN_CI = os.environ.get("CI") == "true"


def pytest_configure(config):
    # Real password hashing is slow by design; tests log people in many times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    # allauth keeps login rate limits in the cache, which outlives a test run.
    from django.core.cache import cache

    cache.clear()
    yield


def pytest_collection_modifyitems(config, items):
    """Tests marked postgres/redis must run on the real thing: under CI, never skip them."""
    for item in items:
        if item.get_closest_marker("postgres"):
            item.fixturenames.append("_require_postgres")
        if item.get_closest_marker("redis"):
            item.fixturenames.append("_require_redis")


@pytest.fixture
def _require_postgres(django_db_blocker):
    with django_db_blocker.unblock():
        vendor = connection.vendor
    assert vendor == "postgresql", (
        f"this test needs PostgreSQL but DATABASE_URL points at {vendor}; "
        "run it through `make test`, which starts PostgreSQL"
    )


@pytest.fixture
def _require_redis():
    import redis

    url = settings.CELERY_BROKER_URL
    assert url.startswith("redis"), f"this test needs Redis but CELERY_BROKER_URL is {url!r}"
    redis.Redis.from_url(url, socket_connect_timeout=2).ping()
