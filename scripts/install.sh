#!/usr/bin/env bash
# Installs the Python packages exactly as uv.lock pins them (versions and hashes) into .venv.
# uv comes first, from the same lock through pip's --require-hashes (scripts/uv_requirement.py);
# then `uv sync --locked` installs everything else and stops if pyproject.toml and uv.lock
# disagree. Runs on every make run / test / bench: when nothing changed it only checks (~0.1 s).
# Usage: scripts/install.sh [--no-dev]   (VENV and PYTHON may be set in the environment)
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${VENV:-.venv}"
python="${PYTHON:-$(command -v python3.12 || command -v python3)}"
# Never download an interpreter: the project uses the machine's Python 3.12 or newer.
export UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT="$venv"

if [ ! -x "$venv/bin/uv" ]; then
    "$python" -c 'import sys; sys.exit(sys.version_info < (3, 12))' || {
        echo "Python 3.12 or newer is needed (found $("$python" --version 2>&1))." >&2
        exit 1
    }
    # A venv without uv was made some other way (an older Makefile, by hand): start again.
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$python" scripts/uv_requirement.py >"$venv/uv-requirement.txt"
    echo "Installing $(head -n1 "$venv/uv-requirement.txt" | tr -d ' \\') from uv.lock (pip --require-hashes)…"
    # This machine's pip may point at extra local indexes; pip warns that they are absent.
    "$venv/bin/pip" install -q --require-hashes --no-deps -r "$venv/uv-requirement.txt" 2>&1 |
        { grep -v "is ignored: it is neither" || true; }
fi

echo "Python packages from uv.lock (uv sync --locked):"
"$venv/bin/uv" sync --locked "$@"
