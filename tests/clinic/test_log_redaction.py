"""Private links' tokens never reach the logs (clinic.logging): Django's request warnings, runserver's and
gunicorn's access lines, for every kind of link that opens something on its own."""

import io
import logging
import secrets
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer

from clinic.logging import REDACTED, RedactTokens, redact
from tests.factories import AppointmentFactory

TORONTO = ZoneInfo("America/Toronto")


def token() -> str:
    return secrets.token_urlsafe(24)


# Every kind of link whose token opens something, as it appears in a request line.
LINKS = {
    "appointment": "/appointments/{t}/",
    "appointment cancel": "/appointments/{t}/cancel/",
    "appointment calendar file": "/appointments/{t}/appointment.ics",
    "waitlist place": "/waitlist/{t}/",
    "waitlist offer": "/waitlist/offers/{t}/",
    "calendar feed": "/schedule/feed/{t}.ics",
    "password reset": "/accounts/reset/MQ/{t}/",
    "reminders stop": "/reminders/stop/{t}/",
    "reminders resume": "/reminders/resume/{t}/",
}


@pytest.mark.parametrize("kind", list(LINKS))
def test_redact_takes_the_token_out_of_each_kind_of_link(kind):
    secret = token()
    line = f'"GET {LINKS[kind].format(t=secret)}?booked=1 HTTP/1.1" 404 1234'

    redacted = redact(line)

    assert secret not in redacted
    assert REDACTED in redacted


def test_a_signed_stop_token_with_colons_is_taken_out_whole():
    assert redact("/reminders/stop/MTI:1tXyZa:abcDEF-123_x/") == f"/reminders/stop/{REDACTED}/"


@pytest.mark.parametrize(
    "path",
    [
        "/waitlist/join/",
        "/waitlist/offers/",
        "/frontdesk/appointments/12/move/",
        "/schedule/appointments/7/",
        "/frontdesk/waitlist/3/remove/",
        "/accounts/reset/MQ/set-password/",
        "/accounts/reset/done/",
        "/book/?service=myofascial-release",
    ],
)
def test_paths_without_a_token_are_left_as_they_are(path):
    assert redact(f"GET {path}") == f"GET {path}"


def test_every_handler_in_the_settings_has_the_filter():
    handlers = django_settings.LOGGING["handlers"]
    assert handlers
    assert all("redact_tokens" in handler.get("filters", []) for handler in handlers.values())
    for name in ("", "django", "django.request", "django.server"):
        logger = logging.getLogger(name)
        while logger is not None:
            for handler in logger.handlers:
                if handler.__class__.__module__.startswith("_pytest"):
                    continue
                assert any(isinstance(f, RedactTokens) for f in handler.filters), (name, handler)
            logger = logger.parent if logger.propagate else None


@pytest.fixture
def console():
    """What the site's own handlers write, as a server's log would hold it."""
    streams = {}
    for logger_name in ("", "django.server"):
        for handler in logging.getLogger(logger_name).handlers:
            if any(isinstance(f, RedactTokens) for f in handler.filters) and isinstance(handler, logging.StreamHandler):
                streams[handler] = handler.setStream(io.StringIO())
    assert len(streams) == 2
    yield lambda: "".join(handler.stream.getvalue() for handler in streams)
    for handler, stream in streams.items():
        handler.setStream(stream)


@pytest.fixture
def booked(therapist, service):
    return AppointmentFactory(therapist=therapist, service=service, start=datetime(2026, 12, 9, 10, tzinfo=TORONTO))


def test_django_request_warnings_hold_no_token(client, booked, console, caplog, settings):
    """Real requests that Django logs: "Not Found: <path>" for links that match nothing (a mistyped or old link),
    and "Too Many Requests: <path>" for a real patient's link over its limit."""
    caplog.set_level(logging.INFO)
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "link_token": "1/h"}
    secrets_used = []
    for kind, pattern in LINKS.items():
        if kind == "password reset":
            continue  # answered with a page of its own, not a logged 4xx; its access line is checked below
        secret = token()
        secrets_used.append(secret)
        response = client.get(pattern.format(t=secret))
        assert response.status_code == 404, kind
    real = booked.manage_token
    secrets_used.append(real)
    client.post(f"{booked.private_link_path()}reschedule/", {"start": "soon"})
    assert client.post(f"{booked.private_link_path()}reschedule/", {"start": "soon"}).status_code == 429

    written = console()
    assert "Not Found: /schedule/feed/[redacted].ics" in caplog.text
    assert "Too Many Requests: /appointments/[redacted]/reschedule/" in caplog.text
    assert "Not Found: /appointments/[redacted]/" in written
    for secret in secrets_used:
        assert secret not in caplog.text
        assert secret not in written


@pytest.fixture
def runserver(transactional_db):
    """Django's development server (runserver's request handler, which logs every request line) in a thread."""
    server = WSGIServer(("127.0.0.1", 0), WSGIRequestHandler, ipv6=False)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_runserver_access_lines_hold_no_token(runserver, console):
    used = []
    for pattern in LINKS.values():
        secret = token()
        used.append(secret)
        try:
            urllib.request.urlopen(runserver + pattern.format(t=secret), timeout=30).close()  # noqa: S310
        except urllib.error.HTTPError as error:
            error.close()

    deadline = time.monotonic() + 10
    while console().count('"GET /') < len(LINKS) and time.monotonic() < deadline:
        time.sleep(0.05)  # the server writes its line just after the answer has gone out
    written = console()
    assert written.count('"GET /') == len(LINKS)  # one access line per request
    assert f"GET /schedule/feed/{REDACTED}.ics HTTP/1.1" in written
    assert f"GET /accounts/reset/MQ/{REDACTED}/ HTTP/1.1" in written
    for secret in used:
        assert secret not in written


def test_gunicorn_access_lines_hold_no_token():
    """gunicorn logs each request to its "gunicorn.access" logger, through handlers it sets up itself; the filter
    sits on that logger, so its lines are cleaned whatever handler writes them."""
    logger = logging.getLogger("gunicorn.access")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # as gunicorn's own --access-logfile handler
    logger.addHandler(handler)
    secret = token()
    try:
        logger.info(
            '%(h)s "%(r)s" %(s)s %(b)s',
            {"h": "203.0.113.5", "r": f"GET /appointments/{secret}/cancel/ HTTP/1.1", "s": "200", "b": "512"},
        )
    finally:
        logger.removeHandler(handler)

    assert stream.getvalue() == f'203.0.113.5 "GET /appointments/{REDACTED}/cancel/ HTTP/1.1" 200 512\n'


def test_a_traceback_that_mentions_a_link_is_cleaned_too():
    secret = token()
    logger = logging.getLogger("clinic.test")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactTokens())
    logger.addHandler(handler)
    try:
        try:
            raise ValueError(f"could not open /waitlist/offers/{secret}/")
        except ValueError:
            logger.exception("Failed")
    finally:
        logger.removeHandler(handler)

    assert secret not in stream.getvalue()
    assert f"/waitlist/offers/{REDACTED}/" in stream.getvalue()
