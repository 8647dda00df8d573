"""LimbGuard settings: one file, every value from the environment (see config/env.py).

Variables:
  DATABASE_URL          default: SQLite file in LIMBGUARD_DATA_DIR
  SECRET_KEY            required, except in demo mode (LIMBGUARD_DEMO=1)
  DEBUG                 default off
  ALLOWED_HOSTS         comma-separated; default localhost only
  EMAIL_URL             smtp://user:pass@host:587?tls=1 | console: (default)
  SESSION_IDLE_MINUTES  inactivity logout, default 15
  SECURE_COOKIES        default on (off in demo mode, which serves plain http on loopback)
  LIMBGUARD_DATA_DIR    SQLite file, uploads, demo secret; default ./data
  PUBLIC_BASE_URL       site address for e-mailed links; default http://127.0.0.1:8000
  INTAKE_RATE_LIMIT     public form submissions per address per INTAKE_RATE_WINDOW s (5 / 600)
  LIMBGUARD_BASE_URL    address EHRs call for CDS Hooks (JWT aud); default PUBLIC_BASE_URL
  LIMBGUARD_CDS_*       CDS Hooks clients file, deadline, timeouts (cdshooks/conf.py)
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from limbguard.config.env import env_bool, env_hosts, env_int, env_str, env_url
from limbguard.config.mail import email_settings

# Lets runtime code write the generic forms mypy checks: ModelAdmin[Center], QuerySet[Patient].
django_stubs_ext.monkeypatch()

SRC_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("LIMBGUARD_DATA_DIR", str(Path.cwd() / "data"))).resolve()

DEMO = env_bool("LIMBGUARD_DEMO", False)
DEBUG = env_bool("DEBUG", False)


def _demo_secret_key() -> str:
    """The demo keeps one random key in its data folder, so sessions survive restarts."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key_file = DATA_DIR / "demo-secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = env_str("SECRET_KEY", _demo_secret_key() if DEMO else None)
if not DEMO and len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters")

ALLOWED_HOSTS = env_hosts("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "limbguard.config",
    "limbguard.accounts",
    "limbguard.clinics",
    "limbguard.registry",
    "limbguard.assessments",
    "limbguard.treatment",
    "django_tasks",
    "django_tasks_db",
    "limbguard.intake",
    "limbguard.scheduling",
    "limbguard.fhir",
    "limbguard.cdshooks",
    "limbguard.screening",
    "limbguard.outcomes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "limbguard.accounts.middleware.IdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Axes last, as its documentation asks: it must see the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

# The machine-to-machine API under API_ROOT (CDS Hooks: a signed JWT on every call, no
# cookies) runs through this shorter chain, the site's minus sessions, static files, CSRF,
# login, messages, htmx and the login lockout, which it never uses (config/wsgi.py).
API_ROOT = "/cds-services"
API_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "limbguard.config.urls"
WSGI_APPLICATION = "limbguard.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [SRC_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "limbguard.accounts.context_processors.navigation",
            ],
        },
    }
]

DATABASES: dict[str, Any] = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'limbguard.sqlite3'}"),
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # Django's SQLite backend, with writers queuing on a file lock (config/sqlite_backend).
    DATABASES["default"]["ENGINE"] = "limbguard.config.sqlite_backend"
    # WAL lets the worker and the web process share the file without "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
# "home" sends each signed-in user to the first work page their role may open.
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lockout: 5 failures for the same user name from the same address lock it for an hour.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 15, minimum=1, maximum=24 * 60)
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

SECURE_COOKIES = env_bool("SECURE_COOKIES", not DEMO)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEMO else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
)

_EMAIL = email_settings(env_str("EMAIL_URL", "console:"))
EMAIL_BACKEND = _EMAIL.backend
EMAIL_HOST = _EMAIL.host
EMAIL_PORT = _EMAIL.port
EMAIL_HOST_USER = _EMAIL.user
EMAIL_HOST_PASSWORD = _EMAIL.password
EMAIL_USE_TLS = _EMAIL.use_tls
EMAIL_USE_SSL = _EMAIL.use_ssl
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "LimbGuard <no-reply@limbguard.invalid>")

# Background work (reminders, e-mail, imports): a queue table in our own database, run by
# `limbguard worker` (config/management/commands/worker.py says how to enqueue).
# django_tasks_db's backend, its rows written by one plain INSERT (config/tasks.py).
TASKS = {"default": {"BACKEND": "limbguard.config.tasks.DatabaseBackend", "QUEUES": ["default"]}}

# Public intake (issue 7). Links in e-mail point at PUBLIC_BASE_URL; private conversation
# links expire after INTAKE_LINK_DAYS (each new e-mail carries a fresh one).
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
if not PUBLIC_BASE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured("PUBLIC_BASE_URL must start with http:// or https://")
INTAKE_RATE_LIMIT = env_int("INTAKE_RATE_LIMIT", 5, minimum=1)
INTAKE_RATE_WINDOW = env_int("INTAKE_RATE_WINDOW", 600, minimum=1)
INTAKE_LINK_DAYS = env_int("INTAKE_LINK_DAYS", 30, minimum=1, maximum=365)

# CDS Hooks service (issue 8; limbguard/cdshooks/conf.py documents the clients file).
# LIMBGUARD_BASE_URL is the address EHRs call: each JWT's `aud` must equal it plus the
# endpoint path exactly. The deadline bounds a whole call; FHIR reads get less.
LIMBGUARD_BASE_URL = env_url("LIMBGUARD_BASE_URL", PUBLIC_BASE_URL)
LIMBGUARD_CDS_CLIENTS = env_str("LIMBGUARD_CDS_CLIENTS", "")
LIMBGUARD_CDS_DEADLINE_MS = env_int("LIMBGUARD_CDS_DEADLINE_MS", 2000, minimum=200, maximum=10000)
LIMBGUARD_CDS_FHIR_TIMEOUT_MS = env_int("LIMBGUARD_CDS_FHIR_TIMEOUT_MS", 1500, minimum=50)
LIMBGUARD_CDS_EVALUATION_DAYS = env_int("LIMBGUARD_CDS_EVALUATION_DAYS", 30, minimum=1)
LIMBGUARD_CDS_MAX_BODY_BYTES = env_int("LIMBGUARD_CDS_MAX_BODY_BYTES", 2_000_000, minimum=4096)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "America/Los_Angeles"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [SRC_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# Uploads live outside the web root and are only served through permission-checked views.
MEDIA_ROOT = DATA_DIR / "private"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
