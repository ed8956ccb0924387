#!/usr/bin/env bash
# The one list of Debian packages the project needs (the README and the Dockerfile take it
# from here). Installs the missing ones when it can (root + apt), otherwise stops with a
# message naming them. Nothing is pinned: Debian's stable release fixes the versions.
# Usage: scripts/system-deps.sh run|test|bench|scan     install what that command needs
#        scripts/system-deps.sh list run|test|bench|scan  print those packages, one a line
set -euo pipefail

packages_for() {
    # WeasyPrint's libraries and a font: needed to render contracts and reports.
    echo libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
    case "$1" in
    # Browser tests (Debian's chromium, never a downloaded one) and reading PDFs back.
    # faketime (libfaketime): the browser journeys move the Celery worker's and beat's clock.
    test) echo chromium chromium-driver poppler-utils faketime ;;
    # make bench: the HTTP load generator (scripts/bench.py falls back to Python without it),
    # and chromium for Lighthouse (npm, scripts/npm-install.sh); Node.js and npm are added below.
    bench) echo wrk chromium ;;
    # make scan: the external web-application scanner run against a logged-in demo.
    scan) echo wapiti ;;
    run) ;;
    *) echo "unknown purpose: $1 (run, test, bench or scan)" >&2 && return 1 ;;
    esac
}

if [ "${1:-}" = "list" ]; then
    packages_for "${2:-run}" | tr ' ' '\n'
    exit 0
fi
purpose="${1:-run}"
read -r -a packages <<<"$(packages_for "$purpose" | tr '\n' ' ')"

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if [ "$purpose" = "test" ]; then
    # PostgreSQL and Redis: only installed where no server answers and none is installed.
    if ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null && ! command -v pg_ctlcluster >/dev/null; then
        missing+=(postgresql)
    fi
    if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && ! command -v redis-server >/dev/null; then
        missing+=(redis-server)
    fi
fi

if [ "$purpose" = "bench" ] && { ! command -v node >/dev/null || ! command -v npm >/dev/null; }; then
    # Node.js and npm for Lighthouse: Debian's, only where no node/npm is installed (a newer
    # Node from elsewhere, which bundles its own npm, is kept: Lighthouse 12 needs >= 18.20).
    missing+=(nodejs npm)
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "Installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "Missing system packages: ${missing[*]}" >&2
    echo "Install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
