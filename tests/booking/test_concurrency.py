"""Race tests: many bookings for one time at once give one appointment, on PostgreSQL and on SQLite.

Each thread has its own database connection, so these tests need real commits (transactional_db).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, OperationalError, connections, transaction

from booking import locks, services
from booking.actors import Actor, Via
from booking.errors import BookingError, SlotTaken
from booking.models import Appointment, Patient
from booking.services import PatientDetails
from tests.conftest import weekday_therapist
from tests.factories import AppointmentFactory
from therapists.models import Therapist

TORONTO = ZoneInfo("America/Toronto")
TUESDAY_TEN = datetime.combine(date(2026, 12, 8), time(10), tzinfo=TORONTO)
THREADS = 16

pytestmark = pytest.mark.usefixtures("transactional_db")


def race(count: int, attempt: Callable[[int], object]) -> list[object]:
    """Run `attempt(i)` in `count` threads released together; each result is a return value or an exception."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = attempt(index)
        except Exception as error:  # every outcome, refusal or crash, is checked by the test
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,), name=f"booking-{index}") for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a booking thread hung"
    return results


def booker(option, therapist, now) -> Callable[[int], Appointment]:
    def attempt(index: int) -> Appointment:
        return services.appointment_book(
            option=option,
            therapist=therapist,
            start=TUESDAY_TEN,
            patient=PatientDetails(name=f"Patient {index}", email=f"patient{index}@example.com", phone="416-555-0100"),
            now=now,
            actor=Actor.patient(Via.ONLINE_BOOKING),
        )

    return attempt


def split(results: list[object]) -> tuple[list[Appointment], list[BookingError], list[object]]:
    booked = [result for result in results if isinstance(result, Appointment)]
    refused = [result for result in results if isinstance(result, BookingError)]
    other = [result for result in results if not isinstance(result, Appointment | BookingError)]
    return booked, refused, other


def test_simultaneous_bookings_of_one_time_make_exactly_one_appointment(option, therapist, clinic, now):
    results = race(THREADS, booker(option, therapist, now))

    booked, refused, other = split(results)
    assert other == []
    assert len(booked) == 1
    assert [error.code for error in refused] == ["slot_taken"] * (THREADS - 1)
    assert all(isinstance(error, SlotTaken) for error in refused)
    appointment = Appointment.objects.get()
    assert appointment.pk == booked[0].pk
    assert (appointment.therapist, appointment.start) == (therapist, TUESDAY_TEN)
    # The losers left nothing behind: only the winner's patient was written.
    assert appointment.patient.email == booked[0].patient.email
    assert Patient.objects.count() == 1


def test_simultaneous_no_preference_bookings_fill_each_therapist_once(option, therapist, second_therapist, clinic, now):
    results = race(THREADS, booker(option, None, now))

    booked, refused, other = split(results)
    assert other == []
    assert len(booked) == 2
    assert [error.code for error in refused] == ["slot_taken"] * (THREADS - 2)
    appointments = Appointment.objects.order_by("therapist__order")
    assert [(a.therapist, a.start) for a in appointments] == [(therapist, TUESDAY_TEN), (second_therapist, TUESDAY_TEN)]


def test_simultaneous_moves_onto_one_time_leave_one_appointment_there(option, therapist, clinic, now):
    starts = [
        datetime.combine(date(2026, 12, 9 + day), time(hour), tzinfo=TORONTO) for day in range(3) for hour in (9, 14)
    ]
    appointments = [
        services.appointment_book(
            option=option,
            therapist=therapist,
            start=start,
            patient=PatientDetails(name="Mover", email=f"mover{index}@example.com", phone="416-555-0100"),
            now=now,
            actor=Actor.patient(Via.ONLINE_BOOKING),
        )
        for index, start in enumerate(starts)
    ]

    results = race(
        len(appointments),
        lambda index: services.appointment_move(
            appointment=appointments[index], start=TUESDAY_TEN, now=now, actor=Actor.patient()
        ),
    )

    moved, refused, other = split(results)
    assert other == []
    assert len(moved) == 1
    assert {error.code for error in refused} == {"slot_taken"}
    assert Appointment.objects.filter(start=TUESDAY_TEN).count() == 1
    assert Appointment.objects.count() == len(appointments)


# --- PostgreSQL: the exclusion constraint is the backstop ---------------------------------------


