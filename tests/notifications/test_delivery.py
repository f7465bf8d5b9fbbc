"""Mail servers (and task queues) that misbehave never hold a page, and the worker records what they did.

- The pages, over real HTTP against the live server (a patient's browser without JavaScript, cookies kept for
  CSRF), with Django's SMTP backend pointed at a local server that accepts connections and never answers. A
  page that talked to the mail server would hang there, or take at least its EMAIL_TIMEOUT; the tests check
  the page comes back at once, the mail server saw no connection, and the message waits in the outbox with
  a job queued for the worker. A server that refuses the message with 554, and a task queue that is down or
  silent, never turn a booking that was made into an error page either.
- The worker, driven as its job runs it, against the same servers: a timed-out attempt is recorded and tried
  again after the back-off, the fifth fails the message with the reason; a slow batch never makes a claim
  look abandoned to another worker.
- Two workers at once on PostgreSQL: each message sent exactly once, and neither waits for the other.
"""

from __future__ import annotations

import http.cookiejar
import re
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from datetime import datetime, timedelta
from itertools import pairwise
from time import perf_counter
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone
from huey.contrib.djhuey import HUEY
from huey.storage import RedisStorage

from booking import services
from booking.actors import Actor, Via
from booking.models import Appointment
from notifications import channels, delivery
from notifications.models import OutboundMessage
from tests.conftest import NOW
from tests.factories import AppointmentFactory
from tests.notifications.silent_server import RefusingSmtpServer, SilentServer, deadline
from tests.notifications.task_queue import queue_on, run_queued_jobs

TORONTO = ZoneInfo("America/Toronto")
START = "2026-12-08T10:00-05:00"
Status = OutboundMessage.Status

# A page must answer well inside this, on a slow CI machine too; a page that waited on the mail server would
# take at least PAGE_EMAIL_TIMEOUT (or for ever, without a timeout).
PAGE_BOUND_SECONDS = 3.0
PAGE_EMAIL_TIMEOUT = 5
# How long the worker's send may wait on a silent server, and the slack allowed on top of it.
WORKER_EMAIL_TIMEOUT = 1
SLACK_SECONDS = 2.0
HTTP_TIMEOUT_SECONDS = 20  # so a test that regresses fails instead of hanging


@pytest.fixture
def silent_server():
    with SilentServer() as server:
        yield server


@pytest.fixture
def refusing_server():
    with RefusingSmtpServer() as server:
        yield server


def send_mail_through(settings, port: int, timeout: float) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = timeout


@pytest.fixture
def task_queue():
    """The test process's task queue (Huey in memory), empty before and after: what the pages asked the worker."""
    HUEY.flush()
    yield HUEY
    HUEY.flush()


# --- The pages, over real HTTP ---------------------------------------------------------------------------


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 302 itself is the answer we time


class Visitor:
    """A patient's browser without JavaScript: real HTTP to the live server, cookies kept (for CSRF)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _KeepRedirects()
        )

    def _open(self, request: urllib.request.Request) -> tuple[int, str, str]:
        try:
            with self.opener.open(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
                return response.status, response.read().decode(), ""
        except urllib.error.HTTPError as answer:
            return answer.code, answer.read().decode(), answer.headers.get("Location", "")

    def get(self, path: str, **params: str) -> tuple[int, str, str]:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        return self._open(urllib.request.Request(f"{self.base_url}{path}{query}"))  # noqa: S310 - the live server

    def post_form(self, path: str, page: str, data: dict[str, str]) -> tuple[int, str, str]:
        """POST `data` with the CSRF token of the form on `page`."""
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, "the page has no form with a CSRF token"
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": token.group(1)}).encode()
        return self._open(urllib.request.Request(f"{self.base_url}{path}", data=body, method="POST"))  # noqa: S310


@pytest.fixture
def clinic_open(transactional_db, service, therapist):
    """Committed rows (the live server answers from its own thread), at the clinic's usual test clock."""
    with time_machine.travel(NOW, tick=True):
        yield


