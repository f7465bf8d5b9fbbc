"""The only code that creates, moves or cancels appointments.

Each operation runs in one durable transaction: it locks the therapists
concerned, re-checks availability on fresh data with the pure engine, writes,
and sends mail only after commit. The database's own constraint is the
backstop; its IntegrityError becomes SlotTaken.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction

from booking import availability, notifications, selectors
from booking.errors import BookingError, SlotTaken
from booking.models import Appointment, Patient, ServiceOption
from clinic.models import ClinicSettings
from therapists.models import Therapist

LOCK_TIMEOUT = "5s"


@dataclass(frozen=True)
class PatientDetails:
    name: str
    email: str
    phone: str
    date_of_birth: date | None = None


@contextmanager
def _write_transaction() -> Iterator[None]:
    """One durable transaction per write. A lock that cannot be had in time (PostgreSQL's
    lock_timeout, SQLite's busy timeout) is "busy, try again", never a server error."""
    try:
        with transaction.atomic(durable=True):
            yield
    except OperationalError as error:
        raise BookingError("busy") from error


def _lock_therapists(ids: list[int]) -> list[Therapist]:
    """Lock therapist rows in primary key order, so two bookings never wait on each other in a cycle."""
    if not connection.in_atomic_block:
        raise RuntimeError("Therapist locks are only meaningful inside a transaction.")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    return list(Therapist.objects.select_for_update(no_key=True, of=("self",)).filter(pk__in=ids).order_by("pk"))


def _patient_for(details: PatientDetails) -> Patient:
    """The patient with this email and name, or a new record.

    Both must match: families often share one email, and a child's visits must
    not land in a parent's clinical record. Existing records are never
    overwritten from a public form; the front desk merges duplicates.
    """
    email = details.email.strip()
    name = " ".join(details.name.split())
    patient = Patient.objects.filter(email__iexact=email, name__iexact=name).order_by("pk").first()
    if patient is None:
        patient = Patient(name=name, email=email, phone=details.phone.strip(), date_of_birth=details.date_of_birth)
        try:
            patient.full_clean()
        except ValidationError as error:
            raise BookingError("invalid", "; ".join(error.messages)) from error
        patient.save()
    return patient


def _save(appointment: Appointment) -> None:
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError as error:
        raise SlotTaken() from error


def _is_taken(therapist_ids: list[int], start: datetime, blocked_until: datetime, exclude_pk: int | None) -> bool:
    clashes = Appointment.objects.active().filter(therapist_id__in=therapist_ids).overlapping(start, blocked_until)
    if exclude_pk is not None:
        clashes = clashes.exclude(pk=exclude_pk)
    return clashes.exists()


def _free_therapist_at(
    *,
    therapists: list[Therapist],
    option: ServiceOption,
    start: datetime,
    clinic: ClinicSettings,
    now: datetime,
    exclude_pk: int | None = None,
    staff: bool = False,
) -> Therapist:
    """The first of `therapists` (in their display order) free for a session at `start`.

    Patients may only book a slot the engine offers (grid, notice, horizon).
    Staff may book any minute inside working hours, even at short notice.
    """
    day = start.astimezone(clinic.tz).date()
    found = selectors.calendars(therapists, day, day, clinic, ignore_appointment=exclude_pk)
    rules = selectors.search_rules(option, clinic, now)
    if staff:
        rules = replace(rules, step=timedelta(minutes=1), earliest=start, latest=start + timedelta(minutes=1))
    for therapist in sorted(therapists, key=lambda t: (t.order, t.name, t.pk)):
        working, busy = found[therapist]
        slots = availability.free_slots(working=working, busy=busy, rules=rules)
        # Compared in UTC: a time in the repeated hour of a fall-back day never equals one of another zone.
        if any(slot.start.astimezone(UTC) == start for slot in slots):
            return therapist
    blocked_until = start + option.duration + option.service.buffer
    if _is_taken([t.pk for t in therapists], start, blocked_until, exclude_pk):
        raise SlotTaken()
    if staff:
        raise BookingError("outside_hours")
    raise BookingError("not_available")


def _candidates(option: ServiceOption, therapist: Therapist | None) -> list[int]:
    candidates = Therapist.objects.active().offering(option.service)
    if therapist is not None:
        candidates = candidates.filter(pk=therapist.pk)
    ids = list(candidates.values_list("pk", flat=True))
    if not ids:
        raise BookingError("therapist_unavailable")
    return ids


def _check_option(option: ServiceOption) -> None:
    if not (option.active and option.service.active):
        raise BookingError("service_unavailable")


def appointment_book(
    *,
    option: ServiceOption,
    therapist: Therapist | None,
    start: datetime,
    patient: PatientDetails | Patient,
    now: datetime,
    channel: str = Appointment.Channel.ONLINE,
    actor=None,
    request_key: str | None = None,
    note: str = "",
) -> Appointment:
    """Book a session; `therapist=None` means the first free therapist who offers the service.

    A repeated `request_key` returns the appointment that key already made.
    """
    if start.tzinfo is None or now.tzinfo is None:
        raise ValueError("start and now must be aware datetimes")
    # UTC, so that adding the length is real time even across a clock change.
    start = start.astimezone(UTC)
    staff = actor is not None
    with _write_transaction():
        clinic = ClinicSettings.load()
        _check_option(option)
        locked = _lock_therapists(_candidates(option, therapist))
        if request_key:
            existing = Appointment.objects.filter(request_key=request_key).first()
            if existing is not None:
                return existing
        chosen = _free_therapist_at(therapists=locked, option=option, start=start, clinic=clinic, now=now, staff=staff)
        if not isinstance(patient, Patient):
            patient = _patient_for(patient)
        end = start + option.duration
        appointment = Appointment(
            patient=patient,
            therapist=chosen,
            service=option.service,
            duration_minutes=option.duration_minutes,
            price=option.price,
            start=start,
            end=end,
            blocked_until=end + option.service.buffer,
            channel=channel,
            booked_by=actor,
            request_key=request_key or None,
            patient_note=note.strip()[:1000],
        )
        _save(appointment)
        transaction.on_commit(lambda: notifications.send_booking_confirmation(appointment.pk))
    return appointment


def _check_changeable_by_patient(appointment: Appointment, clinic: ClinicSettings, now: datetime) -> None:
    if appointment.status != Appointment.Status.BOOKED:
        raise BookingError("not_active")
    if appointment.start <= now:
        raise BookingError("in_past")
    if appointment.start - now < clinic.cancellation_window:
        raise BookingError("too_late_to_change")


def patient_change_refusal(appointment: Appointment, clinic: ClinicSettings, now: datetime) -> BookingError | None:
    """Why the patient may not cancel or move this appointment online now, or None if they may."""
    try:
        _check_changeable_by_patient(appointment, clinic, now)
    except BookingError as error:
        return error
    return None


def can_patient_change(appointment: Appointment, clinic: ClinicSettings, now: datetime) -> bool:
    return patient_change_refusal(appointment, clinic, now) is None


def _locked_appointment(appointment_id: int) -> Appointment:
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("service", "therapist")
        .get(pk=appointment_id)
    )


