"""The front desk calendar: who may open it, the events feed's contract, its cost and its clock."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking.models import Appointment
from tests.conftest import NOW, pass_two_factor, staff_user, weekday_therapist
from tests.factories import AppointmentFactory, PatientFactory, TimeOffFactory, UserFactory

TORONTO = ZoneInfo("America/Toronto")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def local(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(datetime.fromisoformat(day).date(), time(hour, minute), tzinfo=TORONTO)


def feed(client, start: str, end: str):
    return client.get(reverse("frontdesk:events"), {"start": start, "end": end})


@pytest.fixture
def appointment(therapist, service):
    return AppointmentFactory(
        therapist=therapist,
        service=service,
        start=local("2026-12-08", 10),
        patient=PatientFactory(name="Jordan Lee"),
        patient_note="Left leg, worse when sitting",
    )


# Who may open it


FRONT_DESK_PAGES = [
    ("frontdesk:calendar", None),
    ("frontdesk:events", None),
    ("frontdesk:resources", None),
    ("frontdesk:appointment", "pk"),
]
FRONT_DESK_POSTS = ["status", "undo", "cancel", "note", "move"]


def urls(appointment) -> list[tuple[str, str]]:
    found = [("get", reverse(name, args=[appointment.pk] if arg else [])) for name, arg in FRONT_DESK_PAGES]
    found += [("post", reverse(f"frontdesk:appointment_{name}", args=[appointment.pk])) for name in FRONT_DESK_POSTS]
    return found


def test_anonymous_visitors_are_sent_to_log_in(client, appointment):
    for method, url in urls(appointment):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


@pytest.mark.parametrize("group", ["Therapist", None])
def test_therapists_and_staff_without_a_role_are_refused(client, appointment, group):
    user = staff_user("alex", group) if group else UserFactory(username="temp")
    client.force_login(user)
    for method, url in urls(appointment):
        assert getattr(client, method)(url).status_code == 403, url
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_a_patients_private_link_opens_nothing_at_the_front_desk(client, appointment):
    assert client.get(f"/frontdesk/appointments/{appointment.manage_token}/").status_code == 404
    assert client.get(f"/frontdesk/?token={appointment.manage_token}").status_code == 302


@pytest.mark.parametrize("group", ["Receptionist", "Manager"])
def test_receptionists_and_managers_open_the_calendar(client, appointment, group):
    client.force_login(staff_user("desk", group))
    for _method, url in urls(appointment)[:4]:
        assert client.get(url, {"start": "2026-12-07", "end": "2026-12-08"}).status_code == 200, url


@pytest.mark.parametrize(
    ("group", "landing"),
    [("Receptionist", "/frontdesk/"), ("Manager", "/frontdesk/"), ("Therapist", "/schedule/")],
)
def test_each_role_lands_on_its_own_page_after_login(client, therapist, group, landing):
    user = staff_user("someone", group)
    if group == "Therapist":
        therapist.user = user
        therapist.save()
    response = client.post(reverse("login"), {"username": user.username, "password": "a-long-test-password"})
    if group == "Manager":  # a manager's code from their authenticator: tests/clinic/test_login_protection.py
        pass_two_factor(client, user)

    assert response.status_code == 302
    assert client.get(response["Location"])["Location"] == landing


# The feed


def test_feed_gives_eventcalendar_events_in_the_clinics_wall_clock(desk_client, appointment, therapist):
    events = feed(desk_client, "2026-12-08", "2026-12-09").json()

    [event] = [event for event in events if event["id"] == str(appointment.pk)]
    assert event["resourceIds"] == [str(therapist.pk)]
    assert (event["start"], event["end"]) == ("2026-12-08T10:00:00", "2026-12-08T11:00:00")
    assert event["status"] == "booked"
    assert event["title"] == "Jordan Lee · Myofascial release · 60 min · first visit · note"
    assert event["extendedProps"]["firstVisit"] is True
    assert event["extendedProps"]["hasNote"] is True


def test_feed_shades_closed_times_breaks_and_time_off(desk_client, therapist, second_therapist):
    TimeOffFactory(
        therapist=second_therapist, start=local("2026-12-08", 13), end=local("2026-12-08", 15), reason="Dentist"
    )

    events = feed(desk_client, "2026-12-08", "2026-12-09").json()

    def background(who, kind):
        return [
            (event["start"][11:16], event["end"][11:16])
            for event in events
            if event.get("display") == "background"
            and event["resourceIds"] == [str(who.pk)]
            and kind in event["classNames"]
        ]

    assert background(therapist, "closed") == [("00:00", "09:00"), ("12:00", "13:00"), ("17:00", "00:00")]
    assert background(second_therapist, "time-off") == [("13:00", "15:00")]
    [time_off] = [event for event in events if "time-off" in event["classNames"]]
    assert time_off["title"] == "Time off: Dentist"


def test_feed_leaves_out_cancelled_appointments_and_marks_returning_patients(desk_client, appointment, therapist):
    AppointmentFactory(
        therapist=therapist, service=appointment.service, start=local("2026-12-08", 14), status="cancelled"
    )
    returning = AppointmentFactory(
        therapist=therapist, service=appointment.service, start=local("2026-12-09", 10), patient=appointment.patient
    )

    events = [event for event in feed(desk_client, "2026-12-08", "2026-12-10").json() if "status" in event]

    assert [event["id"] for event in events] == [str(appointment.pk), str(returning.pk)]
    assert [event["extendedProps"]["firstVisit"] for event in events] == [True, False]


def test_feed_keeps_clinic_wall_clock_times_across_the_fall_clock_change(desk_client, service):
    night = weekday_therapist(service, "nina-ortiz", "Nina Ortiz", lunch=False)
    before = AppointmentFactory(therapist=night, service=service, start=local("2026-10-30", 10))  # EDT, 14:00 UTC
    after = AppointmentFactory(therapist=night, service=service, start=local("2026-11-02", 10))  # EST, 15:00 UTC
    assert (before.start.utcoffset(), after.start.utcoffset()) == (timedelta(hours=-4), timedelta(hours=-5))

    events = {event["id"]: event for event in feed(desk_client, "2026-10-26", "2026-11-02").json()}
    events |= {event["id"]: event for event in feed(desk_client, "2026-11-02", "2026-11-09").json()}

    assert events[str(before.pk)]["start"] == "2026-10-30T10:00:00"
    assert events[str(after.pk)]["start"] == "2026-11-02T10:00:00"
    sunday_closed = [
        (event["start"], event["end"])
        for event in feed(desk_client, "2026-11-01", "2026-11-02").json()
        if event["resourceIds"] == [str(night.pk)]
    ]
    assert sunday_closed == [("2026-11-01T00:00:00", "2026-11-02T00:00:00")]  # a 25-hour day, closed


def test_feed_query_count_does_not_grow_with_therapists_or_appointments(
    desk_client, service, therapist, django_assert_num_queries
):
    AppointmentFactory(therapist=therapist, service=service, start=local("2026-12-08", 10))
    with CaptureQueriesContext(connection) as small:
        feed(desk_client, "2026-12-07", "2026-12-14")

    for index in range(6):
        extra = weekday_therapist(service, f"extra-{index}", f"Extra {index}")
        TimeOffFactory(therapist=extra, start=local("2026-12-09", 9), end=local("2026-12-09", 12))
        for day in ("2026-12-08", "2026-12-10", "2026-12-11"):
            for hour in (9, 11, 14, 16):
                AppointmentFactory(therapist=extra, service=service, start=local(day, hour))
    with django_assert_num_queries(len(small.captured_queries)):
        response = feed(desk_client, "2026-12-07", "2026-12-14")

    assert len([event for event in response.json() if "status" in event]) == 73


def test_feed_and_resources_answer_in_a_fixed_number_of_queries(
    desk_client, appointment, django_assert_max_num_queries
):
    # Session, user, the user's permissions (2), the clinic's settings, then the calendar's own four.
    with django_assert_max_num_queries(9):
        assert feed(desk_client, "2026-12-07", "2026-12-14").status_code == 200
    with django_assert_max_num_queries(7):
        assert (
            desk_client.get(reverse("frontdesk:resources"), {"start": "2026-12-07", "end": "2026-12-14"}).status_code
            == 200
        )


def test_an_inactive_therapist_with_bookings_keeps_a_column_until_they_are_moved(
    desk_client, appointment, therapist, second_therapist
):
    therapist.active = False
    therapist.save()

    columns = desk_client.get(reverse("frontdesk:resources"), {"start": "2026-12-08", "end": "2026-12-09"}).json()
    empty_week = desk_client.get(reverse("frontdesk:resources"), {"start": "2026-12-14", "end": "2026-12-21"}).json()

    assert [column["title"] for column in columns] == ["Sam Okafor", "Alex Moreau (inactive)"]
    assert "Alex Moreau (inactive)" not in [column["title"] for column in empty_week]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"start": "2026-12-08"},
        {"start": "tomorrow", "end": "2026-12-09"},
        {"start": "2026-12-08", "end": "2026-12-08"},
        {"start": "2026-12-09", "end": "2026-12-08"},
        {"start": "2026-01-01", "end": "2027-01-01"},
        {"start": "9999-12-31", "end": "10000-01-01"},
        {"start": "2026-02-30", "end": "2026-03-01"},
        {"start": "2026-12-08T10:00", "end": "2026-12-09"},
    ],
)
def test_bad_ranges_get_a_400_with_the_reason(desk_client, params):
    for name in ("frontdesk:events", "frontdesk:resources"):
        response = desk_client.get(reverse(name), params)
        assert response.status_code == 400
        assert response.json()["errors"]


def test_the_first_and_last_days_of_the_calendar_are_fine(desk_client, appointment):
    for start, end in (("0001-01-01", "0001-01-02"), ("9999-12-30", "9999-12-31")):
        assert feed(desk_client, start, end).status_code == 200
        assert desk_client.get(reverse("frontdesk:resources"), {"start": start, "end": end}).status_code == 200


def test_calendar_page_carries_the_clinics_clock(desk_client):
    response = desk_client.get(reverse("frontdesk:calendar"), {"date": "2026-12-08", "view": "week"})

    config = response.context["config"]
    assert (config["date"], config["view"], config["utcOffset"]) == ("2026-12-08", "week", "-05:00")
    assert (config["slotMinTime"], config["slotMaxTime"]) == ("09:00:00", "17:00:00")


def test_calendar_page_ignores_a_bad_date_and_shows_today(desk_client, therapist):
    response = desk_client.get(reverse("frontdesk:calendar"), {"date": "12/08/2026", "view": "month"})

    assert response.status_code == 200
    assert (response.context["config"]["date"], response.context["config"]["view"]) == ("2026-12-07", "day")