def test_database_refuses_an_overlapping_active_appointment(postgres_only, option, therapist, second_therapist):
    service = option.service
    AppointmentFactory(therapist=therapist, service=service, start=TUESDAY_TEN)  # blocked 10:00–11:15

    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentFactory(
            therapist=therapist, service=service, start=datetime.combine(TUESDAY_TEN.date(), time(11), tzinfo=TORONTO)
        )

    # Cancelled, another therapist, or starting when the buffer ends: all allowed.
    AppointmentFactory(therapist=therapist, service=service, start=TUESDAY_TEN, status=Appointment.Status.CANCELLED)
    AppointmentFactory(therapist=second_therapist, service=service, start=TUESDAY_TEN)
    AppointmentFactory(
        therapist=therapist, service=service, start=datetime.combine(TUESDAY_TEN.date(), time(11, 15), tzinfo=TORONTO)
    )
    assert Appointment.objects.active().filter(therapist=therapist).count() == 2


def test_database_refuses_reactivating_a_cancelled_appointment_onto_a_taken_time(postgres_only, option, therapist):
    service = option.service
    cancelled = AppointmentFactory(
        therapist=therapist, service=service, start=TUESDAY_TEN, status=Appointment.Status.CANCELLED
    )
    AppointmentFactory(therapist=therapist, service=service, start=TUESDAY_TEN)

    cancelled.status = Appointment.Status.BOOKED
    with pytest.raises(IntegrityError), transaction.atomic():
        cancelled.save()


def test_without_the_lock_the_race_is_real_and_the_constraint_still_gives_one_appointment(
    postgres_only, option, therapist, clinic, now, monkeypatch
):
    def lock_nothing(ids: list[int]) -> list[Therapist]:
        return list(Therapist.objects.filter(pk__in=ids).order_by("pk"))

    # Every thread finishes its availability check before any of them writes: the worst interleaving.
    checked = threading.Barrier(THREADS)
    passed_check = []
    check = services._free_therapist_at

    def check_then_wait(**kwargs):
        chosen = check(**kwargs)
        passed_check.append(chosen)
        checked.wait(timeout=30)
        return chosen

    monkeypatch.setattr(services, "_lock_therapists", lock_nothing)
    monkeypatch.setattr(services, "_free_therapist_at", check_then_wait)

    results = race(THREADS, booker(option, therapist, now))

    booked, refused, other = split(results)
    assert other == []
    # The race is real: without the lock every thread saw the time as free ...
    assert len(passed_check) == THREADS
    # ... and the exclusion constraint let exactly one of them write it.
    assert len(booked) == 1
    assert Appointment.objects.count() == 1
    assert [error.code for error in refused] == ["slot_taken"] * (THREADS - 1)
    assert all(isinstance(error.__cause__, IntegrityError) for error in refused)


