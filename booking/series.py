"""Repeat bookings: the sessions of a treatment plan, whether each fits, and what to offer when one does not.

Pure functions over plain data, like booking.availability: the caller loads the
calendars (booking.selectors.series_plan) and passes the clock inside the rules.
Sessions repeat on the clinic's wall clock, so a treatment plan that crosses a
clock change keeps its time ("Tuesdays at 10:00"), not its distance in hours.
Each session is checked on its own with the front desk's rules: any minute
inside working hours, nothing busy during the session and its buffer.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from booking import availability
from booking.availability import Interval, Rules, Slot

# Keyed by therapist (any hashable: the Therapist in the app, a name in the tests), in display order.
Calendars = Mapping[Any, tuple[Sequence[Interval], Sequence[Interval]]]

MAX_SESSIONS = 26
# How far either side of a session that does not fit to look for another day.
DAYS_AROUND = 3
BUSY = "busy"
CLOSED = "closed"
# How many other times on the session's own day to offer.
SAME_DAY_CHOICES = 3


def repeat_starts(first: datetime, *, every_weeks: int, count: int, tz: tzinfo) -> list[datetime]:
    """`count` starts, `every_weeks` weeks apart, all at the wall-clock time `first` has in `tz`.

    The first is `first` itself. The others are built on the wall clock, so a session
    after a clock change keeps its local time; one that would fall in the hour skipped
    in spring moves past the gap, as availability.wall_to_aware does.
    """
    if first.tzinfo is None:
        raise ValueError("first must be an aware datetime")
    if count < 1 or every_weeks < 1:
        raise ValueError("count and every_weeks must be at least 1")
    local = first.astimezone(tz)
    wall = local.replace(tzinfo=None, fold=0)
    starts = [local]
    for number in range(1, count):
        starts.append(availability.wall_to_aware(wall + timedelta(weeks=every_weeks * number), tz))
    return starts


def free_at(working: Sequence[Interval], busy: Sequence[Interval], rules: Rules, start: datetime) -> bool:
    """Whether a session of `rules.length` can start exactly at `start`: the front desk's check for one time.

    Any minute inside working time counts (not only the grid), and the minimum notice
    and horizon do not apply, as in booking.services for staff.
    """
    exact = replace(rules, step=timedelta(minutes=1), earliest=start, latest=start + timedelta(minutes=1))
    wanted = start.astimezone(UTC)
    slots = availability.free_slots(working=working, busy=busy, rules=exact)
    return any(slot.start.astimezone(UTC) == wanted for slot in slots)


@dataclass(frozen=True)
class Session:
    """One session of a repeat booking: the time wanted, who can take it then (None: nobody), and if
    nobody can, the nearest free alternatives (each a Slot whose `therapist` is a calendars key)."""

    number: int
    wanted: datetime
    therapist: Any
    alternatives: tuple[Slot, ...] = ()
    # Why it does not fit: BUSY (booked or time off then) or CLOSED (outside working hours).
    reason: str = ""

    @property
    def fits(self) -> bool:
        return self.therapist is not None


def _takers(calendars: Calendars, keys: Sequence[Hashable], rules: Rules, start: datetime) -> list[Hashable]:
    return [key for key in keys if free_at(*calendars[key], rules, start)]


def check(
    starts: Sequence[datetime],
    calendars: Calendars,
    rules: Rules,
    *,
    therapist: Hashable | None = None,
) -> list[Session]:
    """Check each of `starts` on its own: who can take it, or nobody.

    `calendars` holds every therapist who gives the service, in display order, over at
    least the days of the sessions. With `therapist` given, each session is for them;
    with None, for anyone, preferring whoever can take the most sessions, so a treatment
    plan stays with one therapist where it can.
    """
    if therapist is not None and therapist not in calendars:
        raise ValueError("the therapist must be one of the calendars")
    if therapist is not None:
        preferred = [therapist]
    else:
        keys = list(calendars)
        takes = {key: sum(free_at(*calendars[key], rules, start) for start in starts) for key in keys}
        preferred = sorted(keys, key=lambda key: -takes[key])  # a stable sort: display order breaks ties
    sessions = []
    for number, start in enumerate(starts, start=1):
        found = _takers(calendars, preferred, rules, start)
        if found:
            sessions.append(Session(number, start.astimezone(rules.tz), found[0]))
            continue
        working = any(free_at(calendars[key][0], [], rules, start) for key in preferred)
        sessions.append(Session(number, start.astimezone(rules.tz), None, reason=BUSY if working else CLOSED))
    return sessions


def days_around(sessions: Sequence[Session], tz: tzinfo, *, days: int = DAYS_AROUND) -> set[date]:
    """The local days where alternatives to the sessions that do not fit are looked for."""
    wanted = {session.wanted.astimezone(tz).date() for session in sessions if not session.fits}
    return {day + timedelta(days=offset) for day in wanted for offset in range(-days, days + 1)}


def with_alternatives(
    sessions: Sequence[Session], calendars: Calendars, rules: Rules, *, therapist: Hashable | None = None
) -> list[Session]:
    """The sessions, each one that does not fit given its nearest free alternatives.

    `calendars` must cover days_around(sessions); `rules.earliest` is now, so no
    alternative is in the past.
    """
    keys = [therapist] if therapist is not None else list(calendars)
    return [
        session
        if session.fits
        else replace(session, alternatives=tuple(alternatives(session.wanted, calendars, rules, keys)))
        for session in sessions
    ]


def _within(calendars: Calendars, keys: Sequence[Hashable], rules: Rules, first: date, last: date) -> list[Slot]:
    """Free grid times of `keys` on the local days from `first` to `last`, from `rules.earliest` on."""
    window = replace(
        rules,
        earliest=max(rules.earliest.astimezone(UTC), availability.local_midnight(first, rules.tz).astimezone(UTC)),
        latest=availability.local_midnight(last + timedelta(days=1), rules.tz),
    )
    return availability.free_slots_for_many({key: calendars[key] for key in keys}, window)


def _minute_of_day(moment: datetime, tz: tzinfo) -> int:
    local = moment.astimezone(tz)
    return local.hour * 60 + local.minute


def alternatives(
    wanted: datetime, calendars: Calendars, rules: Rules, keys: Sequence[Hashable], *, days_around: int = DAYS_AROUND
) -> list[Slot]:
    """The nearest free times to `wanted` for a session that does not fit, in time order.

    For the therapists in `keys`: the SAME_DAY_CHOICES free times nearest to it that day,
    and on the nearest earlier and later days (within `days_around`) that have free time,
    the one nearest its time of day. And anyone else in `calendars` free at exactly `wanted`.
    """
    tz = rules.tz
    day = wanted.astimezone(tz).date()
    minute = _minute_of_day(wanted, tz)
    free = _within(calendars, keys, rules, day - timedelta(days=days_around), day + timedelta(days=days_around))
    by_day: dict[date, list[Slot]] = {}
    for slot in free:
        by_day.setdefault(slot.start.astimezone(tz).date(), []).append(slot)

    def nearest_in_time(slots: list[Slot]) -> list[Slot]:
        return sorted(slots, key=lambda slot: abs(_minute_of_day(slot.start, tz) - minute))

    chosen = nearest_in_time(by_day.get(day, []))[:SAME_DAY_CHOICES]
    for direction in (-1, 1):
        for distance in range(1, days_around + 1):
            other_day = by_day.get(day + timedelta(days=direction * distance))
            if other_day:
                chosen.append(nearest_in_time(other_day)[0])
                break
    others = [key for key in calendars if key not in keys]
    if wanted.astimezone(UTC) >= rules.earliest.astimezone(UTC):
        end = (wanted.astimezone(UTC) + rules.length).astimezone(tz)
        chosen += [Slot(wanted.astimezone(tz), end, key) for key in _takers(calendars, others, rules, wanted)]
    order = {key: position for position, key in enumerate(calendars)}
    unique = {(slot.start.astimezone(UTC), slot.therapist): slot for slot in chosen}
    return sorted(unique.values(), key=lambda slot: (slot.start.astimezone(UTC), order[slot.therapist]))
