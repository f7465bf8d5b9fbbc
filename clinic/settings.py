"""Settings for the clinic booking site, read from environment variables.

Production is the default: debug is off unless DJANGO_DEBUG=true (which
`make run` sets, so it works on a fresh machine), and with debug off the
secret key has no default and a weak one is refused, so a misconfigured
production server refuses to start.
"""

import os
import re
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Security: production is the default. Debug mode (which shows tracebacks with what was submitted) and the
# development key need DJANGO_DEBUG=true, which `make run`, `make test` and the README's development steps set.
DEBUG = env_bool("DJANGO_DEBUG", False)

# django-stubs imports these settings to read the models while type checking; that process serves nothing, so
# it may use the development key rather than make every `mypy` run set DJANGO_DEBUG.
_TYPE_CHECKING_ONLY = "mypy" in sys.modules
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if DEBUG or _TYPE_CHECKING_ONLY:
    SECRET_KEY = SECRET_KEY or "development-only-secret-key-not-for-production"  # noqa: S105
elif not SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off. Generate one with: "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
elif len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure-"):
    # Django's own deploy check (security.W009) asks the same; here a weak key stops the server instead of warning.
    raise ImproperlyConfigured(
        f"DJANGO_SECRET_KEY is too weak ({len(SECRET_KEY)} characters): with DJANGO_DEBUG off it must be at least "
        "50 characters long, use at least 5 different characters and not start with 'django-insecure-'. "
        "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )

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
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "clinic",
    "therapists",
    "booking",
    "frontdesk",
    "notifications",
    "huey.contrib.djhuey",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Staff login: idle sessions end, then the second step (two-factor) is owed before any page but its own.
    "clinic.sessions.StaffSessionTimeoutMiddleware",
    "clinic.two_factor.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "clinic.faults.DatabaseFaultMiddleware",
    "clinic.middleware.ClinicTimeZoneMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its page.
    "axes.middleware.AxesMiddleware",
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
        # A kept connection is checked before a request uses it, so one the database dropped (a restart, an
        # outage) is replaced instead of failing that request.
        conn_health_checks=True,
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

# Staff login protection (README, "Staff login"). Lockout by django-axes: after CLINIC_LOGIN_FAILURE_LIMIT failed
# logins on one account, or from one client address (clinic/client_address.py, TRUSTED_PROXY_HEADER behind a
# proxy), logins there are refused for CLINIC_LOGIN_COOLOFF_MINUTES or until a manager unlocks the account
# (clinic/login_protection.py). Its backend goes first, so a locked-out login is refused before the password is
# even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("CLINIC_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("CLINIC_LOGIN_COOLOFF_MINUTES", "15")))
# Each is counted on its own: an account from anywhere, an address whatever accounts it tries.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# More tries while locked out do not restart the wait, so the page can say when it ends.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "clinic.client_address.client_address"
AXES_LOCKOUT_CALLABLE = "clinic.login_protection.lockout_response"
# No start-up banner in every command's output.
AXES_VERBOSE = False
# Two-factor authentication (django-otp, TOTP): required for managers and superusers, optional for other staff
# (clinic/two_factor.py). The admin shows no secrets of authenticators.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Staff sessions end when the browser closes, and after ClinicSettings.staff_session_minutes without a request
# (clinic/sessions.py).
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

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

# Security. With debug off the site is HTTPS only by default: plain HTTP is redirected, cookies never travel
# without TLS, and browsers are told (HSTS) to use HTTPS for a year. Each can be adjusted for the machine it runs
# on (DJANGO_SECURE_*, DJANGO_*_COOKIE_SECURE); `manage.py check --deploy` is clean with the defaults.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("DJANGO_SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("DJANGO_CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "0" if DEBUG else str(365 * 24 * 60 * 60)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", not DEBUG)
# Behind a proxy that terminates TLS, the app sees plain HTTP; the proxy says the visitor used HTTPS in a header
# (X-Forwarded-Proto: https), which must be the proxy's own (it overwrites whatever the visitor sent).
# "X-Forwarded-Proto" or "HTTP_X_FORWARDED_PROTO"; empty when nothing sits in front of the app.
_PROXY_SSL_HEADER = os.environ.get("DJANGO_PROXY_SSL_HEADER", "" if DEBUG else "HTTP_X_FORWARDED_PROTO").strip()
if _PROXY_SSL_HEADER and not _PROXY_SSL_HEADER.upper().startswith("HTTP_"):
    _PROXY_SSL_HEADER = "HTTP_" + _PROXY_SSL_HEADER.replace("-", "_")
SECURE_PROXY_SSL_HEADER = (_PROXY_SSL_HEADER.upper(), "https") if _PROXY_SSL_HEADER else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content Security Policy (django-csp): scripts and styles only from this site's own files, so injected markup can
# neither run code nor restyle the page. Pages hand data to their scripts with json_script, which is not executable;
# no template has an inline script, an on*= handler or a style attribute. EventCalendar and Bootstrap set
# element.style from their scripts, which the policy allows, so styles need no 'unsafe-inline' (README, "Production").
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Every handler drops private links' tokens from what it writes (clinic.logging.RedactTokens); Django's own
# loggers, runserver's access lines included, go through these handlers instead of Django's defaults.
LOGGING_CONFIG = "clinic.logging.configure"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_tokens": {"()": "clinic.logging.RedactTokens"}},
    "formatters": {
        "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"}
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_tokens"]},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server", "filters": ["redact_tokens"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}

# The shared cache: rate limit counts (and anything else cached) must be the same on every app server, so
# production points CLINIC_CACHE_URL at Redis (redis://host:6379/1). Unset, each process keeps its own in memory,
# which is right for `make run` and the tests only.
_CACHE_URL = os.environ.get("CLINIC_CACHE_URL", "").strip()
if _CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _CACHE_URL,
            "KEY_PREFIX": os.environ.get("CLINIC_CACHE_KEY_PREFIX", "clinic"),
            # A Redis that does not answer costs a request a second at most (the rate limits then let it through).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
elif _CACHE_URL in ("", "locmem://"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "clinic"}}
else:
    raise ImproperlyConfigured("CLINIC_CACHE_URL must be a redis:// address, or unset for a cache in memory.")

