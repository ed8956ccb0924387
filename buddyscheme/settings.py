"""Settings for Buddy scheme: one file, read from the environment.

Defaults are the embedded, single-machine setup used by `make run` (SQLite and a file
broker under var/). Production sets DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY,
ALLOWED_HOSTS, EMAIL_URL and DEBUG=false; `manage.py check --deploy` is then clean.
"""

from pathlib import Path

import environ
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("BUDDY_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str(
    "SECRET_KEY", default="insecure-embedded-development-key-change-me-in-production"
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# The sender name on account emails (password reset) to an address that belongs to no scheme;
# a member's emails carry their scheme's own discreet sender name.
SITE_NAME = env.str("SITE_NAME", default="Appointments")

INSTALLED_APPS = [
    "buddyscheme.apps.BuddyAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "crispy_forms",
    "crispy_bootstrap5",
    "buddyscheme",
    "matching",
    "contracts",
    "meetings",
    "messaging",
    "volunteering",
    "recruitment",
    "groups",
    "signposting",
    "evaluation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "buddyscheme.headers.PermissionsPolicyMiddleware",
    "buddyscheme.middleware.PageMethodsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "buddyscheme.middleware.AuditRequestMetaMiddleware",
    "buddyscheme.middleware.OutageTolerantSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, with the user and their memberships kept in the cache (access_cache.py).
    "buddyscheme.middleware.CachedAuthenticationMiddleware",
    "buddyscheme.middleware.AbsoluteSessionTimeoutMiddleware",
    "buddyscheme.middleware.IdleSessionRefreshMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "buddyscheme.middleware.CurrentMembershipMiddleware",
    "buddyscheme.middleware.NoStoreForLoggedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "buddyscheme.middleware.RefuseNulBytesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "buddyscheme.middleware.FriendlyWrongMethodMiddleware",
]

ROOT_URLCONF = "buddyscheme.urls"
WSGI_APPLICATION = "buddyscheme.wsgi.application"
ASGI_APPLICATION = "buddyscheme.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "buddyscheme.context_processors.membership",
                "buddyscheme.context_processors.safety_net",
            ],
        },
    },
]

# Database: SQLite file under var/ unless DATABASE_URL says otherwise.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL, a busy timeout and IMMEDIATE transactions let web, worker and beat write to the file
    # at once: a transaction takes the write lock when it starts, so it waits rather than failing
    # with "database is locked" when it later tries to upgrade a read lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: allauth's login rate limits live here, so it must be shared between processes.
