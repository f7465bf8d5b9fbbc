"""Is a session still covered by its therapist's time? Pure functions over plain data: no ORM, no clock.

A session is covered when it lies inside one stretch of working time and meets
no time off, and its therapist works at all (is active). A change to a
therapist's time (new weekly hours, time off, going inactive) strands the
sessions it leaves uncovered; `newly_stranded` names those, leaving out
sessions that were already uncovered before the change, which somebody has
already been told about.

Weekly hours are wall-clock times in the clinic's zone, expanded day by day
with the slot engine's own `working_intervals`, so a week when the clocks
change gives the same local hours as any other.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import TypeVar

from booking.availability import Interval, merge, working_intervals

Key = TypeVar("Key", bound=Hashable)


@dataclass(frozen=True)
class Schedule:
    """A therapist's time: weekly hours (Monday is 0) on the clinic's clock, time off, and whether they work."""

    weekly: Mapping[int, Sequence[tuple[time, time]]]
    time_off: Sequence[Interval] = field(default_factory=tuple)
    active: bool = True


def is_covered(start: datetime, end: datetime, working: Sequence[Interval], time_off: Sequence[Interval]) -> bool:
    """[start, end) lies inside one stretch of working time and meets no time off.

    `working` and `time_off` must be merged (sorted, in UTC, as `availability.merge` returns them).
    Touching is fine: a session may end exactly when time off starts.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be aware datetimes")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return False
    index = bisect_right([interval.start for interval in working], start) - 1
    if index < 0 or working[index].end < end:
        return False
    after = bisect_right([interval.end for interval in time_off], start)
    return after == len(time_off) or time_off[after].start >= end


def _coverage(schedule: Schedule, first: datetime, last: datetime, tz: tzinfo):
    """A test `(start, end) -> covered?` for sessions between `first` and `last` under `schedule`."""
    if not schedule.active:
        return lambda start, end: False
    # A day of margin each side: the local day of a UTC moment can be the day before or after.
    first_day = first.astimezone(tz).date() - timedelta(days=1)
    last_day = last.astimezone(tz).date() + timedelta(days=1)
    working = merge(working_intervals(schedule.weekly, first_day, last_day, tz))
    time_off = merge(schedule.time_off)
    return lambda start, end: is_covered(start, end, working, time_off)


def newly_stranded(sessions: Mapping[Key, Interval], before: Schedule, after: Schedule, tz: tzinfo) -> list[Key]:
    """The keys of the sessions that `before` covers and `after` does not, in the order given."""
    if not sessions:
        return []
    first = min(session.start for session in sessions.values())
    last = max(session.end for session in sessions.values())
    covered_before = _coverage(before, first, last, tz)
    covered_after = _coverage(after, first, last, tz)
    return [
        key
        for key, session in sessions.items()
        if covered_before(session.start, session.end) and not covered_after(session.start, session.end)
    ]
