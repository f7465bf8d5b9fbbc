"""The waitlist's decisions, over plain data: which times suit a patient, and who is offered which freed time.

Pure functions only: no ORM, no clock. `booking.waitlist_services` loads the waiting patients and the free
slots (from the slot engine), passes the clock in, and writes what `match` decides.

What suits a patient is a set of (weekday, part of day) pairs, stored as bits of one number: bit
`weekday * 3 + part`, Monday is weekday 0. A session suits them when its start, on the clinic's clock, falls
on one of their weekdays in one of their parts of the day.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from enum import IntEnum
from typing import Any

from booking.availability import Interval, merge


class Part(IntEnum):
    """A part of the day, by when a session starts on the clinic's clock."""

    MORNING = 0
    AFTERNOON = 1
    EVENING = 2

    @property
    def label(self) -> str:
        return PART_LABELS[self]


PART_LABELS = {Part.MORNING: "Morning", Part.AFTERNOON: "Afternoon", Part.EVENING: "Evening"}
PART_HINTS = {Part.MORNING: "before noon", Part.AFTERNOON: "noon to 5 pm", Part.EVENING: "5 pm on"}
NOON = time(12)
FIVE_PM = time(17)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SHORT_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Every weekday, every part of the day: "any time suits me".
ANY_TIME = (1 << (7 * len(Part))) - 1

# An offer shorter than this is not worth sending: nobody reads their email and books in five minutes.
SHORTEST_OFFER = timedelta(minutes=15)


def bit(weekday: int, part: Part) -> int:
    if not 0 <= weekday <= 6:
        raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), not {weekday}")
    return 1 << (weekday * len(Part) + part)


def mask_of(pairs: Iterable[tuple[int, Part]]) -> int:
    """The stored number for a set of (weekday, part) pairs; none at all means any time."""
    mask = 0
    for weekday, part in pairs:
        mask |= bit(weekday, part)
    return mask or ANY_TIME


def pairs_of(mask: int) -> set[tuple[int, Part]]:
    return {(weekday, part) for weekday in range(7) for part in Part if mask & bit(weekday, part)}


def part_of_day(moment: time) -> Part:
    if moment < NOON:
        return Part.MORNING
    if moment < FIVE_PM:
        return Part.AFTERNOON
    return Part.EVENING


def suits(mask: int, start: datetime, tz: tzinfo) -> bool:
    """Whether a session starting at `start` (aware) suits someone with this mask, on the clinic's clock."""
    local = start.astimezone(tz)
    return bool(mask & bit(local.weekday(), part_of_day(local.time())))


def open_parts(weekly: Mapping[int, Iterable[tuple[time, time]]]) -> dict[int, set[Part]]:
    """The parts of each weekday in which a session could start, given working hours (Monday is 0).

    A morning needs hours beginning before noon; an afternoon, hours between noon and 5 pm; an evening, hours
    running past 5 pm.
    """
    found: dict[int, set[Part]] = {}
    for weekday, intervals in weekly.items():
        for opens, closes in intervals:
            parts = found.setdefault(weekday, set())
            if opens < NOON:
                parts.add(Part.MORNING)
            if opens < FIVE_PM and closes > NOON:
                parts.add(Part.AFTERNOON)
            if closes > FIVE_PM:
                parts.add(Part.EVENING)
    return {weekday: parts for weekday, parts in found.items() if parts}


def _days_text(days: Sequence[int]) -> str:
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    words: list[str] = []
    for run in runs:
        if len(run) >= 3:
            words.append(f"{SHORT_WEEKDAYS[run[0]]}–{SHORT_WEEKDAYS[run[-1]]}")
        else:
            words.extend(SHORT_WEEKDAYS[day] for day in run)
    return ", ".join(words)


def _parts_text(parts: Collection[Part]) -> str:
    if len(parts) == len(Part):
        return "any time"
    return " and ".join(PART_LABELS[part].lower() + "s" for part in sorted(parts))


