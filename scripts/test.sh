#!/usr/bin/env bash
# The whole suite: on PostgreSQL + Redis (with the browser tests), then again on SQLite.
# Under CI=true PostgreSQL and Redis are required: their tests fail rather than skip.
set -uo pipefail
cd "$(dirname "$0")/.."
export DJANGO_ALLOW_ASYNC_UNSAFE=true
pytest=(.venv/bin/pytest -q -r fE)
services=$(bash scripts/services.sh)
status=0

if [[ "$services" == *postgres* && "$services" == *redis* ]] || [ "${CI:-}" = "true" ]; then
    echo "== Test suite on PostgreSQL + Redis (with browser tests) =="
    DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/buddyscheme}" \
    CELERY_BROKER_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}/0" \
    CACHE_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}/1" \
        "${pytest[@]}" || status=1
    echo "== Test suite on SQLite (embedded default) =="
    "${pytest[@]}" -m "not postgres and not redis and not browser" || status=1
else
    echo "!! PostgreSQL or Redis is not reachable: running on SQLite only (CI requires both)."
    "${pytest[@]}" -m "not postgres and not redis" || status=1
fi
exit $status
