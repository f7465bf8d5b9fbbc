"""The only code that creates, moves, cancels or changes the status of appointments.

Each operation takes a typed Actor, runs in one durable transaction, checks
the lifecycle table (booking.lifecycle) and availability on fresh, locked
rows, writes the appointment and its history entry together, and queues its
messages in the outbox in that same transaction (the worker sends them after
commit). The database's own constraint is the backstop; its IntegrityError
becomes SlotTaken. A refusal is a BookingError with a code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from phonenumber_field.phonenumber import PhoneNumber

from booking import availability, history, lifecycle, selectors, series, waitlist_services
from booking.actors import Actor, Role
from booking.errors import BookingError, SlotTaken
from booking.lifecycle import Action
from booking.locks import lock, lock_name, write_transaction
from booking.models import Appointment, AppointmentEvent, Patient, ServiceOption, WaitlistEntry
from clinic import change_log
from clinic.models import ClinicSettings
from notifications import notices, outbox
from notifications.models import OutboundMessage
from therapists.models import Therapist

MessageKind = OutboundMessage.Kind

Kind = AppointmentEvent.Kind


@dataclass(frozen=True)
class PatientDetails:
    name: str
    email: str
    phone: str | PhoneNumber
    date_of_birth: date | None = None
    text_reminders: bool = False


def _lock_therapists(ids: list[int]) -> list[Therapist]:
    """Lock therapist rows in primary key order, so two bookings never wait on each other in a cycle."""
    return lock(Therapist.objects.filter(pk__in=ids).order_by("pk"), no_key=True)


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
        patient = _new_patient(details)
        patient.save()
    elif details.text_reminders and (not patient.text_reminders or patient.reminders_stopped_at is not None):
        # The one thing a public form may change in an existing record: ticking "Text me a reminder" asks for them.
        patient.text_reminders, patient.reminders_stopped_at = True, None
        patient.save(update_fields=["text_reminders", "reminders_stopped_at"])
    return patient


def _new_patient(details: PatientDetails) -> Patient:
    phone = details.phone.strip() if isinstance(details.phone, str) else details.phone
    patient = Patient(
        name=" ".join(details.name.split()),
        email=details.email.strip(),
        phone=phone,
        date_of_birth=details.date_of_birth,
        text_reminders=details.text_reminders,
    )
    try:
        patient.full_clean()
    except ValidationError as error:
        raise BookingError("invalid", "; ".join(error.messages)) from error
    return patient


def patient_create(*, details: PatientDetails, actor: Actor) -> Patient:
    """Add a patient record from the front desk (a phone-in or walk-in patient new to the clinic)."""
    if actor.role not in (Role.FRONT_DESK, Role.SYSTEM):
        raise BookingError("not_allowed")
    patient = _new_patient(details)
    patient.save()
    return patient


def _patient_text(patient: Patient) -> dict[str, str]:
    """A patient's contact details as words, for the before and after of a change."""
    return {
        "name": patient.name,
        "email": patient.email,
        "phone": patient.phone.as_e164 if patient.phone else "",
        "date of birth": patient.date_of_birth.isoformat() if patient.date_of_birth else "",
    }


def _log_patient(patient: Patient, actor: Actor, message: str) -> None:
    """Write down a staff member's change to a patient's record (clinic/change_log.py); the system's go unrecorded
    there, as they leave their own trace (the demo, an import)."""
    if actor.user is not None:
        change_log.record(obj=patient, by=actor.user, message=message)


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


def _check_online_cap(patient: PatientDetails | Patient, clinic: ClinicSettings, now: datetime) -> None:
    """Refuse a patient's own booking once they hold `online_booking_cap` upcoming appointments booked online.

    A person is told apart as `_patient_for` does, by email and name, so a parent booking for two children with one
    email is not stopped by the children's visits. A name is typed freely, though, so all the names on one email
    together may hold twice the cap: changing the name does not lift it for long. The front desk is not capped.
    """
    email = patient.email.strip()
    name = " ".join(patient.name.split())
    # Two bookings with one email at once (for different therapists, so no therapist lock is shared) count in turn.
    lock_name(f"online-cap:{email.lower()}")
    held = Appointment.objects.filter(
        status__in=lifecycle.LIVE,
        channel=Appointment.Channel.ONLINE,
        start__gt=now,
        patient__email__iexact=email,
    ).aggregate(person=Count("pk", filter=Q(patient__name__iexact=name)), email=Count("pk"))
    call = f"please call us at {clinic.phone}" if clinic.phone else "please call us"
    cap = clinic.online_booking_cap
    if held["person"] >= cap:
        raise BookingError(
            "online_cap",
            f"You already have {_appointments(held['person'])} booked online; to book more, {call}.",
        )
    if held["email"] >= 2 * cap:
        raise BookingError(
            "online_cap",
            f"This email address already has {_appointments(held['email'])} booked online; to book more, {call}.",
        )


