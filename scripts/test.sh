#!/usr/bin/env bash
# The whole suite: on PostgreSQL + Redis (with the browser tests), then again on SQLite, then
# the fault tests (faults/: their own PostgreSQL, Redis and processes, killed on purpose)
# wherever PostgreSQL's binaries and redis-server are installed.
# Under CI=true all three are required: their tests fail rather than skip.
# FAULTS=skip leaves the fault tests out of a local run (about 13 minutes); CI refuses it.
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

if [ "${CI:-}" = "true" ] || [ "${FAULTS:-}" != "skip" ]; then
    if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && command -v redis-server >/dev/null; then
        echo "== Fault tests with real processes (own PostgreSQL and Redis; about 13 minutes) =="
        env -u DJANGO_ALLOW_ASYNC_UNSAFE .venv/bin/pytest faults/ -q -r fE -p no:cacheprovider || status=1
    elif [ "${CI:-}" = "true" ]; then
        echo "!! Fault tests need PostgreSQL's binaries and redis-server (CI requires them)."
        status=1
    else
        echo "!! Fault tests not run: PostgreSQL's binaries or redis-server are not installed."
    fi
else
    echo "== Fault tests left out (FAULTS=skip) =="
fi
exit $status
