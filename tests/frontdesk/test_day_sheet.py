"""The day sheet: one day per therapist on the clinic's clock, made to print, in a fixed number of queries."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from booking.models import Appointment
from tests.conftest import NOW, staff_user, weekday_therapist
from tests.factories import AppointmentFactory, PatientFactory, TimeOffFactory

TORONTO = ZoneInfo("America/Toronto")
SHEET = "/frontdesk/day-sheet/"
TUESDAY = "2026-12-08"
# Clinic settings, session, user, two for permissions, the menu's count of time off requests waiting, then the
# calendar's four reads: therapists, their hours, time off, appointments (with patient, service and therapist,
# and whether each is a first visit). One more: the menu's count of failed messages.
SHEET_QUERIES = 11


def local(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour, minute), tzinfo=TORONTO)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def desk(desk_client):
    """A client logged in as Rosa, a receptionist."""
    return desk_client


def sheet(client, day: str = TUESDAY):
    return client.get(SHEET, {"date": day})


@pytest.fixture
def jordan(db):
    return PatientFactory(name="Jordan Lee", phone="416-555-0199")


@pytest.fixture
def appointment(therapist, service, jordan):
    return AppointmentFactory(
        therapist=therapist,
        service=service,
        start=local(TUESDAY, 10),
        patient=jordan,
        patient_note="Left leg, mostly",
        staff_note="Prefers a firm pressure",
    )


def test_the_sheet_has_its_url_name():
    assert reverse("frontdesk:day_sheet") == SHEET


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = sheet(client)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_therapists_are_refused(client, appointment):
    client.force_login(staff_user("alex", "Therapist"))

    assert sheet(client).status_code == 403


def test_the_sheet_shows_each_appointment_on_the_clinics_clock(desk, appointment):
    response = sheet(desk)
    body = response.content.decode()

    assert response.status_code == 200
    assert "Day sheet: Tuesday 8 December 2026" in body
    assert "10:00–11:00" in body  # 15:00–16:00 UTC
    assert "15:00" not in body
    assert "Jordan Lee" in body
    assert "(416) 555-0199" in body
    assert "Myofascial release, 60 min" in body
    assert "Booked" in body
    assert "First visit" in body
    assert "Left leg, mostly" in body
    assert "Prefers a firm pressure" in body
    assert reverse("frontdesk:appointment", args=[appointment.pk]) in body
    assert "Working 09:00–12:00, 13:00–17:00" in body


def test_cancelled_appointments_are_left_out_and_a_returning_patient_has_no_first_visit_mark(
    desk, appointment, therapist, service, jordan
):
    AppointmentFactory(
        therapist=therapist,
        service=service,
        start=local(TUESDAY, 14),
        patient=PatientFactory(name="Casey Cancelled"),
        status=Appointment.Status.CANCELLED,
    )
    AppointmentFactory(
        therapist=therapist,
        service=service,
        start=local("2026-11-10", 10),
        patient=jordan,
        status=Appointment.Status.COMPLETED,
    )

    response = sheet(desk)
    body = response.content.decode()

    assert "Casey Cancelled" not in body
    [alex] = response.context["sheets"]
    assert [a.pk for a in alex.appointments] == [appointment.pk]
    assert "First visit" not in body


def test_each_therapist_who_works_that_day_or_has_appointments_gets_a_section(
    desk, appointment, therapist, second_therapist, service
):
    saturday = "2026-12-12"
    weekend = AppointmentFactory(therapist=second_therapist, service=service, start=local(saturday, 10))

    tuesday = sheet(desk).context["sheets"]
    on_saturday = sheet(desk, saturday).context["sheets"]

    assert [s.therapist.name for s in tuesday] == ["Alex Moreau", "Sam Okafor"]
    assert [(s.therapist.name, [a.pk for a in s.appointments]) for s in on_saturday] == [("Sam Okafor", [weekend.pk])]
    assert "No regular hours on Saturdays" in sheet(desk, saturday).content.decode()


def test_an_inactive_therapist_with_appointments_still_has_a_section(desk, appointment, therapist):
    therapist.active = False
    therapist.save()

    [alex] = sheet(desk).context["sheets"]

    assert alex.therapist == therapist
    assert "not taking new bookings" in sheet(desk).content.decode()


def test_time_off_that_day_is_shown(desk, therapist):
    TimeOffFactory(therapist=therapist, start=local(TUESDAY, 13), end=local(TUESDAY, 17), reason="Dentist")
    TimeOffFactory(therapist=therapist, start=local("2026-12-09", 0), end=local("2026-12-11", 0), reason="Course")

    assert "Time off 13:00–17:00</strong> (Dentist)" in sheet(desk).content.decode()
    assert "Time off all day</strong> (Course)" in sheet(desk, "2026-12-09").content.decode()


def test_appointments_left_without_their_therapist_are_marked(desk, appointment, therapist, service):
    TimeOffFactory(therapist=therapist, start=local(TUESDAY, 9), end=local(TUESDAY, 12))
    at_lunch = AppointmentFactory(therapist=therapist, service=service, start=local(TUESDAY, 12, 15))
    AppointmentFactory(therapist=therapist, service=service, start=local(TUESDAY, 14))

    response = sheet(desk)
    [alex] = response.context["sheets"]

    assert alex.during_time_off == {appointment.pk}
    assert alex.outside_hours == {at_lunch.pk}
    body = response.content.decode()
    assert body.count("During time off") == 1
    assert body.count("Outside working hours") == 1


def test_the_default_day_is_today_in_the_clinics_zone(desk, db):
    # 03:00 UTC on Tuesday is still Monday evening in Toronto.
    with time_machine.travel(datetime(2026, 12, 8, 3, tzinfo=UTC), tick=False):
        response = desk.get(SHEET)

    assert response.status_code == 200
    assert response.context["day"] == date(2026, 12, 7)


def test_previous_and_next_day_links(desk, db):
    body = sheet(desk).content.decode()

    assert f"{SHEET}?date=2026-12-07" in body
    assert f"{SHEET}?date=2026-12-09" in body
    assert "data-print" in body
    assert "frontdesk/print.css" in body


@pytest.mark.parametrize(
    "bad", ["2026-13-45", "08/12/2026", "tomorrow", "2026-12-08T10:00", "9999-12-31", "0001-01-01"]
)
def test_a_bad_date_is_a_400_with_a_message(desk, bad):
    response = sheet(desk, bad)

    assert response.status_code == 400
    body = response.content.decode()
    assert "We could not show that day" in body
    assert "year-month-day" in body or "within 10 years" in body


def test_the_sheet_reads_in_a_fixed_number_of_queries_whatever_the_size_of_the_day(
    desk, service, therapist, django_assert_num_queries
):
    AppointmentFactory(therapist=therapist, service=service, start=local(TUESDAY, 10))
    with django_assert_num_queries(SHEET_QUERIES):
        assert sheet(desk).status_code == 200

    for number in range(6):
        other = weekday_therapist(service, f"therapist-{number}", f"Therapist {number}", order=number + 2)
        TimeOffFactory(therapist=other, start=local(TUESDAY, 16), end=local(TUESDAY, 17))
        for hour, minute in ((9, 0), (10, 15), (13, 0), (14, 15), (15, 30)):
            AppointmentFactory(therapist=other, service=service, start=local(TUESDAY, hour, minute))
    with django_assert_num_queries(SHEET_QUERIES):
        response = sheet(desk)

    assert len(response.context["sheets"]) == 7
    assert response.context["appointment_count"] == 31