def _appointments(count: int) -> str:
    return f"{count} upcoming appointment{'' if count == 1 else 's'}"


def _booking_channel(actor: Actor, channel: str | None) -> str:
    if channel:
        return channel
    return Appointment.Channel.ONLINE if actor.role == Role.PATIENT else Appointment.Channel.PHONE


def appointment_book(
    *,
    option: ServiceOption,
    therapist: Therapist | None,
    start: datetime,
    patient: PatientDetails | Patient,
    now: datetime,
    actor: Actor,
    channel: str | None = None,
    request_key: str | None = None,
    note: str = "",
    notify: bool = True,
) -> Appointment:
    """Book a session; `therapist=None` means the first free therapist who offers the service.

    Patients may book only a time the engine offers; the front desk and the
    system may book any minute inside working hours, at short notice too.
    A repeated `request_key` returns the appointment that key already made.
    `notify=False` books without emailing the patient.
    """
    if start.tzinfo is None or now.tzinfo is None:
        raise ValueError("start and now must be aware datetimes")
    if actor.role not in (Role.PATIENT, Role.FRONT_DESK, Role.SYSTEM):
        raise BookingError("not_allowed")
    # UTC, so that adding the length is real time even across a clock change.
    start = start.astimezone(UTC)
    with write_transaction():
        clinic = ClinicSettings.load()
        _check_option(option)
        locked = _lock_therapists(_candidates(option, therapist))
        if request_key:
            existing = Appointment.objects.filter(request_key=request_key).first()
            if existing is not None:
                return existing
        if actor.role == Role.PATIENT:
            _check_online_cap(patient, clinic, now)
        appointment = _book_locked(
            therapists=locked,
            option=option,
            start=start,
            patient=patient,
            clinic=clinic,
            now=now,
            actor=actor,
            channel=channel,
            request_key=request_key,
            note=note,
        )
        if notify:
            outbox.queue_appointment_email(MessageKind.CONFIRMATION, appointment, now)
        notices.queue_therapist_notice(change=notices.Change.BOOKED, appointment=appointment, now=now, actor=actor)
    return appointment