CACHE_URL = env.str("CACHE_URL", default="")
if CACHE_URL.startswith("redis"):
    CACHES = {
        # Django's, reusing one client per connection pool (buddyscheme/cache.py).
        "default": {"BACKEND": "buddyscheme.cache.RedisCache", "LOCATION": CACHE_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

AUTH_USER_MODEL = "buddyscheme.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# django-allauth: email only, no usernames, no public sign-up (people are invited).
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_ADAPTER = "buddyscheme.adapters.AccountAdapter"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
# Sign-in throttling that cannot be turned against a person (buddyscheme/throttle.py): every
# sign-in per address is only a flood guard (50 buddies at a group event share one router);
# wrong passwords are limited per address and per address + account (the key), a device that
# has signed in before has its own budget (key: device + account), and an account guessed at
# from many addresses is slowed, never locked.
ACCOUNT_RATE_LIMITS = {
    "login": "300/m/ip",
    "login_failed": "60/10m/ip,5/5m/key",
    "login_failed_device": "10/5m/key",
    "reset_password": "20/m/ip,5/m/key",
    # Public forms (buddyscheme/public_forms.py): per address, and per email or device key.
    "public_application": "10/h/ip,3/d/key",
    "public_referral": "10/h/ip,5/d/key",
    "public_feedback": "30/h/ip,1/h/key",
}
# Before a sensitive step (changing two-step sign-in, and later exports and erasure) people
# prove who they are with their password or, where enrolled, their authenticator app. A code
# emailed to them is not offered: it would prove only access to the mailbox.
ACCOUNT_REAUTHENTICATION_METHODS = ("password", "mfa")
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="Buddy scheme")
# Coordinators see special-category data: they must enrol TOTP before any coordinator page.
# The demo (make run) may relax this; production never should.
COORDINATOR_MFA_REQUIRED = env.bool("COORDINATOR_MFA_REQUIRED", default=True)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Sessions: 30 minutes idle, 12 hours at most. Kept in the cache (Redis in production, the
# file cache under var/ otherwise, shared by every process) with the database behind it, so a
# logged-in page reads no session row (buddyscheme/sessions.py). The idle expiry is pushed on
# at most once a minute (IdleSessionRefreshMiddleware), not written on every request.
SESSION_ENGINE = "buddyscheme.sessions"
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_IDLE_REFRESH_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_ABSOLUTE_TIMEOUT = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Transport security: on unless DEBUG (make run serves plain HTTP on localhost).
SECURE_HTTPS = env.bool("SECURE_HTTPS", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
# No script of ours reads the CSRF cookie (forms carry the token; htmx posts forms), so an
# injected script cannot either.
CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=SECURE_HTTPS)
SECURE_HSTS_SECONDS = 31536000 if SECURE_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HTTPS
SECURE_HSTS_PRELOAD = SECURE_HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or not STORAGES["staticfiles"]["BACKEND"].startswith("whitenoise")
MEDIA_ROOT = VAR_DIR / "media"
# Uploaded documents and receipts: outside the web root (nothing serves this folder; views
# that check scheme and role send each file), and at most this big.
PRIVATE_FILES_ROOT = Path(env.str("PRIVATE_FILES_ROOT", default=str(VAR_DIR / "private")))
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
# A request's form fields (not its files) up to 2.5 MB (Django's default, said here): more is
# refused with a 400. Files up to 2.5 MB are held in memory, larger ones in a temporary file,
# and one past UPLOAD_MAX_BYTES stops being kept as it arrives (volunteering/uploads.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_HANDLERS = [
    "volunteering.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Email: console by default; EMAIL_URL (smtp+tls://user:pass@host:587) in production.
# Django 6.1 style (MAILERS), built from the URL so there is one variable to set.
_email = env.email_url("EMAIL_URL", default="consolemail://")
_email_options = {
    key: _email[setting]
    for key, setting in {
        "host": "EMAIL_HOST",
        "port": "EMAIL_PORT",
        "username": "EMAIL_HOST_USER",
        "password": "EMAIL_HOST_PASSWORD",
        "use_tls": "EMAIL_USE_TLS",
        "use_ssl": "EMAIL_USE_SSL",
    }.items()
    if _email.get(setting) not in (None, "")
}
if _email["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend":
    # filemail:////an/absolute/folder (as sqlite:////…): each message written to a file there
    # (the browser journeys' worker).
    _email_options = {"file_path": _email["EMAIL_FILE_PATH"]}
elif _email["EMAIL_BACKEND"] != "django.core.mail.backends.smtp.EmailBackend":
    _email_options = {}
else:
    # A send never outlasts its outbox lease (buddyscheme.notifications.CHANNEL_TIMEOUT).
    _email_options["timeout"] = 10
MAILERS = {"default": {"BACKEND": _email["EMAIL_BACKEND"], "OPTIONS": _email_options}}
# Text messages: console (logs that a text would go) unless an HTTP provider is configured.
SMS_BACKEND = env.str("SMS_BACKEND", default="buddyscheme.channels.ConsoleSMSBackend")
SMS_ACCOUNT_ID = env.str("SMS_ACCOUNT_ID", default="")
SMS_AUTH_TOKEN = env.str("SMS_AUTH_TOKEN", default="")
SMS_FROM = env.str("SMS_FROM", default="")
SMS_API_URL = env.str("SMS_API_URL", default="https://api.twilio.com")
# buddyscheme.channels.FileSMSBackend (tests' worker processes): one JSON line a text, here.
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default="")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="appointments@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: the embedded file broker under var/ unless CELERY_BROKER_URL points at Redis.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem"):
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("out", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The sweeper/heartbeat is considered dead when its last beat is older than this.
HEARTBEAT_MAX_AGE_SECONDS = 120
# How often each web process checks the safety net's heartbeat (0: never, e.g. in tests).
SAFETY_WATCHDOG_SECONDS = env.int("SAFETY_WATCHDOG_SECONDS", default=30)
# A healthchecks.io-style dead-man's switch the sweeper pings after each good round (and
# /fail after a failed one), so someone outside the building hears when it stops.
SAFETY_PING_URL = env.str("SAFETY_PING_URL", default="")

INVITATION_VALID_DAYS = env.int("INVITATION_VALID_DAYS", default=7)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
