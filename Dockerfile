# Production image: gunicorn serves buddyscheme.wsgi; the same image runs the Celery worker
# and beat (see docker-compose.yml). Settings come from the environment (README, Production).
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Debian packages: WeasyPrint's libraries and a font (contracts and reports are PDFs), from the
# one list in scripts/system-deps.sh (the README shows the same list).
COPY scripts/system-deps.sh /tmp/system-deps.sh
RUN bash /tmp/system-deps.sh run && rm -rf /var/lib/apt/lists/* /tmp/system-deps.sh

WORKDIR /app

# Python packages exactly as uv.lock pins them, hashes checked: uv itself first (pip
# --require-hashes, its hashes read from uv.lock), then `uv sync --locked --no-dev`, which
# refuses a lock that disagrees with pyproject.toml and leaves the dev tools (tests, lint) out.
# Dependencies come before the source, so code changes do not reinstall them.
ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_NO_CACHE=1 \
    PATH=/opt/venv/bin:$PATH
COPY pyproject.toml uv.lock ./
COPY scripts/uv_requirement.py scripts/
RUN python -m venv /opt/venv \
    && python scripts/uv_requirement.py uv.lock > /tmp/uv-requirement.txt \
    && /opt/venv/bin/pip install --require-hashes --no-deps -r /tmp/uv-requirement.txt \
    && /opt/venv/bin/uv sync --locked --no-dev \
    && rm /tmp/uv-requirement.txt

# The source (.dockerignore leaves out the venv, var/, tests and scripts).
COPY . .

# Static files are collected into the image (whitenoise serves them with hashed names). The
# key only lets settings load here; the real one comes from the environment at run time.
RUN SECRET_KEY=collectstatic-only-not-a-secret DEBUG=false \
        python manage.py collectstatic --noinput -v0 \
    && rm -rf /app/var/broker /app/var/cache

# An unprivileged user. It owns only var/ (beat schedule, media, the file cache when no
# CACHE_URL is set); the code and the collected static files stay read-only to it.
RUN useradd --create-home --uid 10001 --user-group buddy \
    && mkdir -p /app/var/media \
    && chown buddy:buddy /app/var /app/var/media
USER buddy

EXPOSE 8000
# Workers: gunicorn reads WEB_CONCURRENCY. X-Forwarded-Proto comes from the TLS proxy.
ENV WEB_CONCURRENCY=3
# No access log: URLs may carry one-time invitation tokens.
CMD ["gunicorn", "buddyscheme.wsgi:application", "--bind", "0.0.0.0:8000", "--timeout", "30"]