def _book_locked(
    *,
    therapists: list[Therapist],
    option: ServiceOption,
    start: datetime,
    patient: PatientDetails | Patient,
    clinic: ClinicSettings,
    now: datetime,
    actor: Actor,
    channel: str | None,
    request_key: str | None,
    note: str,
) -> Appointment:
    """Book one session inside an open write transaction, `therapists` (the candidates) already locked.

    Re-checks the time with the engine on fresh rows, saves, and writes the history entry;
    the caller queues the email once its transaction is sure to commit.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("A booking is written inside write_transaction(), with its therapists locked.")
    chosen = _free_therapist_at(
        therapists=therapists, option=option, start=start, clinic=clinic, now=now, staff=actor.is_staff_side
    )
    if not isinstance(patient, Patient):
        patient = _patient_for(patient)
    appointment = _new_appointment(
        patient=patient,
        therapist=chosen,
        option=option,
        start=start,
        channel=_booking_channel(actor, channel),
        booked_by=actor.user,
        request_key=request_key or None,
        note=note,
    )
    _save(appointment)
    _record_booked(appointment, actor, now)
    return appointment


# Refusals about a session's time, which a series names the session for; others (bad details) speak for themselves.
_TIME_REFUSALS = ("slot_taken", "outside_hours", "not_available")


def _session_refusal(error: BookingError, number: int, start: datetime, clinic: ClinicSettings) -> BookingError:
    if error.code not in _TIME_REFUSALS:
        return error
    text = f"Session {number}, {start.astimezone(clinic.tz):%a %-d %b %Y %H:%M}: {error.message}"
    return SlotTaken(text) if isinstance(error, SlotTaken) else BookingError(error.code, text)


def appointment_book_series(
    *,
    option: ServiceOption,
    therapist: Therapist | None,
    starts: Sequence[datetime],
    patient: PatientDetails | Patient,
    now: datetime,
    actor: Actor,
    channel: str | None = None,
    note: str = "",
    notify: bool = True,
    therapists: Sequence[Therapist | None] | None = None,
    request_key: str | None = None,
) -> list[Appointment]:
    """Book several sessions for one patient (a treatment plan) in one transaction: all of them, or none.

    Front desk and system only. Each start is checked on its own, as `appointment_book`
    checks one with staff rules. `therapists`, when given, says who takes each session
    (None there: `therapist`; both None: the first free who gives the service). The first
    refusal rolls every session back and is raised naming the session. One email lists
    all the sessions. A repeated `request_key` returns the sessions it already booked.
    """
    if not starts:
        raise ValueError("a series needs at least one start")
    if therapists is not None and len(therapists) != len(starts):
        raise ValueError("therapists must name one therapist (or None) per start")
    if now.tzinfo is None or any(start.tzinfo is None for start in starts):
        raise ValueError("starts and now must be aware datetimes")
    if request_key is not None and len(request_key) > 60:
        raise ValueError("request_key is at most 60 characters")
    if actor.role not in (Role.FRONT_DESK, Role.SYSTEM):
        raise BookingError("not_allowed")
    if len(starts) > series.MAX_SESSIONS:
        raise BookingError("invalid", f"Book at most {series.MAX_SESSIONS} sessions at once.")
    wanted = [
        (start.astimezone(UTC), who or therapist)
        for start, who in zip(starts, therapists or [None] * len(starts), strict=True)
    ]
    keys: list[str | None] = [None] * len(starts)
    if request_key:
        keys = [f"{request_key}:{number}" for number in range(1, len(starts) + 1)]
    with write_transaction():
        clinic = ClinicSettings.load()
        _check_option(option)
        candidates = {who: _candidates(option, who) for who in {who for _, who in wanted}}
        locked = {t.pk: t for t in _lock_therapists(sorted({pk for ids in candidates.values() for pk in ids}))}
        if request_key:
            existing = list(Appointment.objects.filter(request_key__in=keys).order_by("start", "pk"))
            if existing:
                return existing
        booked: list[Appointment] = []
        for number, ((start, who), key) in enumerate(zip(wanted, keys, strict=True), start=1):
            try:
                appointment = _book_locked(
                    therapists=[locked[pk] for pk in candidates[who]],
                    option=option,
                    start=start,
                    patient=patient,
                    clinic=clinic,
                    now=now,
                    actor=actor,
                    channel=channel,
                    request_key=key,
                    note=note,
                )
            except BookingError as error:
                raise _session_refusal(error, number, start, clinic) from error
            patient = appointment.patient
            booked.append(appointment)
        if notify:
            outbox.queue_series_confirmation(booked, now)
        for appointment in booked:
            notices.queue_therapist_notice(change=notices.Change.BOOKED, appointment=appointment, now=now, actor=actor)
    return booked


def _new_appointment(
    *,
    patient: Patient,
    therapist: Therapist,
    option: ServiceOption,
    start: datetime,
    channel: str,
    booked_by,
    request_key: str | None,
    note: str,
) -> Appointment:
    end = start + option.duration
    return Appointment(
        patient=patient,
        therapist=therapist,
        service=option.service,
        duration_minutes=option.duration_minutes,
        price=option.price,
        start=start,
        end=end,
        blocked_until=end + option.service.buffer,
        channel=channel,
        booked_by=booked_by,
        request_key=request_key,
        patient_note=note.strip()[:1000],
    )


def _record_booked(appointment: Appointment, actor: Actor, now: datetime) -> None:
    history.record(
        appointment,
        Kind.BOOKED,
        actor,
        now,
        status=[None, appointment.status],
        start=[None, history.moment(appointment.start)],
        therapist=[None, appointment.therapist.name],
        duration=[None, appointment.duration_minutes],
        channel=appointment.channel,
    )


def _facts(appointment: Appointment, actor: Actor, clinic: ClinicSettings, now: datetime) -> dict:
    return {
        "status": appointment.status,
        "role": lifecycle.role_towards(actor, appointment.therapist_id),
        "start": appointment.start,
        "now": now,
        "tz": clinic.tz,
        "cancellation_window": clinic.cancellation_window,
    }


def refusal(action: Action, appointment: Appointment, actor: Actor, clinic: ClinicSettings, now: datetime):
    """Why `actor` may not take `action` on this appointment now (a BookingError), or None if they may."""
    return lifecycle.refusal(action, **_facts(appointment, actor, clinic, now))


def allowed_actions(appointment: Appointment, actor: Actor, clinic: ClinicSettings, now: datetime) -> list[Action]:
    """The actions to offer `actor` for this appointment now, from the same table the writes check."""
    return lifecycle.allowed_actions(**_facts(appointment, actor, clinic, now))


def patient_change_refusal(appointment: Appointment, clinic: ClinicSettings, now: datetime) -> BookingError | None:
    """Why the patient may not cancel or move this appointment online now, or None if they may."""
    return refusal(Action.CANCEL, appointment, Actor.patient(), clinic, now)


def can_patient_change(appointment: Appointment, clinic: ClinicSettings, now: datetime) -> bool:
    return patient_change_refusal(appointment, clinic, now) is None


def _locked_for(action: Action, appointment: Appointment, actor: Actor, clinic: ClinicSettings, now: datetime):
    """The appointment, locked and re-read, once the lifecycle allows `actor` to take `action` on it."""
    [current] = lock(Appointment.objects.select_related("service", "therapist", "patient").filter(pk=appointment.pk))
    lifecycle.check(action, **_facts(current, actor, clinic, now))
    return current


def is_late_cancellation(appointment: Appointment, clinic: ClinicSettings, now: datetime) -> bool:
    """Cancelled inside the clinic's window (or after the start): counted against the patient's record."""
    return appointment.start - now < clinic.cancellation_window


def appointment_cancel(*, appointment: Appointment, now: datetime, actor: Actor, reason: str = "") -> Appointment:
    """Cancel, keeping the record with who cancelled, when, why and whether it was late."""
    with write_transaction():
        clinic = ClinicSettings.load()
        current = _locked_for(Action.CANCEL, appointment, actor, clinic, now)
        before = current.status
        current.status = Appointment.Status.CANCELLED
        current.cancelled_at = now
        current.cancelled_by_role = {
            Role.PATIENT: Appointment.CancelledBy.PATIENT,
            Role.SYSTEM: Appointment.CancelledBy.SYSTEM,
        }.get(actor.role, Appointment.CancelledBy.STAFF)
        current.cancelled_by = actor.user
        current.cancellation_reason = reason.strip()[:500]
        current.late_cancellation = is_late_cancellation(current, clinic, now)
        current.sequence += 1
        current.save(
            update_fields=[
                "status",
                "cancelled_at",
                "cancelled_by_role",
                "cancelled_by",
                "cancellation_reason",
                "late_cancellation",
                "sequence",
                "updated_at",
            ]
        )
        history.record(
            current,
            Kind.CANCELLED,
            actor,
            now,
            status=[before, current.status],
            reason=current.cancellation_reason,
            late=current.late_cancellation,
        )
        outbox.queue_appointment_email(MessageKind.CANCELLATION, current, now)
        notices.queue_therapist_notice(change=notices.Change.CANCELLED, appointment=current, now=now, actor=actor)
        waitlist_services.offer_freed_time(
            therapist=current.therapist, start=current.start, end=current.blocked_until, now=now
        )
    return current


def _option_of(appointment: Appointment) -> ServiceOption:
    option = (
        ServiceOption.objects.select_related("service")
        .filter(service=appointment.service, duration_minutes=appointment.duration_minutes)
        .first()
    )
    if option is None:
        raise BookingError("service_unavailable")
    return option


def appointment_move(
    *,
    appointment: Appointment,
    start: datetime,
    now: datetime,
    actor: Actor,
    therapist: Therapist | None = None,
    notify: bool = True,
) -> Appointment:
    """Move an appointment to a new start, and for staff to another therapist who gives the service.

    The appointment keeps its private link."""
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    start = start.astimezone(UTC)
    with write_transaction():
        clinic = ClinicSettings.load()
        current = _locked_for(Action.MOVE, appointment, actor, clinic, now)
        if actor.role == Role.PATIENT and therapist is not None and therapist.pk != current.therapist_id:
            raise BookingError("not_allowed")
        option = _option_of(current)
        before_start, before_therapist = current.start, current.therapist
        before_blocked_until = current.blocked_until
        candidates = _candidates(option, therapist or current.therapist)
        # The therapist it leaves is locked too, in the same ordered lock: their freed time goes to the waitlist.
        locked = [t for t in _lock_therapists(sorted({*candidates, current.therapist_id})) if t.pk in candidates]
        chosen = _free_therapist_at(
            therapists=locked,
            option=option,
            start=start,
            clinic=clinic,
            now=now,
            exclude_pk=current.pk,
            staff=actor.is_staff_side,
        )
        current.therapist = chosen
        current.start = start
        current.end = start + timedelta(minutes=current.duration_minutes)
        current.blocked_until = current.end + current.service.buffer
        if current.start != before_start or chosen.pk != before_therapist.pk:
            # Calendar apps (the therapist's feed) only take a changed time from a higher SEQUENCE.
            current.sequence += 1
        _save(current)
        changes: dict = {}
        if before_start != current.start:
            changes["start"] = [history.moment(before_start), history.moment(current.start)]
        if before_therapist.pk != chosen.pk:
            changes["therapist"] = [before_therapist.name, chosen.name]
        history.record(current, Kind.MOVED, actor, now, **changes)
        if notify:
            outbox.queue_appointment_email(MessageKind.CHANGE, current, now)
        notices.queue_therapist_notice(
            change=notices.Change.MOVED,
            appointment=current,
            now=now,
            actor=actor,
            before_start=before_start,
            before_therapist=before_therapist,
        )
        waitlist_services.offer_freed_time(
            therapist=before_therapist, start=before_start, end=before_blocked_until, now=now
        )
    return current


def appointment_change_status(*, appointment: Appointment, action: Action, now: datetime, actor: Actor) -> Appointment:
    """Check in, mark completed or mark a no-show, as the lifecycle allows; cancelling is appointment_cancel."""
    if action not in lifecycle.STATUS_ACTIONS:
        raise ValueError(f"{action!r} is not a status change")
    with write_transaction():
        clinic = ClinicSettings.load()
        current = _locked_for(action, appointment, actor, clinic, now)
        before = current.status
        current.status = lifecycle.target_status(action, before)
        current.save(update_fields=["status", "updated_at"])
        history.record(current, Kind.STATUS, actor, now, status=[before, current.status])
    return current


def appointment_undo(*, appointment: Appointment, now: datetime, actor: Actor) -> Appointment:
    """Step a status back (a cancellation, no-show, completion or check-in made by mistake); front desk only.

    Restoring a cancelled appointment needs its time to be free still.
    """
    with write_transaction():
        clinic = ClinicSettings.load()
        current = _locked_for(Action.UNDO, appointment, actor, clinic, now)
        before = current.status
        restoring = before == Appointment.Status.CANCELLED
        if restoring:
            _lock_therapists([current.therapist_id])
            if _is_taken([current.therapist_id], current.start, current.blocked_until, current.pk):
                raise SlotTaken("That time has been taken since the cancellation, so it cannot be restored.")
            current.cancelled_at = None
            current.cancelled_by = None
            current.cancelled_by_role = ""
            current.cancellation_reason = ""
            current.late_cancellation = False
            current.sequence += 1
        current.status = lifecycle.target_status(Action.UNDO, before)
        _save(current)
        history.record(current, Kind.UNDONE, actor, now, status=[before, current.status])
        if restoring:
            outbox.queue_appointment_email(MessageKind.CONFIRMATION, current, now)
            notices.queue_therapist_notice(change=notices.Change.RESTORED, appointment=current, now=now, actor=actor)
    return current


def appointment_set_staff_note(*, appointment: Appointment, note: str, now: datetime, actor: Actor) -> Appointment:
    """Replace the internal staff note; the front desk's only, and never shown to the patient."""
    if actor.role not in (Role.FRONT_DESK, Role.SYSTEM):
        raise BookingError("not_allowed")
    with write_transaction():
        [current] = lock(Appointment.objects.filter(pk=appointment.pk))
        note = note.strip()[:2000]
        if note == current.staff_note:
            return current
        current.staff_note = note
        current.save(update_fields=["staff_note", "updated_at"])
        history.record(current, Kind.NOTE, actor, now)
    return current


