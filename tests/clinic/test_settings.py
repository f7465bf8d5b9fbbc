"""Settings come from the environment; a production server without a secret key refuses to start."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOW = "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'], settings.DEBUG)"


def run_settings(**env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))}
    environment.update(env, DJANGO_SETTINGS_MODULE="clinic.settings", PYTHONPATH=str(ROOT))
    return subprocess.run(  # noqa: S603 - our own interpreter and a fixed snippet
        [sys.executable, "-c", SHOW], env=environment, capture_output=True, text=True, cwd=ROOT, check=False
    )


def test_debug_off_without_a_secret_key_refuses_to_start():
    result = run_settings(DJANGO_DEBUG="false")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_debug_off_with_a_secret_key_starts():
    result = run_settings(DJANGO_DEBUG="false", DJANGO_SECRET_KEY="a" * 50)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "False"]


def test_database_url_selects_postgresql():
    result = run_settings(DATABASE_URL="postgres://postgres@127.0.0.1:5432/clinic")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "django.db.backends.postgresql"
