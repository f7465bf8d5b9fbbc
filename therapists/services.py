"""Writes to a therapist's time from the front desk: adding time off and taking it away.

Each runs in one durable transaction with the therapist's row locked, the same
lock a booking takes, so no appointment can be booked into time off between the
check and the write. Time off never cancels what is already booked: if it
would strand booked appointments, the write is refused with their list until
the person confirms exactly those appointments; the front desk then moves or
cancels them through booking's services.

A therapist adds their own time off with `time_off_request`: blocked at once
when nothing booked falls inside it, otherwise a request (blocking nothing)
that the front desk approves, once it has seen what is booked, or declines.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError

from booking import lifecycle, selectors, waitlist_services
from booking.actors import Actor, Role
from booking.errors import BookingError
from booking.locks import lock, write_transaction
from booking.models import Appointment
from clinic import change_log, permissions
from clinic.models import ClinicSettings
from therapists.models import Therapist, TimeOff, new_feed_token

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
        "overlaps_request": "This overlaps a time off request still waiting for approval for this therapist.",
        "not_yours": "You can only change your own time off.",
        "gone": "That time off is no longer there: it was withdrawn or removed.",
        "decided": "That request has already been approved or declined.",
        "not_approved": "That is not approved time off: approve or decline the request instead.",
        "no_reason": "Say in a few words why, so the therapist knows.",
        "under_way": "That time off has already begun; ask the front desk to end it.",
        "booked_inside": "Patients are booked inside that time off; ask the front desk to take it away.",
        "declined": "A declined request stays in the records.",
        "busy": "The calendar is busy right now. Please try again in a moment.",
    }

    def __init__(self, code: str, message: str | None = None) -> None:
        self.code = code
        self.message = str(message or self.messages[code])
        super().__init__(self.message)


def _log(
    therapist: Therapist,
    actor: Actor,
    what: str,
    start: datetime,
    end: datetime,
    *,
    clinic: ClinicSettings,
    ended: datetime | None = None,
) -> None:
    """Write down a staff member's change to a therapist's time off on the therapist (clinic/change_log.py): the
    time off row itself may be deleted, and the therapist's history in the admin keeps who did what. The reason is
    left out, as colleagues may not read it. Times are the clinic's."""
    if actor.user is None:
        return
    tz = clinic.tz

    def clock(moment: datetime) -> str:
        return f"{moment.astimezone(tz):%a %-d %b %Y %H:%M}"

    message = f"{what} {clock(start)} – {clock(end)}" + (f", ended early at {clock(ended)}." if ended else ".")
    change_log.record(obj=therapist, by=actor.user, message=message)


def _save_new(time_off: TimeOff) -> None:
    """Check a new time off row as the model does (the admin's rules too), then save it."""
    try:
        time_off.full_clean()
    except ValidationError as error:
        raise TimeOffError("invalid", " ".join(error.messages)) from error
    time_off.save()


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


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]


def _check_no_overlap(
    therapist: Therapist, start: datetime, end: datetime, *, approved_only: bool = False, exclude: int | None = None
) -> None:
    """Time off may not overlap other time off of the same therapist, nor a request still waiting (declined
    requests count for nothing). In one query."""
    clashing = TimeOff.objects.filter(therapist=therapist, start__lt=end, end__gt=start).exclude(
        status=TimeOff.Status.DECLINED
    )
    if approved_only:
        clashing = clashing.approved()
    if exclude is not None:
        clashing = clashing.exclude(pk=exclude)
    found = set(clashing.values_list("status", flat=True)[:10])
    if TimeOff.Status.APPROVED in found:
        raise TimeOffError("overlaps")
    if found:
        raise TimeOffError("overlaps_request")


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
            _check_no_overlap(locked, start, end)
            clinic = ClinicSettings.load()
            stranded = selectors.stranded_appointments(locked, now=now, clinic=clinic, add_time_off=[(start, end)])
            if {appointment.pk for appointment in stranded} - set(confirm_stranded):
                raise StrandedAppointments(stranded)
            time_off = TimeOff(
                therapist=locked,
                start=start,
                end=end,
                reason=_one_line(reason),
                requested_by=actor.user,
                decided_by=actor.user,
                decided_at=now,
            )
            _save_new(time_off)
            _log(locked, actor, "Added time off", start, end, clinic=clinic)
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
            current = TimeOff.objects.select_related("therapist").filter(pk=time_off.pk).first()
            if current is None:
                return None
            if current.status != TimeOff.Status.APPROVED:
                raise TimeOffError("not_approved")
            if current.end <= now:
                raise TimeOffError("over")
            if current.start >= now:
                current.delete()
                _log(
                    current.therapist,
                    actor,
                    "Removed time off",
                    current.start,
                    current.end,
                    clinic=ClinicSettings.load(),
                )
                waitlist_services.offer_freed_time(
                    therapist=current.therapist, start=current.start, end=current.end, now=now
                )
                return None
            freed_until, current.end = current.end, now
            current.save(update_fields=["end"])
            _log(
                current.therapist,
                actor,
                "Time off",
                current.start,
                freed_until,
                clinic=ClinicSettings.load(),
                ended=now,
            )
            waitlist_services.offer_freed_time(therapist=current.therapist, start=now, end=freed_until, now=now)
    except BookingError as error:
        raise TimeOffError("busy") from error
    return current


