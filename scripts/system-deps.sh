#!/usr/bin/env bash
# Installs the Debian packages the project needs, when it can (root + apt), and otherwise
# stops with a message naming them. Usage: scripts/system-deps.sh run|test|bench
set -euo pipefail
purpose="${1:-run}"

# WeasyPrint's libraries and a font: needed to render contracts and reports.
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
if [ "$purpose" = "test" ]; then
    # Browser tests (Debian's chromium, never a downloaded one) and reading PDFs back.
    packages+=(chromium chromium-driver poppler-utils)
fi
if [ "$purpose" = "bench" ]; then
    # make bench: the HTTP load generator (scripts/bench.py falls back to Python without it).
    packages+=(wrk)
fi

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