def test_a_therapist_locked_too_long_gives_busy_not_a_server_error(postgres_only, option, therapist, now, monkeypatch):
    """Another transaction holds the therapist's row; the booking waits its lock timeout, then says "busy"."""
    monkeypatch.setattr(locks, "LOCK_TIMEOUT", "200ms")
    locked, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        try:
            with transaction.atomic():
                Therapist.objects.select_for_update().get(pk=therapist.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        with pytest.raises(BookingError) as refused:
            booker(option, therapist, now)(0)
    finally:
        release.set()
        holder.join(timeout=30)

    assert refused.value.code == "busy"
    assert not Appointment.objects.exists()


# --- Two receptionists, two appointments, one free time ---------------------------------------


@pytest.fixture
def two_to_move(option, therapist, second_therapist, now):
    """Two appointments on Wednesday, one with each therapist; both receptionists want Alex's Tuesday 10:00."""
    system = Actor.system("tests")
    return [
        services.appointment_book(
            option=option,
            therapist=who,
            start=datetime.combine(date(2026, 12, 9), time(hour), tzinfo=TORONTO),
            patient=PatientDetails(name=f"Patient {hour}", email=f"p{hour}@example.com", phone="416-555-0100"),
            now=now,
            actor=system,
        )
        for who, hour in ((therapist, 9), (second_therapist, 14))
    ]


def receptionists() -> list[Actor]:
    from tests.conftest import staff_user

    return [Actor.staff(staff_user(name, "Receptionist")) for name in ("rosa", "li")]


def test_two_receptionists_moving_onto_one_time_give_one_move_stopped_by_the_lock(
    postgres_only, two_to_move, therapist, clinic, now
):
    desks = receptionists()
    results = race(
        2,
        lambda index: services.appointment_move(
            appointment=two_to_move[index], start=TUESDAY_TEN, therapist=therapist, now=now, actor=desks[index]
        ),
    )

    moved, refused, other = split(results)
    assert other == []
    assert len(moved) == 1
    [loser] = refused
    assert loser.code == "slot_taken"
    assert loser.message == "That time was just taken. Please choose another time."
    # The loser waited on the therapist's row lock, then the re-check on fresh data refused it:
    # no constraint violation was needed.
    assert loser.__cause__ is None
    assert Appointment.objects.filter(start=TUESDAY_TEN, therapist=therapist).count() == 1


def test_two_receptionists_without_the_lock_are_stopped_by_the_constraint(
    postgres_only, two_to_move, therapist, clinic, now, monkeypatch
):
    checked = threading.Barrier(2)
    check = services._free_therapist_at

    def check_then_wait(**kwargs):
        chosen = check(**kwargs)
        checked.wait(timeout=30)
        return chosen

    monkeypatch.setattr(services, "_lock_therapists", lambda ids: list(Therapist.objects.filter(pk__in=ids)))
    monkeypatch.setattr(services, "_free_therapist_at", check_then_wait)
    desks = receptionists()

    results = race(
        2,
        lambda index: services.appointment_move(
            appointment=two_to_move[index], start=TUESDAY_TEN, therapist=therapist, now=now, actor=desks[index]
        ),
    )

    moved, refused, other = split(results)
    assert len(moved) == 1
    # Both passed the check, so the database had to stop the second: either as the constraint's violation
    # (when the winner committed first) or, when both wrote at once and each waited on the other's
    # unfinished row, by aborting one of them as a deadlock. Either way one appointment holds the time.
    # With the lock neither can happen: the loser waits on the therapist's row and is refused cleanly.
    [loser] = refused + other
    if isinstance(loser, BookingError):
        assert loser.code == "slot_taken"
        assert isinstance(loser.__cause__, IntegrityError)
    else:
        assert isinstance(loser, OperationalError) and "deadlock detected" in str(loser)
    assert Appointment.objects.filter(start=TUESDAY_TEN, therapist=therapist).count() == 1


def test_two_receptionists_dragging_at_once_get_a_move_and_a_clear_refusal(
    postgres_only, two_to_move, therapist, clinic
):
    """The whole request path (middleware, the drop endpoint, the service), one client per receptionist."""
    from django.test import Client

    from tests.conftest import staff_user

    clients = []
    for name in ("rosa", "li"):
        client = Client()
        client.force_login(staff_user(name, "Receptionist"))
        clients.append(client)

    def drag(index: int):
        return clients[index].post(
            f"/frontdesk/appointments/{two_to_move[index].pk}/move/",
            {"start": "2026-12-08T10:00", "therapist": therapist.pk},
            HTTP_ACCEPT="application/json",
        )

    responses = race(2, drag)

    assert sorted(response.status_code for response in responses) == [200, 409]
    [refusal] = [response.json() for response in responses if response.status_code == 409]
    assert refusal == {"error": "That time was just taken. Please choose another time.", "code": "slot_taken"}
    assert Appointment.objects.filter(start=TUESDAY_TEN, therapist=therapist).count() == 1


# --- The online booking cap: one patient booking with several therapists at once ------------------------------


def test_one_patient_booking_with_eight_therapists_at_once_gets_only_the_cap(service, option, clinic, now):
    """No therapist lock is shared here, so only the lock on the patient's email makes the threads count in turn:
    without it (services.lock_name) each thread counts the others' bookings as not yet made and all eight book."""
    clinic.online_booking_cap = 3
    clinic.save()
    therapists = [weekday_therapist(service, f"therapist-{index}", f"Therapist {index}") for index in range(8)]

    def attempt(index: int) -> Appointment:
        return services.appointment_book(
            option=option,
            therapist=therapists[index],
            start=TUESDAY_TEN,
            patient=PatientDetails(name="Jordan Lee", email="jordan@example.com", phone="416-555-0100"),
            now=now,
            actor=Actor.patient(Via.ONLINE_BOOKING),
        )

    booked, refused, other = split(race(len(therapists), attempt))

    assert other == []
    assert len(booked) == 3
    assert [error.code for error in refused] == ["online_cap"] * 5
    assert Appointment.objects.filter(patient__email="jordan@example.com").count() == 3
