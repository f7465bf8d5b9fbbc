"""The lifecycle table: every status change, allowed and refused, for each kind of actor.

The expected outcomes are written out here by hand, not derived from booking.lifecycle.RULES,
so a change to the rules shows up as a failing row.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking import lifecycle
from booking.actors import Actor, Role
from booking.errors import BookingError
from booking.lifecycle import Action

TORONTO = ZoneInfo("America/Toronto")
START = datetime(2026, 12, 8, 10, tzinfo=TORONTO)  # Tuesday 10:00
WINDOW = timedelta(hours=24)

# The moments the change is attempted at.
DAYS_BEFORE = START - timedelta(days=2)  # outside the cancellation window
HOURS_BEFORE = START - timedelta(hours=3)  # the same day, inside the window
AFTER_START = START + timedelta(minutes=10)

B, CI, DONE, NS, X = "booked", "checked_in", "completed", "no_show", "cancelled"
FD, TH, PT, SY, NO = Role.FRONT_DESK, Role.THERAPIST, Role.PATIENT, Role.SYSTEM, Role.NONE

OK = None

# (action, status, role, when) -> None if allowed, else the refusal code.
TABLE = [
    # check in: on the day, by the front desk, the therapist or the system; never by a patient
    (Action.CHECK_IN, B, FD, HOURS_BEFORE, OK),
    (Action.CHECK_IN, B, TH, HOURS_BEFORE, OK),
    (Action.CHECK_IN, B, SY, AFTER_START, OK),
    (Action.CHECK_IN, B, FD, DAYS_BEFORE, "too_early"),
    (Action.CHECK_IN, B, PT, HOURS_BEFORE, "not_allowed"),
    (Action.CHECK_IN, B, NO, HOURS_BEFORE, "not_allowed"),
    (Action.CHECK_IN, CI, FD, HOURS_BEFORE, "wrong_status"),
    (Action.CHECK_IN, DONE, FD, AFTER_START, "wrong_status"),
    (Action.CHECK_IN, NS, FD, AFTER_START, "wrong_status"),
    (Action.CHECK_IN, X, FD, HOURS_BEFORE, "not_active"),
    # complete: only after check-in and once the session has started
    (Action.COMPLETE, CI, FD, AFTER_START, OK),
    (Action.COMPLETE, CI, TH, AFTER_START, OK),
    (Action.COMPLETE, CI, FD, HOURS_BEFORE, "not_started"),
    (Action.COMPLETE, B, FD, AFTER_START, "wrong_status"),
    (Action.COMPLETE, CI, PT, AFTER_START, "not_allowed"),
    (Action.COMPLETE, NS, FD, AFTER_START, "wrong_status"),
    (Action.COMPLETE, DONE, FD, AFTER_START, "wrong_status"),
    (Action.COMPLETE, X, FD, AFTER_START, "not_active"),
    # no-show: booked or checked in, only once the start has passed
    (Action.NO_SHOW, B, FD, AFTER_START, OK),
    (Action.NO_SHOW, CI, FD, AFTER_START, OK),
    (Action.NO_SHOW, B, TH, AFTER_START, OK),
    (Action.NO_SHOW, B, FD, HOURS_BEFORE, "not_started"),
    (Action.NO_SHOW, B, PT, AFTER_START, "not_allowed"),
    (Action.NO_SHOW, DONE, FD, AFTER_START, "wrong_status"),
    (Action.NO_SHOW, NS, FD, AFTER_START, "wrong_status"),
    (Action.NO_SHOW, X, FD, AFTER_START, "not_active"),
    # cancel: the front desk any time while live; the patient only outside the window; never the therapist
    (Action.CANCEL, B, FD, HOURS_BEFORE, OK),
    (Action.CANCEL, CI, FD, HOURS_BEFORE, OK),
    (Action.CANCEL, B, SY, DAYS_BEFORE, OK),
    (Action.CANCEL, B, PT, DAYS_BEFORE, OK),
    (Action.CANCEL, B, PT, HOURS_BEFORE, "too_late_to_change"),
    (Action.CANCEL, B, PT, AFTER_START, "in_past"),
    (Action.CANCEL, CI, PT, DAYS_BEFORE, "not_active"),
    (Action.CANCEL, B, TH, DAYS_BEFORE, "not_allowed"),
    (Action.CANCEL, DONE, FD, AFTER_START, "wrong_status"),
    (Action.CANCEL, NS, FD, AFTER_START, "wrong_status"),
    (Action.CANCEL, X, FD, DAYS_BEFORE, "not_active"),
    # move: live appointments only; completed, no-show and cancelled ones stay where they were
    (Action.MOVE, B, FD, HOURS_BEFORE, OK),
    (Action.MOVE, CI, FD, HOURS_BEFORE, OK),
    (Action.MOVE, B, PT, DAYS_BEFORE, OK),
    (Action.MOVE, B, PT, HOURS_BEFORE, "too_late_to_change"),
    (Action.MOVE, B, TH, DAYS_BEFORE, "not_allowed"),
    (Action.MOVE, DONE, FD, AFTER_START, "cannot_move"),
    (Action.MOVE, NS, FD, AFTER_START, "cannot_move"),
    (Action.MOVE, X, FD, DAYS_BEFORE, "not_active"),
    (Action.MOVE, X, PT, DAYS_BEFORE, "not_active"),
    # undo: the front desk (or the system) steps a status back; nobody else
    (Action.UNDO, X, FD, DAYS_BEFORE, OK),
    (Action.UNDO, NS, FD, AFTER_START, OK),
    (Action.UNDO, DONE, FD, AFTER_START, OK),
    (Action.UNDO, CI, FD, HOURS_BEFORE, OK),
    (Action.UNDO, X, SY, DAYS_BEFORE, OK),
    (Action.UNDO, B, FD, HOURS_BEFORE, "nothing_to_undo"),
    (Action.UNDO, X, PT, DAYS_BEFORE, "not_allowed"),
    (Action.UNDO, NS, TH, AFTER_START, "not_allowed"),
    (Action.UNDO, DONE, TH, AFTER_START, "not_allowed"),
]


def _id(row) -> str:
    action, status, role, when, expected = row
    moment = {DAYS_BEFORE: "days-before", HOURS_BEFORE: "hours-before", AFTER_START: "after-start"}[when]
    return f"{action.value}-{status}-{role.value}-{moment}-{expected or 'ok'}"


@pytest.mark.parametrize(("action", "status", "role", "when", "expected"), TABLE, ids=[_id(row) for row in TABLE])
def test_lifecycle_table(action, status, role, when, expected):
    refusal = lifecycle.refusal(
        action, status=status, role=role, start=START, now=when, tz=TORONTO, cancellation_window=WINDOW
    )

    assert (refusal.code if refusal else None) == expected


def test_every_action_and_status_is_in_the_table():
    covered = {(action, status) for action, status, *_ in TABLE}
    assert covered == {(action, status) for action in Action for status in (B, CI, DONE, NS, X)}


def test_refusals_carry_a_message_people_can_read():
    refusal = lifecycle.refusal(
        Action.COMPLETE, status=B, role=FD, start=START, now=AFTER_START, tz=TORONTO, cancellation_window=WINDOW
    )
    assert refusal is not None
    assert refusal.message == "Check the patient in before marking the session completed."
    with pytest.raises(BookingError, match="cannot be moved"):
        lifecycle.check(
            Action.MOVE, status=DONE, role=FD, start=START, now=AFTER_START, tz=TORONTO, cancellation_window=WINDOW
        )


@pytest.mark.parametrize(
    ("status", "after"), [(X, B), (NS, B), (DONE, CI), (CI, B)], ids=["cancelled", "no-show", "completed", "checked-in"]
)
def test_undo_steps_back_one_place(status, after):
    assert lifecycle.target_status(Action.UNDO, status) == after


def test_check_in_on_the_day_uses_the_clinics_calendar_day():
    # 23:30 UTC on Monday is 18:30 on Monday in Toronto: still the day before a Tuesday appointment.
    monday_evening = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)
    refusal = lifecycle.refusal(
        Action.CHECK_IN, status=B, role=FD, start=START, now=monday_evening, tz=TORONTO, cancellation_window=WINDOW
    )
    assert refusal is not None and refusal.code == "too_early"


def test_a_therapist_has_no_role_over_a_colleagues_appointment():
    own = Actor(Role.THERAPIST, Actor.patient().via, therapist_id=7)
    assert lifecycle.role_towards(own, 7) == Role.THERAPIST
    assert lifecycle.role_towards(own, 8) == Role.NONE


def test_buttons_come_from_the_same_table():
    actions = lifecycle.allowed_actions(
        status=B, role=FD, start=START, now=AFTER_START, tz=TORONTO, cancellation_window=WINDOW
    )
    assert actions == [Action.CHECK_IN, Action.NO_SHOW, Action.CANCEL, Action.MOVE]
    assert lifecycle.allowed_actions(
        status=B, role=PT, start=START, now=DAYS_BEFORE, tz=TORONTO, cancellation_window=WINDOW
    ) == [Action.CANCEL, Action.MOVE]
