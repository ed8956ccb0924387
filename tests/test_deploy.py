"""The production shape: docker-compose.yml, the Dockerfile and `check --deploy`.

There is no Docker engine where the tests run, so the compose file is parsed and checked
against what the settings read, and the settings are checked with production values.
"""

import json
import os
import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import environ
import pytest
import redis
import yaml
from kombu.utils.url import url_to_parts

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat", "sweeper")
# Every setting the app must be given in production (the rest have safe defaults).
PRODUCTION_SETTINGS = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CACHE_URL",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DEBUG",
    "EMAIL_URL",
    "SITE_URL",
    "DEFAULT_FROM_EMAIL",
)
# What an operator supplies (compose's ${VAR:?...} refuses to start without them).
OPERATOR_VARIABLES = {
    "POSTGRES_PASSWORD": "db-password-for-tests",
    "SECRET_KEY": secrets.token_urlsafe(45),  # 60 characters
    "ALLOWED_HOSTS": "buddies.example.org",
    "SITE_URL": "https://buddies.example.org",
    "EMAIL_URL": "smtp+tls://mailer:mail-password@smtp.example.org:587",
    "DEFAULT_FROM_EMAIL": "buddies@example.org",
}

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(value, variables):
    """Compose's variable substitution: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR:?error}."""
    if isinstance(value, dict):
        return {key: interpolate(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, variables) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match):
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["named"]
        current = variables.get(name)
        op = match["op"]
        unset = current is None or (op is not None and op.startswith(":") and current == "")
        if op and op.endswith("?") and unset:
            raise KeyError(f"{name}: {match['arg']}")
        if op and op.endswith("-") and unset:
            return match["arg"]
        return current or ""

    return _VARIABLE.sub(substitute, value)


def load_compose(variables=None):
    raw = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return interpolate(raw, OPERATOR_VARIABLES if variables is None else variables)


def environment(service):
    env = service.get("environment", {})
    if isinstance(env, list):  # the KEY=value form
        env = dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def command(service):
    value = service.get("command", "")
    return shlex.split(value) if isinstance(value, str) else [str(part) for part in value]


@pytest.fixture(scope="module")
def compose():
    return load_compose()


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


