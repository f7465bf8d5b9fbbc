"""Appointment.sequence: the counter calendar apps compare (iCalendar's SEQUENCE) to replace an entry they hold.

booking.services raises it when the time or the therapist changes, on a cancellation and when an undo brings a
cancellation back; changes that calendars show no differently (check-in, completed) leave it alone.
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from booking import services
from booking.actors import Actor
from booking.errors import SlotTaken
from booking.lifecycle import Action
from booking.models import Appointment
from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

TORONTO = ZoneInfo("America/Toronto")
MONDAY = date(2026, 12, 7)  # NOW is Monday 08:00
TUESDAY = date(2026, 12, 8)
SYSTEM = Actor.system("tests")


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TORONTO)


def stored_sequence(appointment: Appointment) -> int:
    return Appointment.objects.values_list("sequence", flat=True).get(pk=appointment.pk)


@pytest.fixture
def booked(clinic, therapist, service):
    return AppointmentFactory(therapist=therapist, service=service, start=at(TUESDAY, 10))


def test_a_new_appointment_starts_at_zero(booked):
    assert stored_sequence(booked) == 0


def test_each_move_raises_the_sequence(booked, now):
    services.appointment_move(appointment=booked, start=at(TUESDAY, 14), now=now, actor=SYSTEM, notify=False)
    assert stored_sequence(booked) == 1
    services.appointment_move(appointment=booked, start=at(TUESDAY, 15), now=now, actor=SYSTEM, notify=False)
    assert stored_sequence(booked) == 2


def test_a_move_to_another_therapist_at_the_same_time_raises_it(booked, second_therapist, now):
    services.appointment_move(
        appointment=booked, start=booked.start, therapist=second_therapist, now=now, actor=SYSTEM, notify=False
    )
    assert stored_sequence(booked) == 1


def test_a_move_to_where_it_already_is_leaves_it(booked, now):
    services.appointment_move(appointment=booked, start=booked.start, now=now, actor=SYSTEM, notify=False)
    assert stored_sequence(booked) == 0


def test_a_refused_move_leaves_it(booked, therapist, service, now):
    AppointmentFactory(therapist=therapist, service=service, start=at(TUESDAY, 14))
    with pytest.raises(SlotTaken):
        services.appointment_move(appointment=booked, start=at(TUESDAY, 14), now=now, actor=SYSTEM, notify=False)
    assert stored_sequence(booked) == 0


def test_cancelling_raises_it_and_restoring_raises_it_again(booked, now):
    services.appointment_cancel(appointment=booked, now=now, actor=SYSTEM)
    assert stored_sequence(booked) == 1
    services.appointment_undo(appointment=booked, now=now, actor=SYSTEM)
    assert stored_sequence(booked) == 2
    assert Appointment.objects.get(pk=booked.pk).status == Appointment.Status.BOOKED


def test_status_changes_and_their_undo_leave_it(clinic, therapist, service, now):
    today = AppointmentFactory(therapist=therapist, service=service, start=at(MONDAY, 10))
    services.appointment_change_status(appointment=today, action=Action.CHECK_IN, now=now, actor=SYSTEM)
    services.appointment_undo(appointment=today, now=now, actor=SYSTEM)
    assert stored_sequence(today) == 0
