"""The cap on upcoming online bookings per patient (ClinicSettings.online_booking_cap, default 3)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from booking import services
from booking.actors import Actor, Via
from booking.errors import BookingError
from booking.models import Appointment
from tests.conftest import NOW
from tests.factories import AppointmentFactory, PatientFactory

TORONTO = ZoneInfo("America/Toronto")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=TORONTO)


def details(name: str = "Jordan Lee", email: str = "jordan@example.com") -> services.PatientDetails:
    return services.PatientDetails(name=name, email=email, phone="416-555-0199")


def book_online(option, therapist, start, patient, actor=None):
    return services.appointment_book(
        option=option,
        therapist=therapist,
        start=start,
        patient=patient,
        now=NOW,
        actor=actor or Actor.patient(Via.ONLINE_BOOKING),
    )


def test_the_fourth_upcoming_online_booking_is_refused_with_a_message(clinic, option, therapist):
    for day in (8, 9, 10):
        book_online(option, therapist, at(day), details())

    with pytest.raises(BookingError) as refused:
        book_online(option, therapist, at(11), details(name="jordan  LEE", email="Jordan@Example.com"))

    assert refused.value.code == "online_cap"
    assert refused.value.message == (
        "You already have 3 upcoming appointments booked online; to book more, please call us at 416-555-0134."
    )
    assert Appointment.objects.count() == 3


def test_the_front_desk_can_still_book_a_capped_patient(clinic, option, therapist, receptionist):
    for day in (8, 9, 10):
        book_online(option, therapist, at(day), details())
    patient = Appointment.objects.first().patient

    booked = book_online(option, therapist, at(11), patient, actor=Actor.staff(receptionist, Via.FRONT_DESK))

    assert booked.patient == patient
    assert Appointment.objects.count() == 4


def test_the_cap_is_a_policy_the_manager_sets(clinic, option, therapist):
    clinic.online_booking_cap = 1
    clinic.save()
    book_online(option, therapist, at(8), details())

    with pytest.raises(BookingError, match="You already have 1 upcoming"):
        book_online(option, therapist, at(9), details())


def test_past_cancelled_and_phone_bookings_do_not_count(clinic, option, therapist, service):
    patient = PatientFactory(name="Jordan Lee", email="jordan@example.com")
    AppointmentFactory(patient=patient, therapist=therapist, service=service, start=at(1))  # past
    AppointmentFactory(
        patient=patient, therapist=therapist, service=service, start=at(15), status=Appointment.Status.CANCELLED
    )
    AppointmentFactory(
        patient=patient, therapist=therapist, service=service, start=at(16), channel=Appointment.Channel.PHONE
    )
    for day in (8, 9, 10):
        book_online(option, therapist, at(day), details())

    assert Appointment.objects.filter(status=Appointment.Status.BOOKED, start__gt=NOW).count() == 4


def test_family_members_sharing_an_email_each_have_their_own_cap(clinic, option, therapist):
    for day, name in ((8, "Alex Lee"), (9, "Alex Lee"), (10, "Alex Lee"), (11, "Sam Lee"), (14, "Sam Lee")):
        book_online(option, therapist, at(day), details(name=name))

    assert Appointment.objects.count() == 5


def test_changing_the_name_lifts_the_cap_only_to_twice_it_per_email(clinic, option, therapist):
    for day in (8, 9, 10, 11, 14, 15):
        book_online(option, therapist, at(day), details(name=f"Name {'Z' * day}"))

    with pytest.raises(BookingError) as refused:
        book_online(option, therapist, at(16), details(name="Yet Another"))

    assert refused.value.code == "online_cap"
    assert "This email address already has 6 upcoming appointments" in refused.value.message


def test_the_booking_page_shows_the_cap_and_keeps_the_details(client, clinic, option, therapist):
    for day in (8, 9, 10):
        book_online(option, therapist, at(day), details())

    response = client.post(
        "/book/",
        {
            "service": "myofascial-release",
            "duration": "60",
            "therapist": "alex-moreau",
            "start": "2026-12-11T10:00-05:00",
            "name": "Jordan Lee",
            "email": "jordan@example.com",
            "phone": "416-555-0199",
            "request_key": "cap-key",
            "intent": "confirm",
        },
    )

    assert response.status_code == 409
    text = response.content.decode()
    assert "You already have 3 upcoming appointments booked online; to book more, please call us" in text
    assert 'value="jordan@example.com"' in text
    assert Appointment.objects.count() == 3


def test_a_repeated_submit_of_the_third_booking_still_returns_it(clinic, option, therapist):
    for day in (8, 9):
        book_online(option, therapist, at(day), details())
    third = services.appointment_book(
        option=option,
        therapist=therapist,
        start=at(10),
        patient=details(),
        now=NOW,
        actor=Actor.patient(Via.ONLINE_BOOKING),
        request_key="third",
    )

    again = services.appointment_book(
        option=option,
        therapist=therapist,
        start=at(10),
        patient=details(),
        now=NOW,
        actor=Actor.patient(Via.ONLINE_BOOKING),
        request_key="third",
    )

    assert again == third