# --- a therapist's own time off, and the front desk's answer to a request ----------------------------


@dataclass(frozen=True)
class TimeOffRequestOutcome:
    """What came of a therapist asking for time off: blocked at once, or a request listing what is booked."""

    time_off: TimeOff
    stranded: list[Appointment]

    @property
    def approved(self) -> bool:
        return self.time_off.status == TimeOff.Status.APPROVED


def _check_own_or_front_desk(actor: Actor, therapist_id: int) -> None:
    """A therapist acts on their own time only; the front desk and the system (a manager included) on anyone's."""
    if actor.role in (Role.FRONT_DESK, Role.SYSTEM):
        return
    if actor.role != Role.THERAPIST:
        raise TimeOffError("not_allowed")
    if actor.therapist_id != therapist_id:
        raise TimeOffError("not_yours")


def time_off_request(
    *, therapist: Therapist, start: datetime, end: datetime, reason: str, now: datetime, actor: Actor
) -> TimeOffRequestOutcome:
    """A therapist's own time off (or a manager's, through that therapist's schedule).

    Checked as `time_off_add` checks it. If no booked appointment would be left inside it, it is approved at
    once and blocks those times; otherwise it is saved as a request that blocks nothing and lists the
    appointments, until the front desk approves (`time_off_approve`) or declines it.
    """
    _check_own_or_front_desk(actor, therapist.pk)
    _check_times(start, end, now)
    try:
        with write_transaction():
            [locked] = lock(Therapist.objects.filter(pk=therapist.pk), no_key=True)
            _check_no_overlap(locked, start, end)
            clinic = ClinicSettings.load()
            stranded = selectors.stranded_appointments(locked, now=now, clinic=clinic, add_time_off=[(start, end)])
            approved = not stranded
            time_off = TimeOff(
                therapist=locked,
                start=start,
                end=end,
                reason=_one_line(reason),
                status=TimeOff.Status.APPROVED if approved else TimeOff.Status.REQUESTED,
                requested_by=actor.user,
                # Approved at once: nobody had to decide, unless the front desk itself asked.
                decided_by=actor.user if approved and actor.role == Role.FRONT_DESK else None,
                decided_at=now if approved else None,
            )
            _save_new(time_off)
            _log(locked, actor, "Added time off" if approved else "Asked for time off", start, end, clinic=clinic)
    except BookingError as error:
        raise TimeOffError("busy") from error
    return TimeOffRequestOutcome(time_off, stranded)


def time_off_withdraw(*, time_off: TimeOff, now: datetime, actor: Actor) -> None:
    """Take back one's own time off: a request still waiting, or approved time off that has not begun and has
    nobody booked inside it (anything else is the front desk's to change). Gone already is fine."""
    _check_own_or_front_desk(actor, time_off.therapist_id)
    try:
        with write_transaction():
            lock(Therapist.objects.filter(pk=time_off.therapist_id), no_key=True)
            current = (
                TimeOff.objects.select_related("therapist")
                .filter(pk=time_off.pk, therapist_id=time_off.therapist_id)
                .first()
            )
            if current is None:
                return
            if current.status == TimeOff.Status.DECLINED:
                raise TimeOffError("declined")
            if current.status == TimeOff.Status.APPROVED:
                if current.end <= now:
                    raise TimeOffError("over")
                if current.start < now:
                    raise TimeOffError("under_way")
                booked_inside = Appointment.objects.filter(
                    therapist_id=current.therapist_id,
                    status__in=lifecycle.LIVE,
                    start__lt=current.end,
                    end__gt=current.start,
                )
                if booked_inside.exists():
                    raise TimeOffError("booked_inside")
            current.delete()
            what = "Withdrew time off" if current.status == TimeOff.Status.APPROVED else "Withdrew the request for"
            _log(current.therapist, actor, what, current.start, current.end, clinic=ClinicSettings.load())
            if current.status == TimeOff.Status.APPROVED:
                # Only approved time off blocked anything; a request withdrawn (or declined) frees nothing.
                waitlist_services.offer_freed_time(
                    therapist=current.therapist, start=current.start, end=current.end, now=now
                )
    except BookingError as error:
        raise TimeOffError("busy") from error


