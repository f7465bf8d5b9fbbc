"""Hostile and broken input on every public door: a clear message or a 4xx, never a 500, never a write."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from booking.models import Appointment, Patient
from tests.conftest import NOW
from tests.factories import AppointmentFactory

TORONTO = ZoneInfo("America/Toronto")
GOOD_START = "2026-12-08T10:00-05:00"
HUGE = "A" * 100_000
HTML = '<script>alert("x")</script>'

pytestmark = pytest.mark.django_db


def booking_post(**overrides):
    data = {
        "service": "myofascial-release",
        "duration": "60",
        "therapist": "alex-moreau",
        "start": GOOD_START,
        "name": "Jordan Lee",
        "email": "jordan@example.com",
        "phone": "416-555-0199",
        "request_key": "hostile-key",
        "intent": "confirm",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def flow(**params):
    base = {"service": "myofascial-release", "duration": "60", "therapist": "alex-moreau"}
    base.update(params)
    return {key: value for key, value in base.items() if value is not None}


CASES = [
    # (id, method, url, data, allowed statuses)
    ("unknown service in flow", "get", "/book/", {"service": "hot-stones"}, {400}),
    ("html as service", "get", "/book/", {"service": HTML}, {400}),
    ("huge service", "get", "/book/", {"service": HUGE}, {400}),
    ("unknown length", "get", "/book/", flow(duration="45"), {400}),
    ("negative length", "get", "/book/", flow(duration="-60"), {400}),
    ("text length", "get", "/book/", flow(duration="sixty"), {400}),
    ("unknown therapist", "get", "/book/", flow(therapist="nobody"), {400}),
    ("html therapist", "get", "/book/", flow(therapist=HTML), {400}),
    ("malformed date", "get", "/book/", flow(date="2026-02-30"), {400}),
    ("past date", "get", "/book/", flow(date="2026-01-05"), {400}),
    ("date past horizon", "get", "/book/", flow(date="2027-06-01"), {400}),
    ("naive start", "get", "/book/", flow(start="2026-12-08T10:00"), {400}),
    ("garbage start", "get", "/book/", flow(start="next tuesday"), {400}),
    ("start in the past", "get", "/book/", flow(start="2026-12-01T10:00-05:00"), {200}),
    ("start out of hours", "get", "/book/", flow(start="2026-12-08T03:00-05:00"), {200}),
    ("start off the grid", "get", "/book/", flow(start="2026-12-08T10:07-05:00"), {200}),
    ("bad from", "get", "/book/", flow(**{"from": "soon"}), {200}),
    ("post without anything", "post", "/book/", {}, {400}),
    ("post missing start", "post", "/book/", booking_post(start=None), {400}),
    ("post naive start", "post", "/book/", booking_post(start="2026-12-08T10:00"), {400}),
    ("post past start", "post", "/book/", booking_post(start="2026-12-01T10:00-05:00"), {409}),
    ("post out of hours", "post", "/book/", booking_post(start="2026-12-08T20:00-05:00"), {409}),
    ("post off grid", "post", "/book/", booking_post(start="2026-12-08T10:07-05:00"), {409}),
    ("post taken time", "post", "/book/", booking_post(start="2026-12-09T10:00-05:00"), {409}),
    ("post missing email", "post", "/book/", booking_post(email=None), {400}),
    ("post bad email", "post", "/book/", booking_post(email="jordan@"), {400}),
    ("post html name", "post", "/book/", booking_post(name=HTML), {400}),
    ("post huge name", "post", "/book/", booking_post(name=HUGE), {400}),
    ("post huge note", "post", "/book/", booking_post(note=HUGE), {400}),
    ("post bad phone", "post", "/book/", booking_post(phone="'; DROP TABLE booking_patient; --"), {400}),
    ("post future birth date", "post", "/book/", booking_post(date_of_birth="2090-01-01"), {400}),
    ("post bad request key", "post", "/book/", booking_post(request_key="<>" * 40), {400}),
    ("post unknown service", "post", "/book/", booking_post(service="nope"), {400}),
    ("post therapist not offering", "post", "/book/", booking_post(therapist="no-services"), {400}),
    ("wrong token", "get", "/appointments/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/", None, {404}),
    ("wrong token cancel", "post", "/appointments/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/cancel/", {}, {404}),
    ("wrong token ics", "get", "/appointments/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/appointment.ics", None, {404}),
    ("html token", "get", "/appointments/%3Cscript%3E/", None, {404}),
    ("api html service", "get", "/api/availability/", {"service": HTML, "date": "2026-12-08"}, {400}),
    (
        "api huge days",
        "get",
        "/api/availability/",
        {"service": "myofascial-release", "date": "2026-12-08", "days": "9" * 50},
        {400},
    ),
    ("api naive garbage date", "get", "/api/availability/", {"service": "myofascial-release", "date": HUGE}, {400}),
    ("api delete", "delete", "/api/availability/", None, {405}),
]


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def clinic_with_a_booking(therapist, service):
    from tests.factories import TherapistFactory

    TherapistFactory(slug="no-services", name="No Services")
    return AppointmentFactory(therapist=therapist, service=service, start=datetime(2026, 12, 9, 10, tzinfo=TORONTO))


def test_there_are_at_least_25_hostile_cases():
    assert len(CASES) >= 25


@pytest.mark.parametrize(("name", "method", "url", "data", "statuses"), CASES, ids=[case[0] for case in CASES])
def test_hostile_input_gets_a_clear_answer_and_writes_nothing(
    client, clinic_with_a_booking, name, method, url, data, statuses
):
    before = (Appointment.objects.count(), Patient.objects.count(), list(Appointment.objects.values()))

    response = getattr(client, method)(url, data) if data is not None else getattr(client, method)(url)

    assert response.status_code in statuses, response.content[:500]
    assert (Appointment.objects.count(), Patient.objects.count(), list(Appointment.objects.values())) == before
    if response.status_code in (400, 409) and not url.startswith("/api/"):
        content = response.content.decode()
        assert HTML not in content  # escaped, never echoed raw
        assert 'role="alert"' in content or "invalid-feedback" in content


def test_reschedule_posting_garbage_changes_nothing(client, clinic_with_a_booking):
    url = f"{clinic_with_a_booking.private_link_path()}reschedule/"
    for value in ("", HTML, HUGE, "2026-12-08T10:00", "2026-12-01T10:00-05:00"):
        response = client.post(url, {"start": value})
        assert response.status_code in (400, 409)
    clinic_with_a_booking.refresh_from_db()
    assert clinic_with_a_booking.start == datetime(2026, 12, 9, 10, tzinfo=TORONTO)