def book_through_the_pages(visitor: Visitor) -> tuple[int, str, float]:
    """Jordan books Tuesday 10:00 with Alex from the details step; returns the answer's status and Location
    and how long the confirming POST took."""
    choice = {"service": "myofascial-release", "duration": "60", "therapist": "alex-moreau", "start": START}
    status, form_page, _ = visitor.get("/book/", **choice)
    assert status == 200
    request_key = re.search(r'name="request_key" value="([^"]+)"', form_page)
    assert request_key, "the details step has no request key"
    details = {
        **choice,
        "name": "Jordan Lee",
        "email": "jordan@example.com",
        "phone": "416-555-0199",
        "request_key": request_key.group(1),
        "intent": "confirm",
    }
    started = perf_counter()
    status, _, location = visitor.post_form("/book/", form_page, details)
    return status, location, perf_counter() - started


def test_booking_page_answers_at_once_while_the_mail_server_is_silent(
    live_server, clinic_open, settings, silent_server, task_queue
):
    send_mail_through(settings, silent_server.port, timeout=PAGE_EMAIL_TIMEOUT)
    visitor = Visitor(live_server.url)

    status, location, elapsed = book_through_the_pages(visitor)

    assert status == 302, "the booking was not made"
    assert elapsed < PAGE_BOUND_SECONDS, f"the booking page took {elapsed:.1f}s"
    appointment = Appointment.objects.get()
    assert location.endswith(f"/appointments/{appointment.manage_token}/?booked=1")
    assert silent_server.accepted == 0, "a web request talked to the mail server"
    message = OutboundMessage.objects.get(kind=OutboundMessage.Kind.CONFIRMATION)
    assert (message.appointment, message.status, message.attempts) == (appointment, Status.PENDING, 0)
    assert [job.name for job in task_queue.pending()] == ["deliver_due_messages"], "the worker was not asked"
    status, page, _ = visitor.get(location.removeprefix(live_server.url))
    assert status == 200
    assert "We'll email a confirmation to jordan@example.com" in page


def test_cancelling_from_the_private_link_answers_at_once_while_the_mail_server_is_silent(
    live_server, clinic_open, settings, silent_server, task_queue, therapist, service
):
    appointment = AppointmentFactory(
        therapist=therapist, service=service, start=datetime(2026, 12, 10, 10, tzinfo=TORONTO)
    )
    send_mail_through(settings, silent_server.port, timeout=PAGE_EMAIL_TIMEOUT)
    visitor = Visitor(live_server.url)
    cancel_path = f"{appointment.private_link_path()}cancel/"
    status, page, _ = visitor.get(cancel_path)
    assert status == 200

    started = perf_counter()
    status, _, location = visitor.post_form(cancel_path, page, {"reason": "Feeling better"})
    elapsed = perf_counter() - started

    assert status == 302
    assert elapsed < PAGE_BOUND_SECONDS, f"the cancel page took {elapsed:.1f}s"
    assert silent_server.accepted == 0, "a web request talked to the mail server"
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    message = OutboundMessage.objects.get(kind=OutboundMessage.Kind.CANCELLATION)
    assert message.status == Status.PENDING
    assert [job.name for job in task_queue.pending()] == ["deliver_due_messages"], "the worker was not asked"
    status, page, _ = visitor.get(location.removeprefix(live_server.url))
    assert status == 200
    assert "Your appointment is cancelled." in page


def test_a_mail_server_that_refuses_the_message_never_breaks_the_booking_and_the_worker_keeps_the_reason(
    live_server, clinic_open, settings, refusing_server, task_queue
):
    send_mail_through(settings, refusing_server.port, timeout=WORKER_EMAIL_TIMEOUT)
    visitor = Visitor(live_server.url)

    status, location, _ = book_through_the_pages(visitor)

    assert status == 302
    assert visitor.get(location.removeprefix(live_server.url))[0] == 200
    assert refusing_server.accepted == 0
    # The job the page queued, run as the consumer runs it: the server refuses for good (a 5xx), so the worker fails
    # the message at once with the reason, for staff to see, rather than sending it four more times.
    assert run_queued_jobs(task_queue) == [{Status.FAILED: 1}]
    assert refusing_server.refused == 1
    message = OutboundMessage.objects.get(kind=OutboundMessage.Kind.CONFIRMATION)
    assert (message.status, message.attempts) == (Status.FAILED, 1)
    assert message.last_error.startswith("SMTPDataError: (554")
    assert "Message rejected as spam" in message.last_error
    assert Appointment.objects.get().status == Appointment.Status.BOOKED