def _waiting_request(time_off: TimeOff, now: datetime) -> TimeOff:
    """The request as it is now, inside the transaction, with its therapist's row locked."""
    lock(Therapist.objects.filter(pk=time_off.therapist_id), no_key=True)
    current = TimeOff.objects.select_related("therapist").filter(pk=time_off.pk).first()
    if current is None:
        raise TimeOffError("gone")
    if current.status != TimeOff.Status.REQUESTED:
        raise TimeOffError("decided")
    if current.end <= now:
        raise TimeOffError("over")
    return current


def _decide(current: TimeOff, status: str, actor: Actor, now: datetime, *, note: str = "") -> None:
    """The front desk's answer to a request: approved, or declined with a note, by whom and when."""
    current.status = status
    current.decided_by = actor.user
    current.decided_at = now
    current.decision_note = note
    current.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])


def time_off_approve(*, time_off: TimeOff, confirm_stranded: Collection[int], now: datetime, actor: Actor) -> TimeOff:
    """Approve a therapist's request: from now on it blocks those times.

    As with `time_off_add`, every booked appointment it would strand now (one booked since the request was
    made included) must be among `confirm_stranded`, the ones the person was shown; if not, nothing changes and
    StrandedAppointments lists them all.
    """
    _check_actor(actor)
    try:
        with write_transaction():
            current = _waiting_request(time_off, now)
            _check_no_overlap(current.therapist, current.start, current.end, approved_only=True, exclude=current.pk)
            clinic = ClinicSettings.load()
            stranded = selectors.stranded_appointments(
                current.therapist, now=now, clinic=clinic, add_time_off=[(current.start, current.end)]
            )
            if {appointment.pk for appointment in stranded} - set(confirm_stranded):
                raise StrandedAppointments(stranded)
            _decide(current, TimeOff.Status.APPROVED, actor, now)
            _log(current.therapist, actor, "Approved time off", current.start, current.end, clinic=clinic)
    except BookingError as error:
        raise TimeOffError("busy") from error
    return current


def time_off_decline(*, time_off: TimeOff, reason: str, now: datetime, actor: Actor) -> TimeOff:
    """Decline a therapist's request, saying why: it stays in the records as declined and blocks nothing."""
    _check_actor(actor)
    note = _one_line(reason)
    if not note:
        raise TimeOffError("no_reason")
    try:
        with write_transaction():
            current = _waiting_request(time_off, now)
            _decide(current, TimeOff.Status.DECLINED, actor, now, note=note)
            _log(
                current.therapist, actor, "Declined time off", current.start, current.end, clinic=ClinicSettings.load()
            )
    except BookingError as error:
        raise TimeOffError("busy") from error
    return current


# --- the calendar feed's link -------------------------------------------------------------------

logger = logging.getLogger(__name__)


class FeedTokenError(Exception):
    messages = {
        "not_allowed": "Only the therapist or one of the clinic's managers can replace this calendar link.",
        "gone": "This therapist is no longer in the clinic's records.",
        "busy": "The calendar is busy right now. Please try again in a moment.",
    }

    def __init__(self, code: str) -> None:
        self.code = code
        self.message = self.messages[code]
        super().__init__(self.message)


def _may_replace_feed_token(actor: Actor, therapist: Therapist) -> bool:
    if actor.role == Role.THERAPIST and actor.therapist_id == therapist.pk:
        return True
    return permissions.is_manager(actor.user)


def feed_token_replace(*, therapist: Therapist, actor: Actor) -> Therapist:
    """Give `therapist` a new calendar feed token: the old link stops working at once, the new one works.

    Only the therapist themselves or a manager may. Calendar apps subscribed to the old link keep what they
    fetched last and get nothing new until they subscribe to the new one.
    """
    if not _may_replace_feed_token(actor, therapist):
        raise FeedTokenError("not_allowed")
    token = new_feed_token()
    try:
        with write_transaction():
            replaced = Therapist.objects.filter(pk=therapist.pk).update(feed_token=token)
    except BookingError as error:
        raise FeedTokenError("busy") from error
    if not replaced:
        raise FeedTokenError("gone")
    therapist.feed_token = token
    # Whose and by whom, never the token itself: logs are read by more people than the link is meant for.
    logger.info(
        "Calendar feed link replaced for therapist %s by %s (user %s)",
        therapist.pk,
        actor.role,
        getattr(actor.user, "pk", None),
    )
    return therapist
