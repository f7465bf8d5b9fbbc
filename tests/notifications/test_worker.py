"""The worker really runs: `manage.py run_huey` in a subprocess sends what a booking queued.

A booking is made through the services in this process (committed rows: `transactional_db`), and its commit
puts the "send now" job on a real queue: Redis, as in production, under a queue name of its own so nothing
else on that Redis is disturbed; then the embedded default, a SQLite file, as `make run` uses. A real Huey
consumer, started with the production settings on the test database (the subprocess opens the same database:
PostgreSQL by name, or SQLite's test file), takes the job and sends the email through Django's file backend.
The test waits, bounded, until the outbox row is sent and the email is on disk.
"""

from __future__ import annotations

import email
import email.policy
import os
import uuid
from datetime import datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
from django.utils import timezone
from huey.storage import RedisStorage, SqliteStorage

from booking import services
from booking.actors import Actor
from booking.models import Appointment
from notifications.models import OutboundMessage
from tests.conftest import require_or_skip
from tests.notifications.task_queue import queue_on, running_worker, wait_for, worker_environment

TORONTO = ZoneInfo("America/Toronto")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
DELIVERY_SECONDS = 30  # from the booking's commit to the email on disk, on a slow CI machine
STARTUP_SECONDS = 30


def redis_answers(url: str) -> bool:
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_url() -> str:
    require_or_skip(redis_answers(REDIS_URL), f"Redis at {REDIS_URL}", "CLINIC_REQUIRE_REDIS")
    return REDIS_URL


@pytest.fixture
def queue_name() -> str:
    return f"clinic-test-{uuid.uuid4().hex[:12]}"


def next_weekday_at_ten(now: datetime) -> datetime:
    """10:00 in Toronto on a weekday at least two days ahead of the real clock (the worker runs on real time)."""
    day = now.astimezone(TORONTO).date() + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(10), tzinfo=TORONTO)


def book(option, therapist) -> Appointment:
    now = timezone.now()
    return services.appointment_book(
        option=option,
        therapist=therapist,
        start=next_weekday_at_ten(now),
        patient=services.PatientDetails(name="Jordan Lee", email="jordan@example.com", phone="416-555-0199"),
        now=now,
        actor=Actor.system("worker test"),
    )


def sent_emails(folder: Path) -> list[EmailMessage]:
    """The emails Django's file backend wrote: one file per connection, messages separated by a line of dashes."""
    found = []
    for path in sorted(folder.glob("*.log")):
        for chunk in path.read_bytes().split(b"-" * 79):
            if chunk.strip():
                message = email.message_from_bytes(chunk.lstrip(), policy=email.policy.default)
                assert isinstance(message, EmailMessage)
                found.append(message)
    return found


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None, "no plain-text part"
    return body.get_content()


def assert_confirmation_delivered(appointment: Appointment, mail_folder: Path) -> None:
    message = OutboundMessage.objects.get(appointment=appointment, kind=OutboundMessage.Kind.CONFIRMATION)
    assert message.status == OutboundMessage.Status.SENT
    assert (message.attempts, message.last_error) == (1, "")
    assert message.sent_at is not None
    [sent] = [mail for mail in sent_emails(mail_folder) if mail["To"] == "jordan@example.com"]
    assert sent["Subject"] == message.subject
    assert appointment.manage_token in text_of(sent)


def confirmation_sent(appointment: Appointment, mail_folder: Path):
    def check() -> bool:
        sent = OutboundMessage.objects.filter(
            appointment=appointment, kind=OutboundMessage.Kind.CONFIRMATION, status=OutboundMessage.Status.SENT
        ).exists()
        return sent and any(mail["To"] == "jordan@example.com" for mail in sent_emails(mail_folder))

    return check


def test_the_worker_on_redis_sends_what_a_booking_queued(
    transactional_db, option, therapist, redis_url, queue_name, tmp_path
):
    mail_folder = tmp_path / "mail"
    log = tmp_path / "worker.log"
    environment = worker_environment(
        mail_folder,
        CLINIC_TASK_QUEUE="redis",
        REDIS_URL=redis_url,
        CLINIC_TASK_QUEUE_NAME=queue_name,
        CLINIC_TASK_WORKERS="2",
    )
    queue = RedisStorage(queue_name, url=redis_url)
    try:
        # As in production: `python manage.py run_huey -w N`, already waiting when the booking comes in.
        with running_worker(["-w", "2"], environment, log) as worker:
            wait_for(lambda: b"Huey consumer started" in log.read_bytes(), STARTUP_SECONDS, worker, log)
            with queue_on(queue):
                appointment = book(option, therapist)

            took = wait_for(confirmation_sent(appointment, mail_folder), DELIVERY_SECONDS, worker, log)
            # The job the commit queued did it (not only the minute's sweep), and the queue is empty again.
            wait_for(lambda: queue.queue_size() == 0, 5, worker, log)
            assert "Executing notifications.tasks.deliver_due_messages" in log.read_text()
    finally:
        queue.flush_all()
        queue.pool.disconnect()

    assert_confirmation_delivered(appointment, mail_folder)
    assert took < DELIVERY_SECONDS


def test_the_embedded_worker_of_make_run_sends_with_no_server(transactional_db, option, therapist, tmp_path):
    mail_folder = tmp_path / "mail"
    log = tmp_path / "worker.log"
    queue_file = tmp_path / "task-queue.sqlite3"
    environment = worker_environment(
        mail_folder, CLINIC_TASK_QUEUE="sqlite", CLINIC_TASK_DB=str(queue_file), CLINIC_TASK_QUEUE_NAME="clinic"
    )
    queue = SqliteStorage("clinic", filename=str(queue_file))
    # The booking is made while no worker runs: its job waits in the file...
    with queue_on(queue):
        appointment = book(option, therapist)
    assert queue.queue_size() == 1

    # ...and the worker `make run` starts (same command, same arguments) picks it up.
    with running_worker(["--quiet"], environment, log) as worker:
        took = wait_for(confirmation_sent(appointment, mail_folder), DELIVERY_SECONDS, worker, log)
        wait_for(lambda: queue.queue_size() == 0, 5, worker, log)

    assert_confirmation_delivered(appointment, mail_folder)
    assert took < DELIVERY_SECONDS
