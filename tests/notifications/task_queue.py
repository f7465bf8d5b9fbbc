"""The task queue as tests see it: the test process's Huey pointed elsewhere for a while, its jobs run by hand,
and the real worker (`manage.py run_huey`) started in a subprocess against the test database."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

from django.db import connection
from huey.contrib.djhuey import HUEY

ROOT = Path(__file__).resolve().parents[2]
STOP_SECONDS = 10


@contextlib.contextmanager
def queue_on(storage) -> Iterator[None]:
    """Point the test process's task queue (Huey in memory under pytest) at `storage` for the block.

    The web side of the outbox then really puts its "send now" job there after a commit, as it does in
    production with CLINIC_TASK_QUEUE=redis or sqlite: settings build the same Huey with that storage.
    """
    saved = HUEY.storage
    HUEY.storage = storage
    try:
        yield
    finally:
        HUEY.storage = saved


def run_queued_jobs(queue) -> list:
    """What the consumer does with each job on `queue`: take it off and run it. Returns the jobs' results."""
    results = []
    while (job := queue.dequeue()) is not None:
        results.append(queue.execute(job))
    return results


def database_url() -> str:
    """The test database as a DATABASE_URL, so a subprocess reads and writes the rows the test committed."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"  # the test database is a file (settings: DATABASES TEST NAME)
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{quote(db['NAME'], safe='')}"


def worker_environment(mail_folder: Path, **variables: str) -> dict[str, str]:
    """The environment of a production worker on the test database, sending email to files in `mail_folder`."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CLINIC_", "DATABASE_URL", "REDIS_URL", "PYTEST"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="clinic.settings",
        # Debug off, as in production, which needs a strong key of its own.
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=database_url(),
        DJANGO_EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        DJANGO_EMAIL_FILE_PATH=str(mail_folder),
        CLINIC_SMS_BACKEND="file",
        CLINIC_SMS_FILE_PATH=str(mail_folder / "texts"),
        PYTHONUNBUFFERED="1",
        **variables,
    )
    return environment


@contextlib.contextmanager
def running_worker(arguments: list[str], environment: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """`manage.py run_huey <arguments>` in a subprocess, its output in `log`; stopped (and reaped) at the end."""
    with log.open("wb") as output:
        worker = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
            [sys.executable, "manage.py", "run_huey", *arguments],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield worker
        finally:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)  # Huey's consumer stops at once on SIGTERM
                try:
                    worker.wait(STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)
                    worker.wait(STOP_SECONDS)


def wait_for(condition: Callable[[], bool], seconds: float, worker: subprocess.Popen, log: Path) -> float:
    """Poll `condition` until it holds; fail if it does not within `seconds` or the worker exits first.

    Returns how long it took."""
    started = time.monotonic()
    while not condition():
        if worker.poll() is not None:
            raise AssertionError(f"the worker exited with {worker.returncode}:\n{log.read_text(errors='replace')}")
        if time.monotonic() - started > seconds:
            raise AssertionError(f"not done after {seconds} s; the worker said:\n{log.read_text(errors='replace')}")
        time.sleep(0.2)
    return time.monotonic() - started
