"""Reproducible installs: uv.lock decides what is installed, and it agrees with pyproject.toml.

An upstream release once broke a fresh `make test` (django-allauth 65.22 added URLs) because
pip resolved open ranges. Now every route into the project installs from the lock: these
tests fail when the lock drifts from pyproject.toml, when the environment drifts from the
lock, or when a way in (Makefile, CI, Dockerfile) stops going through it.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UV = Path(sys.executable).parent / "uv"


def uv(*arguments, cwd=ROOT):
    return subprocess.run(
        [str(UV), *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        # The tests' own interpreter, never a downloaded one.
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_PYTHON": sys.executable},
    )


@pytest.fixture
def project_copy(tmp_path):
    """pyproject.toml and uv.lock to change. uv may read the index to re-resolve the copy (the
    lock is universal: other Pythons' metadata may not be in a fresh cache)."""
    for name in ("pyproject.toml", "uv.lock", ".python-version"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_the_lock_agrees_with_pyproject():
    result = uv("lock", "--check", "--offline")
    assert result.returncode == 0, result.stderr


def test_the_environment_is_exactly_the_lock():
    # --check compares the installed packages with the lock without changing anything.
    result = uv("sync", "--locked", "--check", "--offline")
    assert result.returncode == 0, result.stderr


def _add_dependency(pyproject: Path, requirement: str) -> None:
    text = pyproject.read_text()
    assert '"icalendar>=6,<8",\n' in text
    pyproject.write_text(
        text.replace('"icalendar>=6,<8",\n', f'"icalendar>=6,<8",\n    "{requirement}",\n')
    )


def test_a_dependency_added_to_pyproject_but_not_locked_fails_the_check(project_copy):
    # kombu is in the lock only as Celery's dependency: naming it directly changes the lock.
    _add_dependency(project_copy / "pyproject.toml", "kombu>=5")
    result = uv("lock", "--check", cwd=project_copy)
    assert result.returncode != 0
    assert "needs to be updated" in result.stderr


def test_a_dependency_dropped_from_pyproject_but_still_locked_fails_the_check(project_copy):
    pyproject = project_copy / "pyproject.toml"
    text = pyproject.read_text()
    assert '"honcho>=2,<3",\n' in text
    pyproject.write_text(text.replace('    "honcho>=2,<3",\n', ""))
    result = uv("lock", "--check", cwd=project_copy)
    assert result.returncode != 0
    assert "needs to be updated" in result.stderr


def test_the_lock_pins_every_package_with_hashes():
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    registry_packages = [p for p in lock["package"] if "registry" in p.get("source", {})]
    assert len(registry_packages) > 50
    unhashed = [
        p["name"]
        for p in registry_packages
        if not p.get("version")
        or not all("hash" in file for file in [*p.get("wheels", []), p.get("sdist", {})] if file)
    ]
    assert unhashed == []
    # Every range in pyproject.toml is settled to one version in the lock.
    names = {p["name"] for p in registry_packages}
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = [*pyproject["project"]["dependencies"], *pyproject["dependency-groups"]["dev"]]
    for requirement in declared:
        name = re.split(r"[\[<>=!~ ]", requirement, maxsplit=1)[0].lower()
        assert name in names, f"{name} is declared but not locked"


def test_uv_itself_is_installed_from_the_lock_with_its_hashes():
    result = subprocess.run(
        [sys.executable, "scripts/uv_requirement.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [line.strip(" \\") for line in result.stdout.splitlines()]
    installed = uv("--version").stdout.split()[1]
    assert lines[0] == f"uv=={installed}"
    assert len(lines) > 5 and all(line.startswith("--hash=sha256:") for line in lines[1:])


def _make_recipe(target: str) -> str:
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{target}:(.*)\n((?:\t.*\n)*)", makefile, re.MULTILINE)
    assert match, f"the Makefile has no {target} target"
    return match.group(1) + "\n" + match.group(2)


def test_make_run_test_bench_and_upgrade_install_from_the_lock():
    assert "scripts/install.sh" in _make_recipe("install")
    for target in ("run", "test", "bench", "upgrade"):
        assert "install" in _make_recipe(target).split("\n")[0].split(), target
    upgrade = _make_recipe("upgrade")
    assert "uv lock --upgrade" in upgrade and "test" in upgrade
    install = (ROOT / "scripts/install.sh").read_text()
    assert "--require-hashes" in install and "uv sync --locked" in install
    ci = [line.strip() for line in (ROOT / ".ci/run").read_text().splitlines()]
    # The test command first; then the bench's quick mode, so the bench cannot rot unseen.
    assert ci.index("make test") < ci.index("BENCH_QUICK=1 make bench")
    assert "set -euo pipefail" in ci


def test_the_image_installs_from_the_lock_and_the_one_list_of_debian_packages():
    dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    runs = [line for line in dockerfile.splitlines() if line.startswith("RUN ")]
    assert any("system-deps.sh run" in line for line in runs)
    install = next(line for line in runs if "uv sync" in line)
    assert "--require-hashes" in install and "uv sync --locked --no-dev" in install
    assert "pip install ." not in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert "!scripts/system-deps.sh" in ignored and "!scripts/uv_requirement.py" in ignored


def _debian_packages(purpose: str) -> list[str]:
    result = subprocess.run(
        ["bash", "scripts/system-deps.sh", "list", purpose],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.split()


def test_the_readme_shows_the_debian_packages_the_script_installs():
    readme = (ROOT / "README.md").read_text()
    rows = {
        match.group(1): re.findall(r"`([^`]+)`", match.group(2))
        for match in re.finditer(
            r"^\| (PDFs \(WeasyPrint\)|tests|make bench) \|(.*)\|$", readme, re.M
        )
    }
    run = _debian_packages("run")
    assert " ".join(rows["PDFs (WeasyPrint)"]).split() == run
    shown_for_tests = " ".join(rows["tests"]).split()
    assert [p for p in shown_for_tests if p not in ("postgresql", "redis-server")] == [
        p for p in _debian_packages("test") if p not in run
    ]
    # Node.js and npm come from Debian only where no node is installed (system-deps.sh).
    shown_for_bench = " ".join(rows["make bench"]).split()
    assert [p for p in shown_for_bench if p not in ("nodejs", "npm")] == [
        p for p in _debian_packages("bench") if p not in run
    ]
    assert "nodejs" in shown_for_bench and "npm" in shown_for_bench
    assert "nodejs npm" in (ROOT / "scripts/system-deps.sh").read_text().replace("+=(", " ")


def test_lighthouse_is_installed_from_the_npm_lock_with_integrity_hashes():
    package = json.loads((ROOT / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert package["private"] is True
    pinned = package["devDependencies"]["lighthouse"]
    assert re.fullmatch(r"12\.\d+\.\d+", pinned), "an exact 12.x (13 needs Node >= 22)"
    # The lock agrees with package.json, and pins every package with its integrity hash.
    assert lock["packages"][""]["devDependencies"] == package["devDependencies"]
    installed = {k: v for k, v in lock["packages"].items() if k.startswith("node_modules/")}
    assert installed["node_modules/lighthouse"]["version"] == pinned
    assert installed and all(v["integrity"].startswith("sha512-") for v in installed.values())
    # Installed by the project's own script, with npm ci (the lock, or nothing), from the bench.
    script = (ROOT / "scripts/npm-install.sh").read_text()
    assert "npm ci" in script and "npm install" not in script
    bench = (ROOT / "scripts/bench.sh").read_text()
    assert bench.index("scripts/npm-install.sh") < bench.index("scripts/bench_lighthouse.py")
    assert "node_modules/" in (ROOT / ".gitignore").read_text().splitlines()
    assert "node_modules" in (ROOT / ".dockerignore").read_text().splitlines()


def test_pre_commit_runs_the_lint_tools_pinned_in_the_lock():
    result = subprocess.run(
        [str(UV.parent / "pre-commit"), "validate-config", ".pre-commit-config.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    config = (ROOT / ".pre-commit-config.yaml").read_text()
    entries = re.findall(r"entry: (\S+)", config)
    # Local hooks calling .venv's tools: the versions are uv.lock's, nothing is downloaded.
    assert entries and all(entry.startswith(".venv/bin/") for entry in entries)
    lint = _make_recipe("lint")
    for tool in ("ruff", "djlint", "mypy"):
        assert f".venv/bin/{tool}" in entries and f"/bin/{tool}" in lint, tool