# Abuse limits on the public doors (clinic.ratelimit), counted in the cache above: "N/s", "N/m", "N/h" or "N/d",
# e.g. "10/h" is ten tries an hour. CLINIC_RATE_LIMITS overrides some ("book_address=20/h,api_address=120/m"),
# or all of them at once with "off" (a load test from one machine).
RATE_LIMITS = {
    "book_address": "10/h",  # confirmed online bookings from one client address
    "book_contact": "5/h",  # ... for one email address, and for one phone number
    "api_address": "60/m",  # availability API requests from one address
    "link_token": "10/h",  # cancel, reschedule, waitlist and reminder changes through one private link
    "link_address": "30/h",  # ... through any private links, from one address
    "waitlist_address": "5/h",  # waitlist sign-ups from one address
    "waitlist_contact": "5/h",  # ... for one email address, and for one phone number
    "webhook_address": "120/m",  # the text-message webhook, per sending address
    "password_reset_address": "10/h",  # "forgot your password" emails asked for from one address
    "password_reset_email": "3/h",  # ... for one email address
}
_RATE_OVERRIDES = os.environ.get("CLINIC_RATE_LIMITS", "").strip()
if _RATE_OVERRIDES == "off":
    RATE_LIMITS = dict.fromkeys(RATE_LIMITS, "off")
elif _RATE_OVERRIDES:
    for _item in _RATE_OVERRIDES.split(","):
        _name, _, _rate = (part.strip() for part in _item.partition("="))
        if _name not in RATE_LIMITS or not (_rate == "off" or re.fullmatch(r"\d+/\d*[smhd]", _rate)):
            raise ImproperlyConfigured(f"CLINIC_RATE_LIMITS: cannot read {_item.strip()!r}; see the README.")
        RATE_LIMITS[_name] = _rate
# django-ratelimit does the counting; these are its settings.
RATELIMIT_USE_CACHE = "default"
RATELIMIT_IP_META_KEY = "clinic.client_address.client_address"
# Behind a proxy or load balancer: the header it writes with the visitor's address (e.g. X-Forwarded-For or
# X-Real-IP). Empty: REMOTE_ADDR, for a server that visitors reach directly. See clinic/client_address.py.
TRUSTED_PROXY_HEADER = os.environ.get("DJANGO_TRUSTED_PROXY_HEADER", "").strip()

# The clinic's name and phone for the page shown when the database cannot be reached (the admin's copy is in the
# database); set them to the clinic's own.
CLINIC_NAME = os.environ.get("CLINIC_NAME", "Mo Therapy")
CLINIC_PHONE = os.environ.get("CLINIC_PHONE", "416-555-0134")

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