# --- The task queue itself down or silent: the booking is made, so the page must say so ----------------------


def closed_port() -> int:
    """A local port nobody listens on: connecting is refused at once, like a Redis that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_task_queue_that_is_down_never_turns_a_made_booking_into_an_error_page(live_server, clinic_open, caplog):
    with queue_on(RedisStorage("clinic-down", url=f"redis://127.0.0.1:{closed_port()}/0")):
        status, location, elapsed = book_through_the_pages(Visitor(live_server.url))

    assert status == 302, "the booking was made but the patient saw an error"
    assert elapsed < PAGE_BOUND_SECONDS
    assert location.endswith(f"/appointments/{Appointment.objects.get().manage_token}/?booked=1")
    # The message is safe in the outbox: the worker's sweep sends it once the queue is back.
    assert OutboundMessage.objects.get(kind=OutboundMessage.Kind.CONFIRMATION).status == Status.PENDING
    assert "Could not ask the worker" in caplog.text


def test_a_silent_task_queue_holds_the_booking_page_no_longer_than_the_redis_timeout(
    live_server, clinic_open, silent_server, caplog
):
    # As settings build it (a URL only), so redis-py's own timeouts apply: 5 s to connect and to read.
    with queue_on(RedisStorage("clinic-silent", url=f"redis://127.0.0.1:{silent_server.port}/0")):
        status, _, elapsed = book_through_the_pages(Visitor(live_server.url))

    assert status == 302
    assert silent_server.accepted >= 1
    assert elapsed < 5 + SLACK_SECONDS, f"the booking page took {elapsed:.1f}s"
    assert OutboundMessage.objects.get(kind=OutboundMessage.Kind.CONFIRMATION).status == Status.PENDING
    assert "Could not ask the worker" in caplog.text


# --- The worker, against the same servers -----------------------------------------------------------------


@pytest.fixture
def queued(db, option, therapist, now) -> OutboundMessage:
    """A booking's confirmation waiting in the outbox, as the booking service leaves it."""
    appointment = services.appointment_book(
        option=option,
        therapist=therapist,
        start=datetime(2026, 12, 8, 10, tzinfo=TORONTO),
        patient=services.PatientDetails(name="Jordan Lee", email="jordan@example.com", phone="416-555-0199"),
        now=now,
        actor=Actor.patient(Via.ONLINE_BOOKING),
    )
    return OutboundMessage.objects.get(appointment=appointment, kind=OutboundMessage.Kind.CONFIRMATION)


def test_a_send_to_a_silent_mail_server_gives_up_after_the_timeout_and_is_tried_again_later(
    queued, settings, silent_server, now
):
    send_mail_through(settings, silent_server.port, timeout=WORKER_EMAIL_TIMEOUT)

    started = perf_counter()
    with deadline(WORKER_EMAIL_TIMEOUT + SLACK_SECONDS):
        status = delivery.deliver(queued.pk, now)
    elapsed = perf_counter() - started

    assert status == Status.PENDING
    assert silent_server.accepted == 1
    assert WORKER_EMAIL_TIMEOUT * 0.9 <= elapsed < WORKER_EMAIL_TIMEOUT + SLACK_SECONDS
    queued.refresh_from_db()
    assert queued.attempts == 1
    assert "timed out" in queued.last_error
    assert queued.send_after == now + timedelta(minutes=1)
    assert queued.sent_at is None
    # Not due again before its new time.
    assert delivery.deliver_due(now + timedelta(seconds=59)) == {}
    assert silent_server.accepted == 1


