"""Settings come from the environment, and production is the default: debug off, a strong secret key required,
HTTPS only (redirect, HSTS, secure cookies, the proxy's header), a Content Security Policy, and a clean
`check --deploy` with nothing but a secret key and the host names set."""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from therapists.models import Therapist

ROOT = Path(__file__).resolve().parents[2]
SHOW = "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'], settings.DEBUG)"
SECURITY = """
import json
from django.conf import settings
names = ["DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
         "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_PROXY_SSL_HEADER"]
print(json.dumps({name: getattr(settings, name) for name in names}))
"""
# A key as `secrets.token_urlsafe(50)` makes one (67 characters); fixed so the tests are repeatable.
STRONG_KEY = "x7Qp2LmV9sK4tR8wZ1nB6cH3jF5gD0aE-uY_iO7pA2sD4fG6hJ8kL0zX3cV5bN7mQ9w"
# Variables a developer's shell or the test run may hold: none of them may leak into these fresh processes.
ENV_PREFIXES = ("DJANGO_", "DATABASE_URL", "CLINIC_", "REDIS_URL", "TWILIO_")


def clean_environment(**env: str) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(ENV_PREFIXES)}
    environment.update(env, DJANGO_SETTINGS_MODULE="clinic.settings", PYTHONPATH=str(ROOT))
    return environment


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter and a fixed snippet
        [sys.executable, "-c", code],
        env=clean_environment(**env),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def run_settings(**env: str) -> subprocess.CompletedProcess:
    return run_python(SHOW, **env)


def security_settings(**env: str) -> dict:
    result = run_python(SECURITY, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_debug_is_off_unless_asked_for():
    assert run_settings(DJANGO_SECRET_KEY=STRONG_KEY).stdout.split() == ["django.db.backends.sqlite3", "False"]
    assert run_settings(DJANGO_SECRET_KEY=STRONG_KEY, DJANGO_DEBUG="yes-please").stdout.split()[1] == "False"
    assert run_settings(DJANGO_DEBUG="true").stdout.split()[1] == "True"


def test_debug_off_without_a_secret_key_refuses_to_start():
    result = run_settings()

    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off." in result.stderr


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(STRONG_KEY[:49], id="49 characters"),
        pytest.param("a" * 50, id="one character fifty times"),
        pytest.param("django-insecure-" + STRONG_KEY, id="django's placeholder"),
        pytest.param("k", id="one character"),
    ],
)
def test_a_weak_secret_key_is_refused_at_start_up(key):
    result = run_settings(DJANGO_SECRET_KEY=key)

    assert result.returncode != 0
    assert f"ImproperlyConfigured: DJANGO_SECRET_KEY is too weak ({len(key)} characters)" in result.stderr
    assert "at least 50 characters" in result.stderr
    if len(key) > 10:
        assert key not in result.stderr  # the key itself is never printed


def test_debug_off_with_a_strong_secret_key_starts():
    result = run_settings(DJANGO_SECRET_KEY=STRONG_KEY[:50])

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "False"]


def test_the_development_key_is_only_used_with_debug_on():
    result = run_python(
        "from django.conf import settings; print(settings.SECRET_KEY.startswith('development-only'))", DJANGO_DEBUG="1"
    )

    assert result.stdout.strip() == "True", result.stderr


def test_the_deploy_check_is_clean_with_only_a_secret_key_and_host_names():
    result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=clean_environment(DJANGO_SECRET_KEY=STRONG_KEY, DJANGO_ALLOWED_HOSTS="book.example.com"),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_is_https_only_by_default():
    assert security_settings(DJANGO_SECRET_KEY=STRONG_KEY) == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 365 * 24 * 60 * 60,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
    }


def test_each_https_setting_can_be_adjusted_for_the_machine():
    adjusted = security_settings(
        DJANGO_SECRET_KEY=STRONG_KEY,
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_SECURE_HSTS_SECONDS="3600",
        DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS="false",
        DJANGO_SECURE_HSTS_PRELOAD="false",
        DJANGO_SESSION_COOKIE_SECURE="false",
        DJANGO_CSRF_COOKIE_SECURE="false",
        DJANGO_PROXY_SSL_HEADER="X-Forwarded-Ssl-Scheme",
    )

    assert adjusted == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 3600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_HSTS_PRELOAD": False,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_SSL_SCHEME", "https"],
    }
    assert (
        security_settings(DJANGO_SECRET_KEY=STRONG_KEY, DJANGO_PROXY_SSL_HEADER="")["SECURE_PROXY_SSL_HEADER"] is None
    )


def test_development_is_plain_http():
    development = security_settings(DJANGO_DEBUG="true")

    assert development["SECURE_SSL_REDIRECT"] is False
    assert development["SECURE_HSTS_SECONDS"] == 0
    assert (development["SESSION_COOKIE_SECURE"], development["CSRF_COOKIE_SECURE"]) == (False, False)
    assert development["SECURE_PROXY_SSL_HEADER"] is None


def test_database_url_selects_postgresql():
    result = run_settings(DATABASE_URL="postgres://postgres@127.0.0.1:5432/clinic", DJANGO_DEBUG="true")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "django.db.backends.postgresql"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/services/", "/api/availability/?service=nope", "/no-such-page/"])
def test_every_response_carries_the_content_security_policy(client, settings, path):
    assert settings.DEBUG is False  # as in production: pytest-django runs the tests with debug off

    policy = client.get(path)["Content-Security-Policy"]

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'self'"
    assert directives["form-action"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="seed_demo is for development") as refusal:
        call_command("seed_demo", "--weeks", "1", "--appointments", "0", stdout=StringIO())

    assert "--allow-without-debug" in str(refusal.value)
    assert not get_user_model().objects.exists()
    assert not Therapist.objects.exists()


@pytest.mark.django_db
def test_seed_demo_runs_with_debug_off_when_told_explicitly(settings):
    settings.DEBUG = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    out = StringIO()

    call_command(
        "seed_demo", "--therapists", "1", "--weeks", "1", "--appointments", "0", "--allow-without-debug", stdout=out
    )

    assert "demo clinic is ready" in out.getvalue()
    assert get_user_model().objects.filter(username="manager").exists()