def describe(mask: int) -> str:
    """What suits a patient, in a few words: "Any day, any time", "Mon–Fri: mornings", "Tue, Thu: evenings"."""
    if mask & ANY_TIME == ANY_TIME:
        return "Any day, any time"
    by_day: dict[int, frozenset[Part]] = {}
    for weekday, part in pairs_of(mask):
        by_day[weekday] = by_day.get(weekday, frozenset()) | {part}
    groups: dict[frozenset[Part], list[int]] = {}
    for weekday in sorted(by_day):
        groups.setdefault(by_day[weekday], []).append(weekday)
    lines = [f"{_days_text(days)}: {_parts_text(parts)}" for parts, days in groups.items()]
    return "; ".join(lines) or "Any day, any time"


# --- offering freed time ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Wish:
    """A waiting patient as the matcher sees them.

    `length` is the key of the service and length they want (whatever the caller uses, e.g. (service id,
    minutes)); `therapist` the one they asked for, or None for anyone; `patient` whose wish it is, so one
    person is offered one time at a time even if they joined twice.
    """

    key: Any
    joined: datetime
    length: Any
    therapist: Any
    suits: int
    patient: Any = None


@dataclass(frozen=True, slots=True)
class Opening:
    """A free start for one length, with its end and the end of its buffer (nothing else may start before it)."""

    start: datetime
    end: datetime
    blocked_until: datetime


@dataclass(frozen=True, slots=True)
class Match:
    wish: Wish
    opening: Opening


def touches(opening: Opening, intervals: Iterable[Interval]) -> bool:
    """Whether a session at `opening`, its buffer included, uses any of `intervals` (freed stretches: only then is
    it new free time; times held by open offers: then it cannot be offered again)."""
    return any(opening.start < interval.end and interval.start < opening.blocked_until for interval in intervals)


def match(
    wishes: Iterable[Wish],
    openings: Mapping[Any, Sequence[Opening]],
    *,
    therapist: Hashable,
    tz: tzinfo,
    held: Iterable[Interval] = (),
    offered_before: Collection[tuple[Hashable, datetime]] = (),
    busy_patients: Collection[Hashable] = (),
) -> list[Match]:
    """Who is offered which of one therapist's free times: each wish in order of joining gets the earliest
    opening of its length that suits it, if any, and each opening goes to one patient at a time.

    `openings` maps a length key to that length's free starts with `therapist`. `held` are that therapist's
    times already offered to someone and not yet answered (start to end of buffer); no new offer overlaps
    them or each other. `offered_before` holds (wish key, start in UTC) pairs a patient was offered already
    and let go: not offered to them again. `busy_patients` already hold an open offer and get none now.
    """
    taken = list(held)
    busy = set(busy_patients)
    matches: list[Match] = []
    for wish in sorted(wishes, key=lambda wish: (wish.joined, str(wish.key))):
        if wish.therapist is not None and wish.therapist != therapist:
            continue
        if wish.patient is not None and wish.patient in busy:
            continue
        for opening in sorted(openings.get(wish.length, ()), key=lambda opening: opening.start):
            if not suits(wish.suits, opening.start, tz):
                continue
            if (wish.key, _utc_key(opening.start)) in offered_before:
                continue
            if touches(opening, taken):
                continue
            matches.append(Match(wish, opening))
            taken.append(Interval(opening.start, opening.blocked_until))
            if wish.patient is not None:
                busy.add(wish.patient)
            break
    return matches


def _utc_key(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def offer_expiry(*, now: datetime, lifetime: timedelta, start: datetime, notice: timedelta) -> datetime | None:
    """When an offer of a session at `start` made at `now` lapses: after the clinic's offer lifetime, or
    earlier, when the time comes too close to book online. None if that leaves too little time to answer."""
    if now.tzinfo is None or start.tzinfo is None:
        raise ValueError("now and start must be aware datetimes")
    expires = min(now + lifetime, start - notice)
    if expires - now < SHORTEST_OFFER:
        return None
    return expires


def gained(before: Iterable[Interval], after: Iterable[Interval]) -> list[Interval]:
    """The parts of `after` not in `before`: the time a change to hours or time off opened up."""
    old = merge(before)
    found: list[Interval] = []
    for interval in merge(after):
        start = interval.start
        for covered in old:
            if covered.end <= start or covered.start >= interval.end:
                continue
            if covered.start > start:
                found.append(Interval(start, covered.start))
            start = max(start, covered.end)
            if start >= interval.end:
                break
        if start < interval.end:
            found.append(Interval(start, interval.end))
    return found
