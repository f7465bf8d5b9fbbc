"""Writes to a therapist's time from the front desk: adding time off and taking it away.

Each runs in one durable transaction with the therapist's row locked, the same
lock a booking takes, so no appointment can be booked into time off between the
check and the write. Time off never cancels what is already booked: if it
would strand booked appointments, the write is refused with their list until
the person confirms exactly those appointments; the front desk then moves or
cancels them through booking's services.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError

from booking import selectors
from booking.actors import Actor, Role
from booking.errors import BookingError
from booking.locks import lock, write_transaction
from booking.models import Appointment
from clinic.models import ClinicSettings
from therapists.models import Therapist, TimeOff

# Time off may be recorded a little after it began (a therapist went home sick yesterday), not long after.
EARLIEST_START = timedelta(days=7)
# Longer absences are better told by making the therapist inactive.
LONGEST = timedelta(days=366)


class TimeOffError(Exception):
    messages = {
        "invalid": "Give the time off as times on the clinic's clock.",
        "end_before_start": "The end must be after the start.",
        "over": "That time off is already over.",
        "too_far_back": "Time off can start at most 7 days ago.",
        "too_long": "Time off can last at most a year; for a longer absence, make the therapist inactive.",
        "overlaps": "This overlaps time off already recorded for this therapist; change or remove that one instead.",
        "stranded": "Booked appointments fall in this time off.",
        "not_allowed": "You are not allowed to change therapists' time.",
        "busy": "The calendar is busy right now. Please try again in a moment.",
    }

    def __init__(self, code: str, message: str | None = None) -> None:
        self.code = code
        self.message = str(message or self.messages[code])
        super().__init__(self.message)


class StrandedAppointments(TimeOffError):
    """Refused until confirmed: these booked appointments would be left inside the time off."""

    def __init__(self, appointments: list[Appointment]) -> None:
        self.appointments = appointments
        count = len(appointments)
        noun = "appointment is" if count == 1 else "appointments are"
        super().__init__("stranded", f"{count} booked {noun} inside this time off.")


def _check_actor(actor: Actor) -> None:
    if actor.role not in (Role.FRONT_DESK, Role.SYSTEM):
        raise TimeOffError("not_allowed")


def _check_times(start: datetime, end: datetime, now: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None or now.tzinfo is None:
        raise TimeOffError("invalid")
    if end <= start:
        raise TimeOffError("end_before_start")
    if end <= now:
        raise TimeOffError("over")
    if start < now - EARLIEST_START:
        raise TimeOffError("too_far_back")
    if end - start > LONGEST:
        raise TimeOffError("too_long")


def time_off_add(
    *,
    therapist: Therapist,
    start: datetime,
    end: datetime,
    reason: str,
    confirm_stranded: Collection[int],
    now: datetime,
    actor: Actor,
) -> TimeOff:
    """Record time off for `therapist` from `start` to `end` (aware datetimes).

    `confirm_stranded` holds the ids of the booked appointments the person was shown and accepted
    to move or cancel themselves; if the time off would strand any other, nothing is saved and
    StrandedAppointments lists them all.
    """
    _check_actor(actor)
    _check_times(start, end, now)
    try:
        with write_transaction():
            [locked] = lock(Therapist.objects.filter(pk=therapist.pk), no_key=True)
            if TimeOff.objects.filter(therapist=locked, start__lt=end, end__gt=start).exists():
                raise TimeOffError("overlaps")
            stranded = selectors.stranded_appointments(
                locked, now=now, clinic=ClinicSettings.load(), add_time_off=[(start, end)]
            )
            if {appointment.pk for appointment in stranded} - set(confirm_stranded):
                raise StrandedAppointments(stranded)
            time_off = TimeOff(therapist=locked, start=start, end=end, reason=" ".join(reason.split())[:200])
            try:
                time_off.full_clean()
            except ValidationError as error:
                raise TimeOffError("invalid", " ".join(error.messages)) from error
            time_off.save()
    except BookingError as error:
        # write_transaction's only refusal: the therapist's row stayed locked too long.
        raise TimeOffError("busy") from error
    return time_off


def time_off_remove(*, time_off: TimeOff, now: datetime, actor: Actor) -> TimeOff | None:
    """Take time off away: upcoming time off is deleted (None is returned); time off under way ends now.

    Time off that is already over stays in the records. Nothing can be stranded by less time off.
    """
    _check_actor(actor)
    try:
        with write_transaction():
            lock(Therapist.objects.filter(pk=time_off.therapist_id), no_key=True)
            current = TimeOff.objects.filter(pk=time_off.pk).first()
            if current is None:
                return None
            if current.end <= now:
                raise TimeOffError("over")
            if current.start >= now:
                current.delete()
                return None
            current.end = now
            current.save(update_fields=["end"])
    except BookingError as error:
        raise TimeOffError("busy") from error
    return current