@pytest.mark.parametrize(
    ("at", "reply", "status", "error"),
    [
        (b"RCPT", "550 5.1.1 No such mailbox", Status.FAILED, "SMTPRecipientsRefused"),
        (b"DATA", "552 5.3.4 Message too big", Status.FAILED, "SMTPDataError: (552"),
        (b"RCPT", "450 4.2.1 Mailbox busy, try later", Status.PENDING, "SMTPRecipientsRefused"),
        (b"DATA", "451 4.3.0 Temporary failure", Status.PENDING, "SMTPDataError: (451"),
        (b"MAIL", "553 5.7.1 Sender address not allowed", Status.PENDING, "SMTPSenderRefused"),
    ],
    ids=["no-such-mailbox", "too-big", "mailbox-busy", "temporary", "clinic-sender-refused"],
)
def test_a_refusal_for_good_fails_at_once_and_a_passing_one_is_tried_again(
    queued, settings, now, at, reply, status, error
):
    """A 5xx about the patient's address or the message will be the same next time; a 4xx, or a refusal of the
    clinic's own sender address (a setting the clinic can correct), is worth another try."""
    with RefusingSmtpServer(reply, at=at) as server:
        send_mail_through(settings, server.port, timeout=WORKER_EMAIL_TIMEOUT)
        assert delivery.deliver_due(now) == {status: 1}
        assert server.refused == 1
    queued.refresh_from_db()
    assert (queued.status, queued.attempts) == (status, 1)
    assert queued.last_error.startswith(error)
    assert reply.split(" ", 2)[2] in queued.last_error


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (21610, Status.FAILED),
        (21211, Status.FAILED),
        (21614, Status.FAILED),
        (20429, Status.PENDING),
        (None, Status.PENDING),
    ],
    ids=["replied-stop", "not-a-number", "not-a-mobile", "too-many-requests", "server-error"],
)
def test_a_text_the_number_can_never_take_fails_at_once(db, clinic, now, monkeypatch, code, status):
    """Twilio's own exception, as its library raises it for these answers (no network here to ask Twilio)."""
    from twilio.base.exceptions import TwilioRestException

    from notifications import outbox, sms

    def refuse(self, *, to: str, body: str) -> None:
        raise TwilioRestException(status=400 if code else 500, uri="/Messages.json", msg="refused", code=code)

    monkeypatch.setattr(sms.MemoryBackend, "send", refuse)
    with transaction.atomic():
        text = outbox.queue(
            # Not a reminder, which the worker re-checks against its appointment first: here only the send counts.
            kind=OutboundMessage.Kind.WAITLIST_OFFER,
            channel=OutboundMessage.Channel.SMS,
            recipient="+14165550199",
            template="notifications/sms/reminder",
            context={},
            now=now,
        )
    assert delivery.deliver(text.pk, now) == status
    text.refresh_from_db()
    assert text.attempts == 1 and "TwilioRestException" in text.last_error


def test_a_silent_mail_server_costs_five_attempts_with_back_off_then_the_message_fails_with_the_reason(
    queued, settings, silent_server, caplog
):
    send_mail_through(settings, silent_server.port, timeout=0.3)
    tried_at = []
    with deadline(delivery.MAX_ATTEMPTS * (0.3 + SLACK_SECONDS)), time_machine.travel(NOW, tick=False) as clock:
        for attempt in range(1, delivery.MAX_ATTEMPTS + 1):
            queued.refresh_from_db()
            if attempt > 1:
                clock.move_to(queued.send_after - timedelta(seconds=1))
                assert delivery.deliver_due(timezone.now()) == {}, "sent again before its back-off was over"
            clock.move_to(queued.send_after)
            tried_at.append(timezone.now())
            outcome = delivery.deliver_due(timezone.now())
            queued.refresh_from_db()
            assert queued.attempts == attempt
            assert silent_server.accepted == attempt
            assert outcome == {Status.FAILED if attempt == delivery.MAX_ATTEMPTS else Status.PENDING: 1}

        assert [later - earlier for earlier, later in pairwise(tried_at)] == [
            timedelta(minutes=minutes) for minutes in (1, 2, 4, 8)
        ]
        assert queued.status == Status.FAILED
        assert "timed out" in queued.last_error
        assert queued.sent_at is None
        assert f"Gave up on message {queued.pk} after 5 attempts" in caplog.text
        # A failed message stays failed until staff retry it.
        clock.move_to(NOW + timedelta(days=1))
        assert delivery.deliver_due(timezone.now()) == {}
    assert silent_server.accepted == delivery.MAX_ATTEMPTS


