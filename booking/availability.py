"""The slot engine: which start times are free, computed from plain data.

Pure functions only: no ORM, no clock. Callers pass working intervals and
busy intervals as aware datetimes and the current time as `now`, and get
aware datetimes back. Start times lie on a grid of the clinic's wall clock
(every `step` from local midnight), so a day when clocks change offers the
same familiar times as any other day.

Inside, every moment is in UTC: Python adds to and compares two datetimes of
the same ZoneInfo by their wall clocks, so on a clock-change day 01:30 plus
one hour in the clinic's zone is not one real hour later.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, TypeVar

Key = TypeVar("Key", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Interval:
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Slot:
    """A free start; `therapist` is whatever key the caller gave that therapist's calendar (a Therapist, usually)."""

    start: datetime
    end: datetime
    therapist: Any = None


@dataclass(frozen=True, slots=True)
class Rules:
    """What every search shares: session length, buffer after it, grid step, notice and horizon."""

    length: timedelta
    buffer: timedelta
    step: timedelta
    earliest: datetime
    latest: datetime
    tz: tzinfo


def booking_window(*, now: datetime, notice: timedelta, horizon_days: int, tz: tzinfo) -> tuple[datetime, datetime]:
    """Earliest start a patient may book, and the end of the last bookable local day."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    last_day = now.astimezone(tz).date() + timedelta(days=horizon_days)
    return now.astimezone(UTC) + notice, local_midnight(last_day + timedelta(days=1), tz)


def local_midnight(day: date, tz: tzinfo) -> datetime:
    return wall_to_aware(datetime.combine(day, time.min), tz)


def wall_to_aware(wall: datetime, tz: tzinfo) -> datetime:
    """Attach the zone to a wall-clock time; a time skipped by a clock change moves forward past the gap."""
    aware = wall.replace(tzinfo=tz)
    round_trip = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if round_trip != wall:
        aware = aware.astimezone(UTC).astimezone(tz)
    return aware


def working_intervals(
    weekly: Mapping[int, Iterable[tuple[time, time]]], first_day: date, last_day: date, tz: tzinfo
) -> list[Interval]:
    """Expand weekly hours (Monday is 0) into aware intervals for each local day from first to last."""
    intervals = []
    day = first_day
    while day <= last_day:
        for start, end in sorted(weekly.get(day.weekday(), ())):
            if start < end:
                intervals.append(
                    Interval(
                        wall_to_aware(datetime.combine(day, start), tz),
                        wall_to_aware(datetime.combine(day, end), tz),
                    )
                )
        day += timedelta(days=1)
    return intervals


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort and join overlapping or touching intervals, in real time; the result is in UTC."""
    merged: list[Interval] = []
    for interval in sorted((Interval(_utc(i.start), _utc(i.end)) for i in intervals), key=lambda i: i.start):
        if interval.end <= interval.start:
            continue
        if merged and interval.start <= merged[-1].end:
            if interval.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, interval.end)
        else:
            merged.append(interval)
    return merged


def _first_grid_start(moment: datetime, step: timedelta, tz: tzinfo) -> datetime:
    """The first wall-clock grid time at or after `moment` that exists in `tz`, in UTC.

    The grid restarts at each local midnight. A grid time skipped by spring forward is
    not offered (moving it past the gap would put it off the grid), and a repeated one
    counts at its first occurrence.
    """
    moment = _utc(moment)
    local = moment.astimezone(tz).replace(tzinfo=None, fold=0)
    midnight = datetime.combine(local.date(), time.min)
    steps = -(-(local - midnight) // step)
    while True:
        wall = midnight + steps * step
        if wall.date() != midnight.date():
            midnight, steps = datetime.combine(wall.date(), time.min), 0
            continue
        candidate = _utc(wall.replace(tzinfo=tz))
        if candidate >= moment and candidate.astimezone(tz).replace(tzinfo=None) == wall:
            return candidate
        steps += 1


def _next_grid_start(current: datetime, step: timedelta, tz: tzinfo) -> datetime:
    """The grid time after `current`, in UTC."""
    return _first_grid_start(current + timedelta(microseconds=1), step, tz)


def free_slots(
    *,
    working: Sequence[Interval],
    busy: Iterable[Interval],
    rules: Rules,
    therapist: Hashable = None,
) -> list[Slot]:
    """Every start on the grid where a session fits inside working time and its session
    plus buffer meets nothing busy, from `rules.earliest` up to (not including) `rules.latest`.
    Slots are given in `rules.tz`."""
    length, blocked_length, step, tz = rules.length, rules.length + rules.buffer, rules.step, rules.tz
    earliest, latest = _utc(rules.earliest), _utc(rules.latest)
    blocked = merge(busy)
    busy_ends = [interval.end for interval in blocked]
    slots: list[Slot] = []
    for shift in merge(working):
        window_start = max(shift.start, earliest)
        if window_start + length > shift.end or window_start >= latest:
            continue
        start = _first_grid_start(window_start, step, tz)
        while start + length <= shift.end and start < latest:
            index = bisect_right(busy_ends, start)
            if index < len(blocked) and blocked[index].start < start + blocked_length:
                start = _first_grid_start(blocked[index].end, step, tz)
                continue
            slots.append(Slot(start.astimezone(tz), (start + length).astimezone(tz), therapist))
            start = _next_grid_start(start, step, tz)
    return slots


def free_slots_for_many(
    calendars: Mapping[Key, tuple[Sequence[Interval], Iterable[Interval]]], rules: Rules
) -> list[Slot]:
    """Slots of several therapists (key -> (working, busy)), ordered by start, then by key order."""
    order = {key: position for position, key in enumerate(calendars)}
    slots = [
        slot
        for key, (working, busy) in calendars.items()
        for slot in free_slots(working=working, busy=busy, rules=rules, therapist=key)
    ]
    slots.sort(key=lambda slot: (_utc(slot.start), order[slot.therapist]))
    return slots
