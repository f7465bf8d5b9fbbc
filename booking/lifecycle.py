"""What may happen to an appointment next, and who may make it happen: one table for every caller.

booked → checked in → completed; booked or checked in → no-show once the start
has passed; cancelled, completed and no-show are final except for an explicit
undo by the front desk. Pure: the caller passes the clock and the clinic's
time zone and cancellation window. `booking.services` checks this table
inside its transaction before every write; pages ask `allowed_actions` which
buttons to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from django.db import models

from booking.actors import Actor, Role
from booking.errors import BookingError
from booking.models import Appointment

Status = Appointment.Status


class Action(models.TextChoices):
    CHECK_IN = "check_in", "Check in"
    COMPLETE = "complete", "Mark completed"
    NO_SHOW = "no_show", "Mark no-show"
    CANCEL = "cancel", "Cancel"
    MOVE = "move", "Move"
    UNDO = "undo", "Undo"


class Timing(models.TextChoices):
    ANY = "any"
    ON_THE_DAY = "on_the_day"
    STARTED = "started"


@dataclass(frozen=True)
class Rule:
    sources: frozenset[str]
    roles: frozenset[Role]
    timing: Timing = Timing.ANY


STAFF = frozenset({Role.FRONT_DESK, Role.SYSTEM})
AT_THE_VISIT = frozenset({Role.FRONT_DESK, Role.THERAPIST, Role.SYSTEM})
LIVE = frozenset({Status.BOOKED, Status.CHECKED_IN})

RULES: dict[Action, Rule] = {
    Action.CHECK_IN: Rule(frozenset({Status.BOOKED}), AT_THE_VISIT, Timing.ON_THE_DAY),
    Action.COMPLETE: Rule(frozenset({Status.CHECKED_IN}), AT_THE_VISIT, Timing.STARTED),
    Action.NO_SHOW: Rule(LIVE, AT_THE_VISIT, Timing.STARTED),
    Action.CANCEL: Rule(LIVE, STAFF | {Role.PATIENT}),
    Action.MOVE: Rule(LIVE, STAFF | {Role.PATIENT}),
    Action.UNDO: Rule(frozenset({Status.CHECKED_IN, Status.COMPLETED, Status.NO_SHOW, Status.CANCELLED}), STAFF),
}

# The status each action leaves behind; undo steps back one place along the lifecycle.
TARGET: dict[Action, str] = {
    Action.CHECK_IN: Status.CHECKED_IN,
    Action.COMPLETE: Status.COMPLETED,
    Action.NO_SHOW: Status.NO_SHOW,
    Action.CANCEL: Status.CANCELLED,
}
UNDO_TO: dict[str, str] = {
    Status.CHECKED_IN: Status.BOOKED,
    Status.COMPLETED: Status.CHECKED_IN,
    Status.NO_SHOW: Status.BOOKED,
    Status.CANCELLED: Status.BOOKED,
}
STATUS_ACTIONS = (Action.CHECK_IN, Action.COMPLETE, Action.NO_SHOW)
# What the undo button says, by the status it would take back.
UNDO_LABELS: dict[str, str] = {
    Status.CHECKED_IN: "Undo check-in",
    Status.COMPLETED: "Undo completion",
    Status.NO_SHOW: "Undo no-show",
    Status.CANCELLED: "Undo the cancellation",
}

DONE = {
    Action.CHECK_IN: "checked in",
    Action.COMPLETE: "marked completed",
    Action.NO_SHOW: "marked as a no-show",
    Action.CANCEL: "cancelled",
    Action.MOVE: "moved",
    Action.UNDO: "undone",
}


def role_towards(actor: Actor, therapist_id: int) -> Role:
    """The actor's role for an appointment with this therapist: a therapist has none over a colleague's."""
    if actor.role == Role.THERAPIST and actor.therapist_id != therapist_id:
        return Role.NONE
    return actor.role


def target_status(action: Action, status: str) -> str:
    return UNDO_TO[status] if action == Action.UNDO else TARGET[action]


def check(
    action: Action,
    *,
    status: str,
    role: Role,
    start: datetime,
    now: datetime,
    tz: tzinfo,
    cancellation_window: timedelta,
) -> None:
    """Raise a BookingError saying why `role` may not take `action` on an appointment in `status` now."""
    rule = RULES[action]
    if role not in rule.roles:
        raise BookingError("not_allowed")
    if role == Role.PATIENT:
        _check_patient(status=status, start=start, now=now, window=cancellation_window)
        return
    if status not in rule.sources:
        raise _wrong_status(action, status)
    if rule.timing == Timing.STARTED and now < start:
        raise BookingError("not_started")
    if rule.timing == Timing.ON_THE_DAY and now.astimezone(tz).date() < start.astimezone(tz).date():
        raise BookingError("too_early")


def _check_patient(*, status: str, start: datetime, now: datetime, window: timedelta) -> None:
    """Patients change only what is still booked, before it starts and outside the clinic's window."""
    if status != Status.BOOKED:
        raise BookingError("not_active")
    if start <= now:
        raise BookingError("in_past")
    if start - now < window:
        raise BookingError("too_late_to_change")


def _wrong_status(action: Action, status: str) -> BookingError:
    if status == Status.CANCELLED:
        return BookingError("not_active")
    if action == Action.MOVE:
        return BookingError("cannot_move")
    if action == Action.UNDO:
        return BookingError("nothing_to_undo")
    if action == Action.COMPLETE and status == Status.BOOKED:
        return BookingError("wrong_status", "Check the patient in before marking the session completed.")
    label = Status(status).label.lower()
    return BookingError("wrong_status", f"This appointment is {label}, so it cannot be {DONE[action]}.")


def refusal(
    action: Action,
    *,
    status: str,
    role: Role,
    start: datetime,
    now: datetime,
    tz: tzinfo,
    cancellation_window: timedelta,
) -> BookingError | None:
    """Why the action is refused, or None if it is allowed."""
    try:
        check(action, status=status, role=role, start=start, now=now, tz=tz, cancellation_window=cancellation_window)
    except BookingError as error:
        return error
    return None


def allowed_actions(
    *, status: str, role: Role, start: datetime, now: datetime, tz: tzinfo, cancellation_window: timedelta
) -> list[Action]:
    """Every action `role` may take now, in the order buttons show them."""
    return [
        action
        for action in Action
        if refusal(
            action, status=status, role=role, start=start, now=now, tz=tz, cancellation_window=cancellation_window
        )
        is None
    ]
