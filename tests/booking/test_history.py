"""Every path that changes an appointment writes its history, in the same transaction, with who did it."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from booking import history, services
from booking.actors import Actor, Role, Via
from booking.errors import BookingError, SlotTaken
from booking.lifecycle import Action
from booking.models import Appointment, AppointmentEvent
from booking.services import PatientDetails
from tests.conftest import NOW
from tests.factories import AppointmentFactory

TORONTO = ZoneInfo("America/Toronto")
Kind = AppointmentEvent.Kind

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=TORONTO)


@pytest.fixture
def appointment(option, therapist):
    """Thursday 10 December, 10:00 with Alex: outside the cancellation window."""
    return services.appointment_book(
        option=option,
        therapist=therapist,
        start=local(10, 10),
        patient=PatientDetails(name="Jordan Lee", email="jordan@example.com", phone="416-555-0199"),
        now=NOW,
        actor=Actor.patient(Via.ONLINE_BOOKING),
    )


def only_event(appointment, kind) -> AppointmentEvent:
    [event] = AppointmentEvent.objects.filter(appointment=appointment, kind=kind)
    return event


def test_public_booking_flow_records_the_patient_online(client, therapist, service):
    response = client.post(
        "/book/",
        {
            "service": "myofascial-release",
            "duration": "60",
            "therapist": "alex-moreau",
            "start": "2026-12-08T10:00-05:00",
            "name": "Jordan Lee",
            "email": "jordan@example.com",
            "phone": "416-555-0199",
            "request_key": "key-1",
            "intent": "confirm",
        },
    )

    assert response.status_code == 302
    event = only_event(Appointment.objects.get(), Kind.BOOKED)
    assert (event.actor_role, event.via, event.actor_user) == (Role.PATIENT, Via.ONLINE_BOOKING, None)
    assert event.at == NOW
    assert event.changes["status"] == [None, "booked"]
    assert event.changes["therapist"] == [None, "Alex Moreau"]
    assert event.changes["duration"] == [None, 60]


def test_private_link_cancel_and_move_record_the_patient(client, appointment, option, therapist):
    moved = client.post(
        reverse("appointment_reschedule", args=[appointment.manage_token]), {"start": "2026-12-11T09:00-05:00"}
    )
    cancelled = client.post(reverse("appointment_cancel", args=[appointment.manage_token]), {"reason": "Better"})

    assert moved.status_code == cancelled.status_code == 302
    move = only_event(appointment, Kind.MOVED)
    cancel = only_event(appointment, Kind.CANCELLED)
    assert {(move.actor_role, move.via), (cancel.actor_role, cancel.via)} == {(Role.PATIENT, Via.PRIVATE_LINK)}
    assert move.changes == {"start": ["2026-12-10T15:00:00+00:00", "2026-12-11T14:00:00+00:00"]}
    assert cancel.changes == {"status": ["booked", "cancelled"], "reason": "Better", "late": False}


def test_front_desk_changes_record_the_receptionist(desk_client, receptionist, appointment, second_therapist):
    url = lambda name: reverse(f"frontdesk:appointment_{name}", args=[appointment.pk])  # noqa: E731
    desk_client.post(url("move"), {"start": "2026-12-10T11:00", "therapist": second_therapist.pk})
    desk_client.post(url("note"), {"staff_note": "Prefers the quiet room"})
    desk_client.post(url("cancel"), {"reason": "Called in sick"})
    desk_client.post(url("undo"))

    events = list(AppointmentEvent.objects.filter(appointment=appointment).exclude(kind=Kind.BOOKED).order_by("pk"))
    assert [event.kind for event in events] == [Kind.MOVED, Kind.NOTE, Kind.CANCELLED, Kind.UNDONE]
    assert {(e.actor_role, e.via, e.actor_user_id) for e in events} == {
        (Role.FRONT_DESK, Via.FRONT_DESK, receptionist.pk)
    }
    assert events[0].changes["therapist"] == ["Alex Moreau", "Sam Okafor"]
    assert events[3].changes["status"] == ["cancelled", "booked"]


def test_history_reads_in_the_clinics_time(appointment):
    services.appointment_move(appointment=appointment, start=local(11, 14), now=NOW, actor=Actor.system("tests"))

    text = history.describe(only_event(appointment, Kind.MOVED), TORONTO)

    assert text == "Moved from Thu 10 Dec 2026 10:00 to Fri 11 Dec 2026 14:00"


def test_a_refused_change_writes_no_history(appointment, therapist):
    with pytest.raises(BookingError):
        services.appointment_move(appointment=appointment, start=local(10, 20), now=NOW, actor=Actor.patient())

    assert list(AppointmentEvent.objects.values_list("kind", flat=True)) == [Kind.BOOKED]


def test_history_is_rolled_back_with_a_change_that_fails_after_writing_it(appointment, monkeypatch):
    """The entry is written inside the change's transaction: if the change fails afterwards, neither stays."""

    def fail_after_history(*args, **kwargs):
        raise RuntimeError("mail queue down")

    monkeypatch.setattr("booking.services.transaction.on_commit", fail_after_history)
    with pytest.raises(RuntimeError):
        services.appointment_cancel(appointment=appointment, now=NOW, actor=Actor.system("tests"), reason="x")

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
    assert not AppointmentEvent.objects.filter(kind=Kind.CANCELLED).exists()