# --- patient records (front desk) ---------------------------------------------------------------

_FRONT_DESK_ROLES = (Role.FRONT_DESK, Role.SYSTEM)


def patient_update(*, patient: Patient, details: PatientDetails, actor: Actor) -> Patient:
    """Replace a patient's contact details (name, email, phone, date of birth) from the front desk.

    The row is locked and re-read, so an edit cannot bring back a record merged away meanwhile.
    The phone is stored in E.164 whatever format it was typed in.
    """
    if actor.role not in _FRONT_DESK_ROLES:
        raise BookingError("not_allowed")
    fresh = _new_patient(details)
    with write_transaction():
        found = lock(Patient.objects.filter(pk=patient.pk))
        if not found:
            raise BookingError("invalid", "This patient record no longer exists; it may have been merged.")
        [current] = found
        before = _patient_text(current)
        fields = ["name", "email", "phone", "date_of_birth"]
        for field in fields:
            setattr(current, field, getattr(fresh, field))
        current.save(update_fields=fields)
        if changes := change_log.changes_between(before, _patient_text(current)):
            _log_patient(current, actor, "Changed " + "; ".join(changes) + ".")
    return current


def patient_merge(*, keep: Patient, duplicate: Patient, now: datetime, actor: Actor) -> Patient:
    """Fold `duplicate` (a second record of the same person) into `keep`, and delete it.

    Every appointment of the duplicate moves to the kept record, each with a history
    entry; the kept record's empty fields are filled from the duplicate's. Deleting the
    duplicate is safe because nothing refers to it any more: its appointments and its
    waitlist entries were just moved (its outbox messages keep their text). Should a new kind
    of record point at patients one day, the delete must take nothing else with it: if
    it would, the merge stops and the whole transaction rolls back.
    """
    if actor.role not in _FRONT_DESK_ROLES:
        raise BookingError("not_allowed")
    if keep.pk == duplicate.pk:
        raise BookingError("invalid", "A patient record cannot be merged into itself.")
    with write_transaction():
        # Both rows in primary key order, so two merges of the same pair never wait on each other in a cycle.
        locked = {p.pk: p for p in lock(Patient.objects.filter(pk__in=[keep.pk, duplicate.pk]).order_by("pk"))}
        if len(locked) != 2:
            raise BookingError("invalid", "One of these records no longer exists; it may have been merged already.")
        kept, gone = locked[keep.pk], locked[duplicate.pk]
        moving = lock(Appointment.objects.filter(patient=gone).order_by("pk"))
        for appointment in moving:
            history.record(appointment, Kind.PATIENT_MERGED, actor, now, patient=[gone.name, kept.name])
        Appointment.objects.filter(pk__in=[a.pk for a in moving]).update(patient=kept, updated_at=now)
        WaitlistEntry.objects.filter(patient=gone).update(patient=kept)
        filled = [field for field in ("date_of_birth", "email", "phone") if not getattr(kept, field)]
        filled = [field for field in filled if getattr(gone, field)]
        for field in filled:
            setattr(kept, field, getattr(gone, field))
        if filled:
            kept.save(update_fields=filled)
        gone_text = _patient_text(gone)
        merged = ", ".join(f"{field} {gone_text[field]}" for field in ("email", "phone") if gone_text[field])
        _log_patient(
            kept,
            actor,
            f"Merged in a second record of {gone.name}"
            + (f" ({merged})" if merged else "")
            + f": {len(moving)} appointment{'' if len(moving) == 1 else 's'} moved"
            + (f", {', '.join(field.replace('_', ' ') for field in filled)} filled in." if filled else "."),
        )
        _, deleted = gone.delete()
        if set(deleted) != {Patient._meta.label}:
            raise RuntimeError(f"Merging would also delete {deleted}; nothing was changed.")
    return kept
