#!/usr/bin/env bash
# make scan: the wapiti web scanner (Debian's) against a signed-in demo instance.
# Serves the demo with gunicorn on SCAN_PORT (8099) from its own var/scan/ (SQLite, demo data
# loaded), signs the demo coordinator in (manage.py scan_session), runs wapiti for at most
# SCAN_SECONDS (1200) with the session cookie, and writes the summary to benchmarks/scan.md
# (the full JSON report stays in var/scan/). Fails on any finding above "low" and on any
# server error the scanner provoked. The server is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
bash scripts/system-deps.sh scan

SCAN_DIR="${SCAN_DIR:-$PWD/var/scan}"
SCAN_PORT="${SCAN_PORT:-8099}"
SCAN_SECONDS="${SCAN_SECONDS:-1200}"
rm -rf "$SCAN_DIR"
mkdir -p "$SCAN_DIR"
export BUDDY_VAR_DIR="$SCAN_DIR" DATABASE_URL="sqlite:///$SCAN_DIR/db.sqlite3"
export CELERY_BROKER_URL="filesystem://" CACHE_URL="" CELERY_TASK_ALWAYS_EAGER=false
export DEBUG=false SECURE_HTTPS=false COORDINATOR_MFA_REQUIRED=false LOG_LEVEL=WARNING
export ALLOWED_HOSTS=127.0.0.1 SITE_URL="http://127.0.0.1:$SCAN_PORT"
export SECRET_KEY="scan-$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"

$PY manage.py migrate --noinput -v0
$PY manage.py collectstatic --noinput -v0
$PY manage.py seed_demo >/dev/null
COOKIES=$($PY manage.py scan_session coordinator@example.org)

.venv/bin/gunicorn buddyscheme.wsgi --bind "127.0.0.1:$SCAN_PORT" --workers 2 --timeout 60 \
    --error-logfile "$SCAN_DIR/server.log" --capture-output &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
    curl -fs "http://127.0.0.1:$SCAN_PORT/healthz" >/dev/null 2>&1 && break
    sleep 1
done

BASE="http://127.0.0.1:$SCAN_PORT/"
# The admin is left out (Django's own, and a scanner's POSTs there could deactivate the very
# account it scans with), as are the sign-out and sign-in security pages.
# Not ssrf (it calls an outside server) nor blindsql (minutes of sleep() payloads per field).
MODULES="backup,cookieflags,crlf,csp,csrf,exec,file,htaccess,http_headers,methods,permanentxss,redirect,sql,xss"
started=$(date +%s)
/usr/bin/python3 scripts/wapiti_run.py -u "$BASE" --scope folder -m "$MODULES" --no-bugreport --flush-session \
    -H "Cookie: $COOKIES" \
    -x "${BASE}accounts/logout/" -x "${BASE}admin/logout/" -x "${BASE}switch/" \
    -x "${BASE}accounts/password/change/" -x "${BASE}accounts/2fa/*" -x "${BASE}admin/*" \
    --max-scan-time "$SCAN_SECONDS" --max-attack-time $((SCAN_SECONDS / 10)) -t 20 \
    -f json -o "$SCAN_DIR/report.json" -v 0 --store-session "$SCAN_DIR/wapiti" || true
now=$(date +%s)
elapsed=$((now - started))
# The session must have lasted the scan, or only the sign-in page was scanned.
still_signed_in=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $COOKIES" "${BASE}coordinator/")
$PY scripts/scan_summary.py "$SCAN_DIR/report.json" "$SCAN_DIR/server.log" \
    --seconds "$elapsed" --signed-in-status "$still_signed_in" --output benchmarks/scan.md