def _locked_for_change(
    appointment: Appointment, clinic: ClinicSettings, now: datetime, *, by_patient: bool
) -> Appointment:
    """The appointment, locked and re-read; patients are held to the clinic's window, staff only to its being active."""
    current = _locked_appointment(appointment.pk)
    if by_patient:
        _check_changeable_by_patient(current, clinic, now)
    elif current.status == Appointment.Status.CANCELLED:
        raise BookingError("not_active")
    return current


def appointment_cancel(
    *, appointment: Appointment, now: datetime, actor=None, reason: str = "", by_patient: bool = False
) -> Appointment:
    """Cancel, keeping the record with who cancelled, when and why. Patients are held to the clinic's window."""
    with _write_transaction():
        clinic = ClinicSettings.load()
        current = _locked_for_change(appointment, clinic, now, by_patient=by_patient)
        current.status = Appointment.Status.CANCELLED
        current.cancelled_at = now
        current.cancelled_by_role = Appointment.CancelledBy.PATIENT if by_patient else Appointment.CancelledBy.STAFF
        current.cancelled_by = actor
        current.cancellation_reason = reason.strip()[:500]
        current.save(
            update_fields=[
                "status",
                "cancelled_at",
                "cancelled_by_role",
                "cancelled_by",
                "cancellation_reason",
                "updated_at",
            ]
        )
        transaction.on_commit(lambda: notifications.send_cancellation_notice(current.pk))
    return current


def appointment_move(
    *,
    appointment: Appointment,
    start: datetime,
    now: datetime,
    therapist: Therapist | None = None,
    actor=None,
    by_patient: bool = False,
) -> Appointment:
    """Move an appointment to a new start (and, for staff, another therapist), keeping its link."""
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    start = start.astimezone(UTC)
    with _write_transaction():
        clinic = ClinicSettings.load()
        current = _locked_for_change(appointment, clinic, now, by_patient=by_patient)
        option = (
            ServiceOption.objects.select_related("service")
            .filter(service=current.service, duration_minutes=current.duration_minutes)
            .first()
        )
        if option is None:
            raise BookingError("service_unavailable")
        target = therapist or current.therapist
        locked = _lock_therapists(_candidates(option, target))
        chosen = _free_therapist_at(
            therapists=locked,
            option=option,
            start=start,
            clinic=clinic,
            now=now,
            exclude_pk=current.pk,
            staff=not by_patient,
        )
        current.therapist = chosen
        current.start = start
        current.end = start + timedelta(minutes=current.duration_minutes)
        current.blocked_until = current.end + current.service.buffer
        _save(current)
        transaction.on_commit(lambda: notifications.send_reschedule_notice(current.pk))
    return current


def appointment_set_status(*, appointment: Appointment, status: str, now: datetime, actor=None) -> Appointment:
    """Check in, complete or mark a no-show; cancelling goes through appointment_cancel."""
    if status == Appointment.Status.CANCELLED:
        return appointment_cancel(appointment=appointment, now=now, actor=actor)
    if status not in Appointment.Status.values:
        raise BookingError("invalid")
    with _write_transaction():
        current = _locked_appointment(appointment.pk)
        if current.status == Appointment.Status.CANCELLED:
            raise BookingError("not_active")
        current.status = status
        current.save(update_fields=["status", "updated_at"])
    return current
