"""Every date, time and number parameter of every page and API, at the edges of the calendar and past them.

Each gets a clear message or a 400, or a normal page that ignores it; never a 500, never a write. The test client
re-raises a view's exception, so a value that would be a 500 fails here with its traceback.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from booking.models import Appointment, WaitlistEntry
from booking.waitlist import ANY_TIME
from tests.conftest import NOW, staff_user
from tests.factories import AppointmentFactory, PatientFactory

pytestmark = pytest.mark.django_db

TORONTO = ZoneInfo("America/Toronto")

# Values at and past the edges of Python's and the calendar's dates, and things that are no date at all.
EDGE_VALUES = {
    "far future instant": "9999-12-30T12:00+00:00",
    "last instant": "9999-12-31T23:59+00:00",
    "last instant behind UTC": "9999-12-31T23:59-23:59",
    "last day": "9999-12-31",
    "first day": "0001-01-01",
    "first instant behind UTC": "0001-01-01T00:00-23:59",
    "first instant ahead of UTC": "0001-01-01T00:00+23:59",
    "no such day": "2026-02-30",
    "minus one": "-1",
    "zero": "0",
    "exponent": "1e9",
    "huge number": "9" * 40,
    "huge string": "2026-12-08" * 5_000,
    "nul byte": "2026-12-08\x00",
    "only a nul": "\x00",
    "arabic-indic digits": "٢٠٢٦-١٢-٠٨",
    "fullwidth digits": "２０２６-１２-０８",
    "fullwidth instant": "２０２６-１２-０８T１０:００-０５:００",
    "time without date": "10:00",
    "empty": "",
}

OK = {200, 302, 400, 404, 409}
# Values that can mean a real choice: an empty duration is the service's usual length, and Django reads digits of
# any script (the front desk's forms take "２０２６-１２-０８T１０:００" as that time). A booking or move made with
# them is what was asked for; every other value must leave the calendar as it was.
MEANINGFUL = {"empty", "fullwidth instant"}


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def booked(therapist, service):
    patient = PatientFactory(email="jordan@example.com", name="Jordan Lee")
    return AppointmentFactory(
        therapist=therapist, service=service, patient=patient, start=datetime(2026, 12, 9, 10, tzinfo=TORONTO)
    )


@pytest.fixture
def waitlist_entry(booked, option):
    return WaitlistEntry.objects.create(
        patient=booked.patient,
        service=option.service,
        duration_minutes=option.duration_minutes,
        suits=ANY_TIME,
        joined_at=NOW,
    )


FLOW = {"service": "myofascial-release", "duration": "60", "therapist": "alex-moreau"}
DETAILS = {
    **FLOW,
    "start": "2026-12-08T10:00-05:00",
    "name": "Jordan Lee",
    "email": "jordan@example.com",
    "phone": "416-555-0199",
    "request_key": "edge-key",
    "intent": "confirm",
}


def public_requests(booked, waitlist_entry):
    """(who, method, url, params with the value in `{}`): `value` is put where the marker is."""
    link = booked.private_link_path()
    feed = f"/schedule/feed/{booked.therapist.feed_token}.ics"
    return [
        ("book date", "get", "/book/", {**FLOW, "date": None}),
        ("book start", "get", "/book/", {**FLOW, "start": None}),
        ("book from", "get", "/book/", {**FLOW, "date": "2026-12-08", "from": None}),
        ("book duration", "get", "/book/", {**FLOW, "duration": None}),
        ("book service step duration", "get", "/book/", {"service": "myofascial-release", "duration": None}),
        ("book confirm start", "post", "/book/", {**DETAILS, "start": None}),
        ("book review start", "post", "/book/", {**DETAILS, "intent": "review", "start": None}),
        ("book confirm duration", "post", "/book/", {**DETAILS, "duration": None}),
        ("book date of birth", "post", "/book/", {**DETAILS, "intent": "review", "date_of_birth": None}),
        ("reschedule date", "get", f"{link}reschedule/", {"date": None}),
        ("reschedule from", "get", f"{link}reschedule/", {"from": None}),
        ("reschedule start", "post", f"{link}reschedule/", {"start": None}),
        ("api date", "get", "/api/availability/", {"service": "myofascial-release", "date": None}),
        (
            "api days",
            "get",
            "/api/availability/",
            {"service": "myofascial-release", "date": "2026-12-08", "days": None},
        ),
        (
            "api duration",
            "get",
            "/api/availability/",
            {"service": "myofascial-release", "date": "2026-12-08", "duration": None},
        ),
        ("waitlist join duration", "get", "/waitlist/join/", {"service": "myofascial-release", "duration": None}),
        (
            "waitlist join post",
            "post",
            "/waitlist/join/",
            {
                "option": None,
                "name": "Jordan Lee",
                "email": "jordan@example.com",
                "phone": "416-555-0199",
                "request_key": "edge-wait",
            },
        ),
        (
            "waitlist join suits",
            "post",
            "/waitlist/join/",
            {
                "option": str(booked.service.options.get(duration_minutes=60).pk),
                "suits": None,
                "name": "Jordan Lee",
                "email": "jordan@example.com",
                "phone": "416-555-0199",
                "request_key": "edge-wait",
            },
        ),
        ("waitlist place", "get", waitlist_entry.private_link_path(), {"joined": None}),
        ("ical feed", "get", feed, {"start": None}),
        ("appointment page", "get", link, {"booked": None}),
    ]


def front_desk_requests(booked):
    return [
        ("calendar date", "get", "/frontdesk/", {"date": None}),
        ("calendar view", "get", "/frontdesk/", {"date": "2026-12-08", "view": None}),
        ("events start", "get", "/frontdesk/events/", {"start": None, "end": "2026-12-09"}),
        ("events end", "get", "/frontdesk/events/", {"start": "2026-12-08", "end": None}),
        ("resources", "get", "/frontdesk/resources/", {"start": None, "end": "2026-12-09"}),
        ("day sheet", "get", "/frontdesk/day-sheet/", {"date": None}),
        ("next free date", "get", "/frontdesk/book/next-free/", {"date": None}),
        ("next free option", "get", "/frontdesk/book/next-free/", {"option": None}),
        ("booking dialog start", "get", "/frontdesk/book/", {"start": None}),
        ("booking dialog patient", "get", "/frontdesk/book/", {"patient": None}),
        ("booking dialog option", "get", "/frontdesk/book/", {"option": None, "start": "2026-12-08T10:00"}),
        (
            "book start",
            "post",
            "/frontdesk/book/",
            {
                "option": str(booked.service.options.get(duration_minutes=60).pk),
                "therapist": str(booked.therapist.pk),
                "start": None,
                "patient_choice": str(booked.patient.pk),
            },
        ),
        (
            "book repeat",
            "post",
            "/frontdesk/book/",
            {
                "option": str(booked.service.options.get(duration_minutes=60).pk),
                "therapist": str(booked.therapist.pk),
                "start": "2026-12-08T10:00",
                "patient_choice": str(booked.patient.pk),
                "repeat": "weekly",
                "sessions": None,
            },
        ),
        ("panel move date", "get", f"/frontdesk/appointments/{booked.pk}/", {"move_date": None}),
        ("move start", "post", f"/frontdesk/appointments/{booked.pk}/move/", {"start": None}),
        (
            "move start json",
            "post",
            f"/frontdesk/appointments/{booked.pk}/move/",
            {"start": None, "therapist": str(booked.therapist.pk)},
        ),
        (
            "time off start",
            "post",
            "/frontdesk/time-off/",
            {"therapist": str(booked.therapist.pk), "start_date": None, "end_date": "2026-12-20"},
        ),
        (
            "time off end",
            "post",
            "/frontdesk/time-off/",
            {"therapist": str(booked.therapist.pk), "start_date": "2026-12-20", "end_date": None},
        ),
        (
            "time off times",
            "post",
            "/frontdesk/time-off/",
            {
                "therapist": str(booked.therapist.pk),
                "start_date": "2026-12-20",
                "start_time": None,
                "end_date": "2026-12-20",
                "end_time": None,
            },
        ),
        ("patients page", "get", "/frontdesk/patients/", {"page": None}),
        ("patient search", "get", "/frontdesk/patients/search.json", {"q": None}),
        ("messages page", "get", "/frontdesk/messages/", {"page": None}),
        ("waitlist page", "get", "/frontdesk/waitlist/", {"page": None}),
    ]


def schedule_requests(booked):
    return [
        ("schedule date", "get", "/schedule/", {"date": None}),
        ("schedule week", "get", "/schedule/week/", {"date": None}),
        ("schedule events start", "get", "/schedule/events/", {"start": None, "end": "2026-12-09"}),
        ("schedule events end", "get", "/schedule/events/", {"start": "2026-12-08", "end": None}),
        ("schedule time off", "post", "/schedule/time-off/", {"start_date": None, "end_date": "2026-12-20"}),
        (
            "schedule time off times",
            "post",
            "/schedule/time-off/",
            {"start_date": "2026-12-20", "start_time": None, "end_date": "2026-12-20", "end_time": None},
        ),
    ]


def _filled(params: dict, value: str) -> dict:
    return {key: value if given is None else given for key, given in params.items()}


def _check(client, requests, value_name):
    value = EDGE_VALUES[value_name]
    before = (Appointment.objects.count(), list(Appointment.objects.values("pk", "start", "status")))
    problems = []
    for name, method, url, params in requests:
        response = getattr(client, method)(url, _filled(params, value))
        if response.status_code not in OK:
            problems.append(f"{name}: {response.status_code}")
    assert not problems, f"{value_name} ({value[:40]!r}): {problems}"
    if value_name not in MEANINGFUL:
        assert (Appointment.objects.count(), list(Appointment.objects.values("pk", "start", "status"))) == before


@pytest.mark.parametrize("value_name", list(EDGE_VALUES))
def test_public_pages_and_the_api_answer_edge_values_without_an_error(client, booked, waitlist_entry, value_name):
    _check(client, public_requests(booked, waitlist_entry), value_name)


@pytest.mark.parametrize("value_name", list(EDGE_VALUES))
def test_front_desk_pages_answer_edge_values_without_an_error(client, booked, value_name):
    client.force_login(staff_user("desk-edge", "Receptionist"))
    _check(client, front_desk_requests(booked), value_name)


@pytest.mark.parametrize("value_name", list(EDGE_VALUES))
def test_a_therapists_schedule_answers_edge_values_without_an_error(client, booked, value_name):
    user = staff_user("therapist-edge", "Therapist")
    booked.therapist.user = user
    booked.therapist.save()
    client.force_login(user)
    _check(client, schedule_requests(booked), value_name)


@pytest.mark.parametrize(
    "start", ["9999-12-30T12:00+00:00", "9999-12-31T23:59-23:59", "0001-01-01T00:00+23:59", "0001-01-01T00:00-23:59"]
)
def test_a_start_at_the_edge_of_the_calendar_is_refused_with_a_message(client, booked, start):
    """The OverflowError of issue 8: /book/ and the reschedule form with a start at the end of time."""
    page = client.get("/book/", {**FLOW, "start": start})
    assert page.status_code == 400
    assert "outside the calendar" in page.content.decode()
    moved = client.post(f"{booked.private_link_path()}reschedule/", {"start": start})
    assert moved.status_code == 400
    assert "Choose one of the times shown" in moved.content.decode()