def test_a_slow_batch_never_leaves_a_fresh_claim_looking_stale_to_another_worker(db, mailoutbox, monkeypatch, now):
    """Each send here takes six minutes (a slow mail server, on a fake clock). Every claim in a batch is stamped
    with the batch's `now`, so a claim made twelve minutes into a batch would look older than STALE_CLAIM to
    another worker sweeping then, which would take the message over and send it a second time. A batch
    therefore stops taking messages after BATCH_TIME and leaves the rest to the next sweep."""
    for number in range(3):
        due_message(number, now)
    clock = {"seconds": 0.0, "batch_started": 0.0}
    monkeypatch.setattr(delivery, "monotonic", lambda: clock["seconds"])
    send = channels.send
    other_worker_swept = []

    def slow_send(message: OutboundMessage) -> None:
        if clock["seconds"] - clock["batch_started"] >= 12 * 60 and not other_worker_swept:
            other_worker_swept.append(True)  # another worker's sweep, twelve minutes into this batch
            delivery.deliver_due(now + timedelta(seconds=clock["seconds"]))
        clock["seconds"] += 6 * 60
        send(message)

    monkeypatch.setattr(channels, "send", slow_send)

    for _ in range(5):  # the sweep, each time at the fake clock's time, until nothing is left
        clock["batch_started"] = clock["seconds"]
        delivery.deliver_due(now + timedelta(seconds=clock["seconds"]))

    sent = Counter(address for message in mailoutbox for address in message.to)
    assert sent == Counter({f"patient{number}@example.com": 1 for number in range(3)})
    assert set(OutboundMessage.objects.values_list("status", "attempts")) == {(Status.SENT, 1)}


# --- Two workers at once -----------------------------------------------------------------------------------

WORKERS = 2
BATCH_SIZE = 60


def due_message(number: int, now: datetime) -> OutboundMessage:
    return OutboundMessage.objects.create(
        kind=OutboundMessage.Kind.CONFIRMATION,
        recipient=f"patient{number}@example.com",
        subject=f"Message {number}",
        body_text="Hello\n",
        created_at=now,
        send_after=now,
    )


def test_two_workers_delivering_one_batch_at_once_send_each_message_exactly_once(
    transactional_db, postgres_only, mailoutbox, now
):
    """Both workers see the same due messages; the claim (a row lock, then the status) gives each message to
    one of them. Without the row lock both read "pending" and both send: removing it turns this red."""
    for number in range(BATCH_SIZE):
        due_message(number, now)
    start_together = threading.Barrier(WORKERS)
    outcomes: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start_together.wait(timeout=10)
            outcomes.append(delivery.deliver_due(now))
        except BaseException as error:  # reported by the test below, not lost in the thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    sent = Counter(address for message in mailoutbox for address in message.to)
    assert sent == Counter({f"patient{number}@example.com": 1 for number in range(BATCH_SIZE)})
    assert sum(outcome.get(Status.SENT, 0) for outcome in outcomes) == BATCH_SIZE
    assert set(OutboundMessage.objects.values_list("status", "attempts")) == {(Status.SENT, 1)}


def test_a_worker_passes_over_a_message_another_worker_holds_instead_of_waiting_for_it(
    transactional_db, postgres_only, mailoutbox, now
):
    """SKIP LOCKED: while one worker holds a message's claim, another sends the rest and leaves it alone."""
    held, free = due_message(1, now), due_message(2, now)
    locked, release = threading.Event(), threading.Event()
    outcome: list[dict[str, int]] = []

    def hold() -> None:
        try:
            with transaction.atomic():
                OutboundMessage.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    def deliver() -> None:
        try:
            outcome.append(delivery.deliver_due(now))
        finally:
            connection.close()

    holder, deliverer = threading.Thread(target=hold), threading.Thread(target=deliver)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        deliverer.start()
        deliverer.join(timeout=5)
        waited = deliverer.is_alive()
    finally:
        release.set()
        holder.join(timeout=10)
        if deliverer.ident is not None:
            deliverer.join(timeout=10)

    assert not waited, "the worker waited for a message another worker holds"
    assert outcome == [{Status.SENT: 1}]
    assert [message.to for message in mailoutbox] == [[free.recipient]]
    held.refresh_from_db()
    assert (held.status, held.attempts) == (Status.PENDING, 0)
