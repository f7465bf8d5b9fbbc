"""Settings for the clinic booking site, read from environment variables.

Development defaults make `make run` work on a fresh machine; with
DJANGO_DEBUG off the secret key has no default, so a misconfigured
production server refuses to start.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "development-only-secret-key-not-for-production"  # noqa: S105

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "phonenumber_field",
    "clinic",
    "therapists",
    "booking",
    "frontdesk",
    "notifications",
    "huey.contrib.djhuey",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "clinic.middleware.ClinicTimeZoneMiddleware",
]

ROOT_URLCONF = "clinic.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "clinic" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.clinic",
            ],
        },
    },
]

WSGI_APPLICATION = "clinic.wsgi.application"
ASGI_APPLICATION = "clinic.asgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Every write transaction takes the database lock at BEGIN, so two bookings
    # can never interleave their availability check and their insert.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so tests with several threads (races, the live server) share one database.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("DJANGO_TEST_SQLITE_NAME") or str(BASE_DIR / "test-output" / "test-db.sqlite3")
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "staff_home"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-ca"
USE_I18N = True
USE_TZ = True
# The clinic's own time zone lives in its policies (ClinicSettings); this is
# the default for new clinics and for admin display.
TIME_ZONE = os.environ.get("CLINIC_TIME_ZONE", "America/Toronto")

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/event-calendar", BASE_DIR / "node_modules" / "@event-calendar" / "build" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# In development, serve static files straight from the app and npm folders.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# Phone numbers are stored in E.164 (+14165550108) and shown the way people in the clinic's country write them.
PHONENUMBER_DEFAULT_REGION = os.environ.get("CLINIC_PHONE_REGION", "CA")
PHONENUMBER_DB_FORMAT = "E164"
PHONENUMBER_DEFAULT_FORMAT = "NATIONAL"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = os.environ.get("DJANGO_EMAIL_FILE_PATH", str(BASE_DIR / "sent-mail"))
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
# Seconds an SMTP connection may wait on the mail server: a server that accepts and never answers costs one try.
EMAIL_TIMEOUT = int(os.environ.get("DJANGO_EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "Mo Therapy <bookings@example.com>")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
}

# Text messages: "console" (development), "file", "memory" (tests) or "twilio" (TWILIO_* variables).
SMS_BACKEND = os.environ.get("CLINIC_SMS_BACKEND", "console" if DEBUG else "twilio")
SMS_FILE_PATH = os.environ.get("CLINIC_SMS_FILE_PATH", str(BASE_DIR / "sent-texts"))
SMS_TIMEOUT = float(os.environ.get("CLINIC_SMS_TIMEOUT", "10"))

# The task queue (Huey). "sqlite" needs no server: a file beside the project, for `make run` on a fresh
# machine. "redis" is for production, with workers on as many machines as needed. "memory" keeps jobs in
# the process and is what the tests use (they call the outbox's delivery directly, and one test runs the
# real worker on Redis). Web requests never run jobs themselves: `immediate` is always off.
TASK_QUEUE = os.environ.get("CLINIC_TASK_QUEUE", "sqlite")
_TASK_BACKENDS = {
    "sqlite": {
        "huey_class": "huey.SqliteHuey",
        "filename": os.environ.get("CLINIC_TASK_DB") or str(BASE_DIR / "task-queue.sqlite3"),
    },
    "redis": {"huey_class": "huey.RedisHuey", "url": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")},
    "memory": {"huey_class": "huey.MemoryHuey"},
}
if TASK_QUEUE not in _TASK_BACKENDS:
    raise ImproperlyConfigured(f"CLINIC_TASK_QUEUE must be one of {', '.join(_TASK_BACKENDS)}.")
HUEY = {
    "name": os.environ.get("CLINIC_TASK_QUEUE_NAME", "clinic"),
    "immediate": False,
    "utc": True,
    **_TASK_BACKENDS[TASK_QUEUE],
    "consumer": {"workers": int(os.environ.get("CLINIC_TASK_WORKERS", "2")), "worker_type": "thread"},
}

# Absolute address of the site, for links in emails.
SITE_URL = os.environ.get("DJANGO_SITE_URL", "http://127.0.0.1:8000")
