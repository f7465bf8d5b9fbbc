"""Abuse limits on the public doors (clinic.ratelimit): per client address, per email or phone, per private link,
and on the API; a clear 429 with Retry-After, never a 500; counts kept in the shared cache."""

import json
import os
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import caches
from django.utils import timezone

from booking.models import Appointment, WaitlistEntry
from clinic.client_address import client_address
from tests.conftest import NOW, require_or_skip
from tests.factories import AppointmentFactory

TORONTO = ZoneInfo("America/Toronto")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


@pytest.fixture
def real_clock():
    """For a test that shares counts with another process, which runs on the machine's own clock."""


@pytest.fixture(autouse=True)
def frozen_clock(request):
    if "real_clock" in request.fixturenames:
        yield
        return
    # Ticking, so the limits' windows move on as they would; the booking rules see the suite's Monday.
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def tight_limits(settings):
    """Small limits, so a test reaches them in a few requests."""
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "book_address": "3/h",
        "book_contact": "2/h",
        "api_address": "3/m",
        "link_token": "2/h",
        "link_address": "5/h",
        "waitlist_address": "2/h",
        "waitlist_contact": "2/h",
    }
    return settings.RATE_LIMITS


# Weekdays after the suite's Monday, 10:00 in Toronto: a free time each, whatever was booked before.
WEEKDAYS = [8, 9, 10, 11, 14, 15, 16, 17, 18, 21, 22, 23, 24, 25]
STARTS = [f"2026-12-{day:02d}T10:00-05:00" for day in WEEKDAYS]


def booking(n: int, **overrides) -> dict:
    data = {
        "service": "myofascial-release",
        "duration": "60",
        "therapist": "alex-moreau",
        "start": STARTS[n],
        "name": f"Patient Number{'x' * n}",
        "email": f"patient{n}@example.com",
        "phone": f"416-555-01{n:02d}",
        "request_key": f"limit-key-{n}",
        "intent": "confirm",
    }
    data.update(overrides)
    return data


def address(n: int) -> dict:
    return {"REMOTE_ADDR": f"203.0.113.{n}"}


def assert_too_many(response, *, json_body: bool = False) -> None:
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    if json_body:
        assert list(json.loads(response.content)["errors"]) == ["__all__"]
    else:
        text = response.content.decode()
        assert "Too many tries" in text
        assert "416-555-0134" in text  # the clinic's phone, to book by phone instead


def test_booking_is_limited_per_client_address(client, therapist, service, tight_limits):
    for n in range(3):
        assert client.post("/book/", booking(n), **address(1)).status_code == 302

    refused = client.post("/book/", booking(3), **address(1))

    assert_too_many(refused)
    assert Appointment.objects.count() == 3
    assert client.post("/book/", booking(4), **address(2)).status_code == 302  # another connection is not held


def test_booking_is_limited_per_email_in_any_case(client, therapist, service, tight_limits):
    for n in range(2):
        response = client.post("/book/", booking(n, email="Jordan@Example.com", name=f"Jordan {'Lee' * (n + 1)}"))
        assert response.status_code == 302

    refused = client.post("/book/", booking(2, email="jordan@example.COM"), **address(9))

    assert_too_many(refused)
    assert Appointment.objects.count() == 2


def test_booking_is_limited_per_phone_in_any_format(client, therapist, service, tight_limits):
    assert client.post("/book/", booking(0, phone="416-555-0199"), **address(1)).status_code == 302
    assert client.post("/book/", booking(1, phone="+1 (416) 555 0199"), **address(2)).status_code == 302

    assert_too_many(client.post("/book/", booking(2, phone="4165550199"), **address(3)))
    assert Appointment.objects.count() == 2


def test_tries_that_never_reach_the_confirm_step_are_not_counted(client, therapist, service, tight_limits):
    for _ in range(5):
        assert client.post("/book/", booking(0, intent="review")).status_code == 200
        assert client.post("/book/", booking(0, email="not-an-email")).status_code == 400

    assert client.post("/book/", booking(0)).status_code == 302


@pytest.fixture
def appointment(therapist, service):
    return AppointmentFactory(therapist=therapist, service=service, start=datetime(2026, 12, 9, 10, tzinfo=TORONTO))


def test_reschedule_is_limited_per_private_link_from_any_address(client, appointment, tight_limits):
    url = f"{appointment.private_link_path()}reschedule/"
    for n in range(2):
        assert client.post(url, {"start": "soon"}, **address(n)).status_code == 400

    assert_too_many(client.post(url, {"start": "2026-12-08T10:00-05:00"}, **address(7)))
    appointment.refresh_from_db()
    assert appointment.start == datetime(2026, 12, 9, 10, tzinfo=TORONTO)