def test_compose_has_the_production_services(services):
    for name in ("web", "worker", "beat", "db", "redis"):
        assert name in services, f"docker-compose.yml has no {name} service"
    assert services["db"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")
    assert services["db"].get("volumes"), "the database needs a volume to survive restarts"
    assert services["db"].get("healthcheck"), "db needs a healthcheck for depends_on"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_get_every_production_setting(services, name):
    env = environment(services[name])
    missing = [key for key in PRODUCTION_SETTINGS if not env.get(key)]
    assert missing == [], f"{name} is not given {missing}"
    assert environ.Env.parse_value(env["DEBUG"], bool) is False
    assert environ.Env.parse_value(env.get("COORDINATOR_MFA_REQUIRED", "true"), bool) is True


def test_app_services_share_one_environment(services):
    web = environment(services["web"])
    for name in ("worker", "beat", "sweeper"):
        assert environment(services[name]) == web, f"{name} and web must see the same settings"


def test_the_sweeper_runs_without_redis_in_compose_and_in_make_run(services):
    sweeper = services["sweeper"]
    assert sweeper["command"] == ["python", "manage.py", "run_sweeper"]
    # It must start, and keep raising alerts, while Redis is down.
    assert "redis" not in sweeper["depends_on"]
    assert sweeper["depends_on"]["db"]["condition"] == "service_healthy"
    procfile = dict(
        line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    assert procfile["sweeper"].endswith("manage.py run_sweeper")


def test_secrets_have_no_default_in_the_file():
    # Without the operator's values compose must refuse to start, not fall back to a default.
    for name in ("SECRET_KEY", "POSTGRES_PASSWORD"):
        variables = {key: value for key, value in OPERATOR_VARIABLES.items() if key != name}
        with pytest.raises(KeyError, match=name):
            load_compose(variables)


def test_database_url_matches_the_db_service(services):
    db_env = environment(services["db"])
    for name in APP_SERVICES:
        config = environ.Env.db_url_config(environment(services[name])["DATABASE_URL"])
        assert config["ENGINE"] == "django.db.backends.postgresql"
        assert config["HOST"] == "db"
        assert int(config["PORT"]) == 5432
        assert config["NAME"] == db_env["POSTGRES_DB"]
        assert config["USER"] == db_env["POSTGRES_USER"]
        assert config["PASSWORD"] == db_env["POSTGRES_PASSWORD"]
        assert config["PASSWORD"] == OPERATOR_VARIABLES["POSTGRES_PASSWORD"]


def test_broker_and_cache_point_at_the_redis_service(services):
    for name in APP_SERVICES:
        env = environment(services[name])
        broker = url_to_parts(env["CELERY_BROKER_URL"])  # how Celery/kombu reads it
        assert broker.scheme == "redis"
        assert (broker.hostname, broker.port) == ("redis", 6379)
        # The settings pick Django's RedisCache for redis:// URLs; redis-py parses the rest.
        assert urlsplit(env["CACHE_URL"]).scheme == "redis"
        cache = redis.ConnectionPool.from_url(env["CACHE_URL"]).connection_kwargs
        assert (cache["host"], cache.get("port", 6379)) == ("redis", 6379)
        assert cache.get("db", 0) != int(broker.path or 0), "cache and broker share a db"


def production_env(services, tmp_path):
    """The web service's environment as the container gets it, on a throwaway SQLite file."""
    env = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG")}
    env.update(environment(services["web"]))
    env.pop("SECURE_HTTPS")  # its default (on unless DEBUG) is what production gets
    env.update(
        DEBUG="false",
        SECRET_KEY=OPERATOR_VARIABLES["SECRET_KEY"],
        ALLOWED_HOSTS="buddies.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        BUDDY_VAR_DIR=str(tmp_path / "var"),
    )
    return env


def test_settings_read_the_compose_environment(services, tmp_path):
    env = environment(services["web"])
    env.update((key, os.environ[key]) for key in ("PATH", "HOME") if key in os.environ)
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'db': s.DATABASES['default'], 'cache': s.CACHES['default'], "
        "'broker': s.CELERY_BROKER_URL, 'debug': s.DEBUG, 'secure': s.SESSION_COOKIE_SECURE, "
        "'mailer': s.MAILERS['default']['BACKEND']}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "buddyscheme.settings", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["db"]["ENGINE"] == "django.db.backends.postgresql"
    assert (loaded["db"]["HOST"], loaded["db"]["NAME"]) == ("db", "buddyscheme")
    # Django's Redis cache with one client per connection pool (buddyscheme/cache.py).
    assert loaded["cache"]["BACKEND"] == "buddyscheme.cache.RedisCache"
    assert loaded["cache"]["LOCATION"] == "redis://redis:6379/1"
    assert loaded["broker"] == "redis://redis:6379/0"
    assert loaded["debug"] is False and loaded["secure"] is True
    assert loaded["mailer"] == "django.core.mail.backends.smtp.EmailBackend"


def test_worker_and_beat_run_the_buddyscheme_celery_app(services):
    for name, subcommand in (("worker", "worker"), ("beat", "beat")):
        argv = command(services[name])
        assert argv[0] == "celery", argv
        assert subcommand in argv, argv
        app = None
        for index, part in enumerate(argv):
            if part in ("-A", "--app"):
                app = argv[index + 1]
            elif part.startswith("--app="):
                app = part.split("=", 1)[1]
        assert app == "buddyscheme", f"{name} runs Celery app {app!r}"


def test_web_runs_gunicorn_after_migrations(services):
    web = services["web"]
    argv = command(web)
    assert argv[0] == "gunicorn" and "buddyscheme.wsgi:application" in argv, argv
    assert any(str(port).endswith("8000") for port in web.get("ports", []))
    assert "/healthz" in " ".join(web["healthcheck"]["test"])
    assert command(services["migrate"])[-3:] == ["manage.py", "migrate", "--noinput"]
    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["db"]["condition"] == "service_healthy"


def test_check_deploy_is_clean_with_the_compose_environment(services, tmp_path):
    env = production_env(services, tmp_path)
    assert len(env["SECRET_KEY"]) == 60
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output.upper(), output
    assert "System check identified no issues" in output, output


def test_dockerfile_installs_weasyprint_libraries_and_drops_root():
    dockerfile = (ROOT / "Dockerfile").read_text()
    # Join continuation lines so each instruction is one line.
    instructions = [
        line.strip() for line in dockerfile.replace("\\\n", " ").splitlines() if line.strip()
    ]
    instructions = [line for line in instructions if not line.startswith("#")]
    assert instructions[0].startswith("FROM python:3.12-slim-bookworm")
    # The image installs the run list of scripts/system-deps.sh, the one list of Debian packages.
    assert any("system-deps.sh run" in line for line in instructions if line.startswith("RUN"))
    listed = subprocess.run(
        ["bash", "scripts/system-deps.sh", "list", "run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0"):
        assert package in listed, f"the image lacks {package}"
    assert "fonts-dejavu-core" in listed
    users = [line.split()[1] for line in instructions if line.upper().startswith("USER ")]
    assert users, "the Dockerfile has no USER line: it would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")
    assert any("collectstatic" in line for line in instructions if line.startswith("RUN"))
    assert "gunicorn" in next(line for line in instructions if line.startswith("CMD"))