def test_late_cancellation_is_marked_and_counted(option, therapist):
    soon = AppointmentFactory(therapist=therapist, service=option.service, start=local(7, 15))

    cancelled = services.appointment_cancel(appointment=soon, now=NOW, actor=Actor.system("tests"), reason="Sick")

    assert cancelled.late_cancellation is True
    assert only_event(soon, Kind.CANCELLED).changes["late"] is True


def test_restoring_a_cancellation_needs_the_time_to_be_free_still(appointment, option, therapist):
    desk = Actor.system("tests")
    services.appointment_cancel(appointment=appointment, now=NOW, actor=desk, reason="Called")
    services.appointment_book(
        option=option,
        therapist=therapist,
        start=local(10, 10, 30),
        patient=PatientDetails(name="Robin Roe", email="robin@example.com", phone="416-555-0111"),
        now=NOW,
        actor=desk,
    )

    with pytest.raises(SlotTaken):
        services.appointment_undo(appointment=appointment, now=NOW, actor=desk)

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED


def test_undo_of_a_cancellation_clears_the_cancellation(appointment):
    desk = Actor.system("tests")
    services.appointment_cancel(appointment=appointment, now=NOW, actor=desk, reason="Called")

    restored = services.appointment_undo(appointment=appointment, now=NOW, actor=desk)

    restored.refresh_from_db()
    assert restored.status == Appointment.Status.BOOKED
    assert (restored.cancelled_at, restored.cancellation_reason, restored.late_cancellation) == (None, "", False)


def test_therapist_status_changes_are_their_own_and_refused_on_colleagues(appointment, therapist, second_therapist):
    from tests.conftest import staff_user

    alex, sam = staff_user("alex", "Therapist"), staff_user("sam", "Therapist")
    therapist.user, second_therapist.user = alex, sam
    therapist.save()
    second_therapist.save()
    on_the_day = local(10, 9, 55)

    with pytest.raises(BookingError) as refused:
        services.appointment_change_status(
            appointment=appointment, action=Action.CHECK_IN, now=on_the_day, actor=Actor.staff(sam, Via.SCHEDULE)
        )
    checked_in = services.appointment_change_status(
        appointment=appointment, action=Action.CHECK_IN, now=on_the_day, actor=Actor.staff(alex, Via.SCHEDULE)
    )

    assert refused.value.code == "not_allowed"
    assert checked_in.status == Appointment.Status.CHECKED_IN
    event = only_event(appointment, Kind.STATUS)
    assert (event.actor_role, event.via, event.actor_user) == (Role.THERAPIST, Via.SCHEDULE, alex)


def test_staff_without_a_role_may_not_book(option, therapist, db):
    from tests.factories import UserFactory

    with pytest.raises(BookingError) as refused:
        services.appointment_book(
            option=option,
            therapist=therapist,
            start=local(8, 10),
            patient=PatientDetails(name="A B", email="ab@example.com", phone="416-555-0111"),
            now=NOW,
            actor=Actor.staff(UserFactory(username="nobody")),
        )
    assert refused.value.code == "not_allowed"
    assert not Appointment.objects.exists()
    assert connection.vendor in ("sqlite", "postgresql")
