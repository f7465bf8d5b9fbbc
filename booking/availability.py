"""The slot engine: which start times are free, computed from plain data.

Pure functions only: no ORM, no clock. Callers pass working intervals and
busy intervals as aware datetimes and the current time as `now`, and get
aware datetimes back. Start times lie on a grid of the clinic's wall clock
(every `step` from local midnight), so a day when clocks change offers the
same familiar times as any other day.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo


@dataclass(frozen=True, slots=True)
class Interval:
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime
    end: datetime
    therapist: Hashable = None


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
    return now + notice, local_midnight(last_day + timedelta(days=1), tz)


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


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort and join overlapping or touching intervals."""
    merged: list[Interval] = []
    for interval in sorted(intervals, key=lambda i: i.start):
        if interval.end <= interval.start:
            continue
        if merged and interval.start <= merged[-1].end:
            if interval.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, interval.end)
        else:
            merged.append(interval)
    return merged


def subtract(working: Iterable[Interval], remove: Iterable[Interval]) -> list[Interval]:
    """The parts of `working` not covered by `remove`."""
    cuts = merge(remove)
    result = []
    for interval in merge(working):
        start = interval.start
        for cut in cuts:
            if cut.end <= start or cut.start >= interval.end:
                continue
            if cut.start > start:
                result.append(Interval(start, cut.start))
            start = max(start, cut.end)
        if start < interval.end:
            result.append(Interval(start, interval.end))
    return result


def _first_grid_start(moment: datetime, step: timedelta, tz: tzinfo) -> datetime:
    """The first wall-clock grid time at or after `moment`, as an aware datetime in `tz`."""
    local = moment.astimezone(tz)
    midnight = datetime.combine(local.date(), time.min)
    wall = local.replace(tzinfo=None)
    offset = wall - midnight
    steps = -(-offset // step)
    candidate = wall_to_aware(midnight + steps * step, tz)
    while candidate < moment:
        steps += 1
        candidate = wall_to_aware(midnight + steps * step, tz)
    return candidate


def _next_grid_start(current: datetime, step: timedelta, tz: tzinfo) -> datetime:
    """The grid time after `current`: one step later on the wall clock, never earlier in real time."""
    local = current.astimezone(tz)
    following = wall_to_aware(local.replace(tzinfo=None) + step, tz)
    if following <= current:
        return _first_grid_start(current + timedelta(minutes=1), step, tz)
    return following


def free_slots(
    *,
    working: Sequence[Interval],
    busy: Iterable[Interval],
    rules: Rules,
    therapist: Hashable = None,
) -> list[Slot]:
    """Every start on the grid where a session fits inside working time and its session
    plus buffer meets nothing busy, from `rules.earliest` up to (not including) `rules.latest`."""
    length, blocked_length, step, tz = rules.length, rules.length + rules.buffer, rules.step, rules.tz
    blocked = merge(busy)
    busy_ends = [interval.end for interval in blocked]
    slots: list[Slot] = []
    for shift in merge(working):
        window_start = max(shift.start, rules.earliest)
        if window_start + length > shift.end or window_start >= rules.latest:
            continue
        start = _first_grid_start(window_start, step, tz)
        while start + length <= shift.end and start < rules.latest:
            index = bisect_right(busy_ends, start)
            if index < len(blocked) and blocked[index].start < start + blocked_length:
                start = _first_grid_start(blocked[index].end, step, tz)
                continue
            slots.append(Slot(start, start + length, therapist))
            start = _next_grid_start(start, step, tz)
    return slots


def free_slots_for_many(
    calendars: Mapping[Hashable, tuple[Sequence[Interval], Iterable[Interval]]], rules: Rules
) -> list[Slot]:
    """Slots of several therapists (key -> (working, busy)), ordered by start, then by key order."""
    order = {key: position for position, key in enumerate(calendars)}
    slots = [
        slot
        for key, (working, busy) in calendars.items()
        for slot in free_slots(working=working, busy=busy, rules=rules, therapist=key)
    ]
    slots.sort(key=lambda slot: (slot.start, order[slot.therapist]))
    return slots


def days_with_slots(slots: Iterable[Slot], tz: tzinfo) -> set[date]:
    return {slot.start.astimezone(tz).date() for slot in slots}