def test_cancel_is_limited_per_private_link(client, appointment, tight_limits):
    url = f"{appointment.private_link_path()}reschedule/"
    client.post(url, {"start": "soon"})
    client.post(url, {"start": "soon"})

    assert_too_many(client.post(f"{appointment.private_link_path()}cancel/", {"reason": "Busy"}))
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_private_link_changes_are_limited_per_address_across_links(client, therapist, service, tight_limits):
    links = [
        AppointmentFactory(therapist=therapist, service=service, start=datetime(2026, 12, 9 + n, 10, tzinfo=TORONTO))
        for n in range(3)
    ]
    for n in range(5):
        client.post(f"{links[n % 3].private_link_path()}reschedule/", {"start": "soon"})

    assert_too_many(client.post(f"{links[2].private_link_path()}cancel/", {"reason": ""}))


def test_the_api_is_limited_per_address_with_json_and_retry_after(client, therapist, service, tight_limits):
    query = {"service": "myofascial-release", "date": "2026-12-08"}
    for _ in range(3):
        assert client.get("/api/availability/", query, **address(1)).status_code == 200

    refused = client.get("/api/availability/", query, **address(1))

    assert_too_many(refused, json_body=True)
    assert "wait" in json.loads(refused.content)["errors"]["__all__"][0]
    assert client.get("/api/availability/", query, **address(2)).status_code == 200


def test_an_ipv6_household_counts_as_one_address(client, therapist, service, tight_limits):
    query = {"service": "myofascial-release", "date": "2026-12-08"}
    for n in range(3):
        client.get("/api/availability/", query, REMOTE_ADDR=f"2001:db8:1:2::{n + 1}")

    assert client.get("/api/availability/", query, REMOTE_ADDR="2001:db8:1:2::99").status_code == 429


@pytest.fixture
def join_data(option):
    return {
        "option": str(option.pk),
        "name": "Jordan Lee",
        "email": "jordan@example.com",
        "phone": "416-555-0199",
        "request_key": "join-key",
    }


def test_waitlist_sign_ups_are_limited_per_address_and_per_email(client, therapist, service, join_data, tight_limits):
    for n in range(2):
        response = client.post(
            "/waitlist/join/", {**join_data, "email": f"p{n}@example.com", "phone": f"416-555-01{n}0"}
        )
        assert response.status_code == 302
        join_data["request_key"] += "x"
    other = {"request_key": "other", "email": "p9@example.com", "phone": "416-555-0190"}
    assert_too_many(client.post("/waitlist/join/", {**join_data, **other}))

    for n in range(2):
        client.post("/waitlist/join/", {**join_data, "request_key": f"k{n}", "name": f"Name {'A' * n}x"}, **address(n))
    assert_too_many(client.post("/waitlist/join/", {**join_data, "request_key": "k9"}, **address(9)))
    assert WaitlistEntry.objects.count() == 4


def test_htmx_requests_from_inside_a_page_get_json_and_boosted_ones_a_page(client, appointment, tight_limits):
    url = f"{appointment.private_link_path()}reschedule/"
    client.post(url, {"start": "soon"})
    client.post(url, {"start": "soon"})

    assert_too_many(client.post(url, {"start": "soon"}, HTTP_HX_REQUEST="true"), json_body=True)
    assert_too_many(client.post(url, {"start": "soon"}, HTTP_HX_REQUEST="true", HTTP_HX_BOOSTED="true"))


def test_a_cache_that_cannot_be_reached_lets_bookings_through(client, therapist, service, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing answers
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }

    response = client.post("/book/", booking(0))

    assert response.status_code == 302
    assert "not counted: the cache could not be reached" in caplog.text


def test_limits_can_be_switched_off_for_a_load_test(client, therapist, service, settings):
    settings.RATE_LIMITS = dict.fromkeys(settings.RATE_LIMITS, "off")
    query = {"service": "myofascial-release", "date": "2026-12-08"}
    assert all(client.get("/api/availability/", query).status_code == 200 for _ in range(70))


def test_the_default_limits_hold_a_scripted_client_to_ten_bookings_an_hour(client, therapist, service, settings):
    assert settings.RATE_LIMITS["book_address"] == "10/h"
    assert settings.RATE_LIMITS["api_address"] == "60/m"
    statuses = []
    for n in range(14):
        data = booking(0, start=STARTS[n], email=f"s{n}@example.com")
        data.update(phone=f"416-555-02{n:02d}", request_key=f"script-{n}", name=f"Script {'Z' * n}")
        statuses.append(client.post("/book/", data).status_code)

    assert statuses == [302] * 10 + [429] * 4


# --- the client's address -------------------------------------------------------------------------------------


