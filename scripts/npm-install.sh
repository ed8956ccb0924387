#!/usr/bin/env bash
# Installs the Node packages exactly as package-lock.json pins them (versions and integrity
# hashes) into node_modules/: only Lighthouse, which make bench runs against Debian's chromium.
# `npm ci` runs only when the lock or package.json changed since the last install (a stamp in
# node_modules/ holds their checksum) or node_modules/ is missing; otherwise this only checks.
# Node and npm come from scripts/system-deps.sh bench.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "Node.js and npm are needed for the Lighthouse rows of make bench:" >&2
    echo "run scripts/system-deps.sh bench (Debian's nodejs and npm)." >&2
    exit 1
fi
stamp=node_modules/.installed-from-lock
wanted="$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1) node $(node --version)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] && [ -x node_modules/.bin/lighthouse ]; then
    exit 0
fi
echo "Node packages from package-lock.json (npm ci)…"
# npm ci removes node_modules/ first, and stops if package.json and the lock disagree.
npm ci --no-audit --no-fund --loglevel=error
echo "$wanted" >"$stamp"
