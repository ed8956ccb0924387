# Production image: gunicorn serves buddyscheme.wsgi; the same image runs the Celery worker
# and beat (see docker-compose.yml). Settings come from the environment (README, Production).
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint's libraries and a font (contracts and reports are rendered to PDF).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so code changes do not reinstall them. pyproject.toml declares no
# packages ([tool.setuptools] packages = []): `pip install .` installs the dependencies only,
# and the apps are imported from /app (WORKDIR and PYTHONPATH).
COPY pyproject.toml README.md ./
RUN pip install .

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