def test_the_address_is_remote_addr_unless_a_proxy_header_is_trusted(rf, settings):
    settings.TRUSTED_PROXY_HEADER = ""
    request = rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert client_address(request) == "10.0.0.5"

    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    assert client_address(request) == "198.51.100.1"
    spoofed = rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.1")
    assert client_address(spoofed) == "198.51.100.1"  # what the proxy saw, not what the visitor claimed
    assert client_address(rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="junk")) == "10.0.0.5"

    settings.TRUSTED_PROXY_HEADER = "HTTP_X_REAL_IP"
    assert client_address(rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_REAL_IP="[2001:db8::7]:443")) == "2001:db8::7"
    assert client_address(rf.get("/", REMOTE_ADDR="")) == "0.0.0.0"  # noqa: S104 - the "unknown" placeholder


def test_a_trusted_proxy_header_counts_each_visitor_on_their_own(client, therapist, service, tight_limits, settings):
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    query = {"service": "myofascial-release", "date": "2026-12-08"}
    for _ in range(3):
        client.get("/api/availability/", query, HTTP_X_FORWARDED_FOR="198.51.100.1")

    assert client.get("/api/availability/", query, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429
    assert client.get("/api/availability/", query, HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 200


# --- shared between app servers --------------------------------------------------------------------------------


def _redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_cache(settings):
    """The default cache on Redis, and a second client of the same Redis (another app server's)."""
    require_or_skip(_redis_available(), f"Redis at {REDIS_URL}", "CLINIC_REQUIRE_REDIS")
    config = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "clinic-test",
    }
    settings.CACHES = {"default": config, "other_server": dict(config)}
    assert caches["default"] is not caches["other_server"]
    yield caches["default"]


SECOND_SERVER = """
import sys
import django
django.setup()
from django.conf import settings
from django.test import RequestFactory
settings.RATELIMIT_CACHE_PREFIX = sys.argv[1]
from booking.api import availability
response = availability(RequestFactory().get("/api/availability/", {"service": "x"}, REMOTE_ADDR="198.51.100.77"))
print(response.status_code, response.get("Retry-After"))
"""


def test_counts_are_shared_by_every_app_server_through_redis(
    client, therapist, service, settings, redis_cache, real_clock
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api_address": "3/m"}
    query = {"service": "myofascial-release", "date": timezone.localdate().isoformat()}
    for _ in range(3):
        assert client.get("/api/availability/", query, REMOTE_ADDR="198.51.100.77").status_code == 200

    # Another app server: its own process, its own connection to Redis, the same settings.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
        "DJANGO_DEBUG": "true",
        "CLINIC_CACHE_URL": REDIS_URL,
        "CLINIC_CACHE_KEY_PREFIX": "clinic-test",
        "CLINIC_RATE_LIMITS": "api_address=3/m",
    }
    second = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", SECOND_SERVER, settings.RATELIMIT_CACHE_PREFIX],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=True,
    )

    status, retry_after = second.stdout.split()
    assert status == "429"
    assert int(retry_after) >= 1


def test_a_fresh_redis_client_sees_the_same_counts(client, therapist, service, settings, redis_cache):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "link_token": "2/h"}
    appointment = AppointmentFactory(
        therapist=therapist, service=service, start=datetime(2026, 12, 9, 10, tzinfo=TORONTO)
    )
    url = f"{appointment.private_link_path()}reschedule/"
    client.post(url, {"start": "soon"})
    client.post(url, {"start": "soon"})
    settings.RATELIMIT_USE_CACHE = "other_server"

    assert_too_many(client.post(url, {"start": "soon"}))


def test_counts_kept_in_process_memory_would_not_be_shared(client, therapist, service, settings):
    """The control for the two tests above: two caches that do not share (two local memories) do not hold the
    limit, so the limit holding through Redis is the shared cache's doing."""
    local = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    settings.CACHES = {"default": {**local, "LOCATION": "one"}, "other_server": {**local, "LOCATION": "two"}}
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "link_token": "2/h"}
    appointment = AppointmentFactory(
        therapist=therapist, service=service, start=datetime(2026, 12, 9, 10, tzinfo=TORONTO)
    )
    url = f"{appointment.private_link_path()}reschedule/"
    client.post(url, {"start": "soon"})
    client.post(url, {"start": "soon"})
    settings.RATELIMIT_USE_CACHE = "other_server"

    assert client.post(url, {"start": "soon"}).status_code == 400


def test_each_test_counts_with_its_own_key_prefix(settings):
    assert settings.RATELIMIT_CACHE_PREFIX.startswith("rl:")
    assert len(settings.RATELIMIT_CACHE_PREFIX) > len("rl:") + 30
    uuid.UUID(settings.RATELIMIT_CACHE_PREFIX[3:-1])
