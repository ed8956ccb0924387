#!/usr/bin/env bash
# make bench: performance figures measured in one run on this machine, as ratios where they
# are timings. Serves the app with gunicorn (2 workers) on a free local port against a
# throwaway SQLite database in var/bench/ (migrated, demo data loaded), then runs
# scripts/bench.py against it. The server is stopped and var/bench/ removed on exit
# (BENCH_KEEP=1 keeps var/bench/ to look at; BENCH_SECONDS sets the seconds per endpoint).
# BENCH_QUICK=1 (run by CI) is the same code on small data, 1 s per endpoint: it fails on any
# error or on a row that cannot be measured, so the bench cannot rot unseen. Its figures say
# nothing about speed. A full run's output is kept in benchmarks/last-run.txt to commit.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
if [ "${BENCH_QUICK:-}" = "1" ]; then
    export BENCH_SECONDS=1 BENCH_LATENCY_MEETINGS=50 BENCH_LONE_PLANNED=2000
    QUERY_SIZES="10 50"
    echo "== make bench, quick mode (BENCH_QUICK=1): small data, 1 s per endpoint; checks that every row can be measured =="
else
    QUERY_SIZES="10 200"
    mkdir -p benchmarks
    # Everything below also goes to benchmarks/last-run.txt (committed: a regression shows in a diff).
    exec > >(tee benchmarks/last-run.txt) 2>&1
    # The load average says how busy the machine was: the ratios hold up better than the
    # absolute figures on a busy machine, but neither is a quiet-machine figure then.
    echo "make bench, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
fi

bash scripts/system-deps.sh bench || {
    command -v wrk >/dev/null ||
        echo "(wrk is not installed: the Python client measures instead; figures are lower)"
    command -v chromium >/dev/null ||
        echo "(chromium is not installed: the Lighthouse rows cannot be measured and fail)"
}
# Lighthouse from package-lock.json (npm ci, only when the lock changed or node_modules/ is
# missing); without Node.js and npm this stops the bench, as any row it cannot measure does.
bash scripts/npm-install.sh

BENCH_DIR="$PWD/var/bench"
rm -rf "$BENCH_DIR"
mkdir -p "$BENCH_DIR"
# Everything the app writes (database, file broker, cache, static files) goes in var/bench/.
export BUDDY_VAR_DIR="$BENCH_DIR"
# The production shape when it is here (PostgreSQL + Redis), else the embedded default.
if services=$(bash scripts/services.sh) && [[ "$services" == *postgres* && "$services" == *redis* ]]; then
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS buddyscheme_benchhttp" -c "CREATE DATABASE buddyscheme_benchhttp" postgres
    export DATABASE_URL="postgres://postgres@127.0.0.1:5432/buddyscheme_benchhttp"
    export CACHE_URL="redis://127.0.0.1:6379/3" CELERY_BROKER_URL="redis://127.0.0.1:6379/4"
    BENCH_DATABASE="PostgreSQL + Redis"
    # A clean cache and broker, as the database is: nothing an earlier run left behind.
    $PY -c 'import redis; [redis.Redis.from_url(f"redis://127.0.0.1:6379/{n}").flushdb() for n in (3, 4)]' 
else
    export DATABASE_URL="sqlite:///$BENCH_DIR/db.sqlite3"
    export CELERY_BROKER_URL="filesystem://" CACHE_URL=""
    BENCH_DATABASE="SQLite"
fi
export BENCH_DATABASE
export DEBUG=false SECURE_HTTPS=false COORDINATOR_MFA_REQUIRED=false
export ALLOWED_HOSTS=127.0.0.1 SITE_URL=http://127.0.0.1 LOG_LEVEL=WARNING
export SECRET_KEY="bench-$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
export BENCH_BARE_VIEW=true # registers /bench/bare, the baseline (never set in production)
unset STATICFILES_BACKEND CELERY_TASK_ALWAYS_EAGER SECURE_SSL_REDIRECT

server=""
cleanup() {
    status=$?
    if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
        kill -TERM "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    if [ "$status" != 0 ] && [ -s "$BENCH_DIR/gunicorn.log" ]; then
        echo "--- gunicorn log (last lines) ---" >&2
        tail -n 30 "$BENCH_DIR/gunicorn.log" >&2
    fi
    [ "${BENCH_KEEP:-}" = "1" ] || rm -rf "$BENCH_DIR"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "Preparing a throwaway database in var/bench/ (migrate, static files, demo data)…"
$PY manage.py migrate --noinput -v0
$PY manage.py collectstatic --noinput -v0
$PY manage.py seed_demo >/dev/null

port=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
.venv/bin/gunicorn buddyscheme.wsgi:application --bind "127.0.0.1:$port" --workers 2 \
    --timeout 30 --log-level warning >"$BENCH_DIR/gunicorn.log" 2>&1 &
server=$!

echo
$PY scripts/bench.py http "http://127.0.0.1:$port"
echo
# Today's weight for the demo buddy before the lone-working rows give buddy1 thousands of
# meetings starting now (Today lists every one of them: 2.9 MB of HTML measured after them).
$PY scripts/bench_weight.py "http://127.0.0.1:$port"
echo
# Lighthouse (mobile) on the login page, Today and the dashboard, on the demo data as well.
$PY scripts/bench_lighthouse.py "http://127.0.0.1:$port"
echo
$PY scripts/bench.py lone "http://127.0.0.1:$port"
echo
$PY scripts/bench_dashboard.py "http://127.0.0.1:$port"
echo
$PY scripts/bench.py queries $QUERY_SIZES
echo
$PY scripts/bench_matching.py
echo
$PY scripts/bench_pdf.py
echo
$PY scripts/bench_report.py
echo
# A real worker and beat, as the Procfile runs them, against the same database and broker.
$PY scripts/bench_latency.py "${BENCH_LATENCY_MEETINGS:-500}"
echo
echo "The same with the broker down (nothing listens on its port: worker and beat cannot run):"
CELERY_BROKER_URL="redis://127.0.0.1:9/0" $PY scripts/bench_latency.py "${BENCH_LATENCY_MEETINGS:-500}"
echo
# The sweep bench makes its own 1,000,000-meeting database (PostgreSQL when it answers).
unset DATABASE_URL
$PY scripts/bench_sweep.py
echo
# The soak's quick mode (150 s: 10 buddies, 2 coordinators, late and forgotten check-outs that
# must raise and deliver their alerts up to level 2) on its own PostgreSQL database and this
# bench's Redis dbs, emptied first; its failure fails the bench (set -e). A full soak takes
# 12 minutes and has its own target, make soak (benchmarks/soak.md).
if [ "${BENCH_QUICK:-}" = "1" ]; then
    SOAK_CACHE_URL="${SOAK_CACHE_URL:-redis://127.0.0.1:6379/3}" \
        SOAK_BROKER_URL="${SOAK_BROKER_URL:-redis://127.0.0.1:6379/4}" \
        SOAK_VAR_DIR="$BENCH_DIR/soak" $PY scripts/soak.py
    echo
fi
# One table of every row (scripts/bench_rows.py); a full run writes benchmarks/results.md + .csv.
export BENCH_HEADER="$(date -u +%Y-%m-%d), $(nproc) cores (load average at the end $(cut -d' ' -f1-3 /proc/loadavg)), $BENCH_DATABASE, gunicorn 2 workers; $(command -v wrk >/dev/null && echo wrk || echo Python client)"
$PY scripts/bench_rows.py summary benchmarks
if [ "${BENCH_QUICK:-}" = "1" ]; then
    echo
    echo "make bench quick mode: every row measured"
fi
