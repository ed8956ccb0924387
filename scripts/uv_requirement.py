"""Print uv's pinned requirement, with every hash uv.lock records for it, in pip's format.

uv installs everything else from uv.lock, so uv itself must come from the same lock: this is
the one step that uses pip (`pip install --require-hashes --no-deps -r <this output>`).
Usage: python scripts/uv_requirement.py [path/to/uv.lock]
"""

import sys
import tomllib
from pathlib import Path


def uv_requirement(lock_path: Path) -> str:
    lock = tomllib.loads(lock_path.read_text(encoding="utf-8"))
    for package in lock["package"]:
        if package["name"] == "uv":
            files = [*package.get("wheels", []), package.get("sdist", {})]
            hashes = sorted({file["hash"] for file in files if "hash" in file})
            if not hashes:
                break
            lines = [f"uv=={package['version']}", *(f"--hash={value}" for value in hashes)]
            return " \\\n    ".join(lines) + "\n"
    raise SystemExit(f"{lock_path} pins no uv with hashes: add uv to the dev group and lock.")


if __name__ == "__main__":
    default = Path(__file__).resolve().parent.parent / "uv.lock"
    sys.stdout.write(uv_requirement(Path(sys.argv[1]) if len(sys.argv) > 1 else default))
