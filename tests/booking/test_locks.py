"""Row locks and write transactions: only a lock timeout is "busy"; any other database error stays an error."""

import logging
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import OperationalError, connection, connections, transaction

from booking import locks, services
from booking.actors import Actor
from booking.errors import BookingError
from booking.models import Appointment
from tests.factories import AppointmentFactory
from therapists.models import Therapist

TORONTO = ZoneInfo("America/Toronto")


def test_locks_refuse_to_run_outside_a_transaction(transactional_db):
    with pytest.raises(RuntimeError, match="inside a transaction"):
        locks.lock(Therapist.objects.all())


def test_an_error_that_is_not_a_lock_timeout_is_logged_and_raised_as_it_is(db, caplog):
    with (
        caplog.at_level(logging.ERROR, logger="booking.locks"),
        pytest.raises(OperationalError, match="disk I/O"),
        locks.write_transaction(),
    ):
        raise OperationalError("disk I/O error")

    assert "Database error while writing to the calendar" in caplog.text


def test_sqlites_busy_database_is_busy_not_a_server_error(db, monkeypatch):
    monkeypatch.setattr(locks.connection, "vendor", "sqlite")

    with pytest.raises(BookingError) as refused, locks.write_transaction():
        raise OperationalError("database is locked")

    assert refused.value.code == "busy"


@pytest.mark.django_db(transaction=True)
def test_a_database_timeout_other_than_a_lock_is_not_reported_as_busy(postgres_only, caplog):
    with (
        caplog.at_level(logging.ERROR, logger="booking.locks"),
        pytest.raises(OperationalError) as raised,
        locks.write_transaction(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET LOCAL statement_timeout = '50ms'")
        cursor.execute("SELECT pg_sleep(1)")

    assert raised.value.__cause__.pgcode == "57014"  # query_canceled, not lock_not_available
    assert "Database error while writing to the calendar" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_an_appointment_locked_too_long_gives_busy(postgres_only, service, therapist, monkeypatch):
    """Another transaction holds the appointment's row; a cancel waits the lock timeout, then says "busy"."""
    appointment = AppointmentFactory(
        therapist=therapist, service=service, start=datetime(2026, 12, 8, 10, tzinfo=TORONTO)
    )
    monkeypatch.setattr(locks, "LOCK_TIMEOUT", "200ms")
    held, release = threading.Event(), threading.Event()

    def hold_the_row() -> None:
        try:
            with transaction.atomic():
                Appointment.objects.select_for_update().get(pk=appointment.pk)
                held.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert held.wait(timeout=30)
        with pytest.raises(BookingError) as refused:
            services.appointment_cancel(
                appointment=appointment, now=datetime(2026, 12, 7, 8, tzinfo=TORONTO), actor=Actor.system("tests")
            )
    finally:
        release.set()
        holder.join(timeout=30)

    assert refused.value.code == "busy"
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
