"""The slot engine on plain data: no database, no clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking.availability import (
    Interval,
    Rules,
    Slot,
    booking_window,
    free_slots,
    free_slots_for_many,
    local_midnight,
    merge,
    wall_to_aware,
    working_intervals,
)

TORONTO = ZoneInfo("America/Toronto")
SPRING_FORWARD = date(2026, 3, 8)  # 02:00 EST becomes 03:00 EDT
FALL_BACK = date(2026, 11, 1)  # 02:00 EDT becomes 01:00 EST
NORMAL_SUNDAY = date(2026, 3, 15)
TUESDAY = date(2026, 12, 8)

EST = timedelta(hours=-5)
EDT = timedelta(hours=-4)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TORONTO)


def shift(day: date, start: tuple[int, int], end: tuple[int, int]) -> Interval:
    return Interval(at(day, *start), at(day, *end))


def make_rules(
    *,
    length: int = 60,
    buffer: int = 0,
    step: int = 15,
    earliest: datetime | None = None,
    latest: datetime | None = None,
) -> Rules:
    return Rules(
        length=timedelta(minutes=length),
        buffer=timedelta(minutes=buffer),
        step=timedelta(minutes=step),
        earliest=earliest or datetime(2000, 1, 1, tzinfo=UTC),
        latest=latest or datetime(2100, 1, 1, tzinfo=UTC),
        tz=TORONTO,
    )


def utc(moment: datetime) -> datetime:
    """Aware arithmetic and comparisons inside one ZoneInfo follow the wall clock; in UTC they are absolute."""
    return moment.astimezone(UTC)


def real_length(start: datetime, end: datetime) -> timedelta:
    return utc(end) - utc(start)


def wall_starts(slots: list[Slot]) -> list[str]:
    return [f"{slot.start.astimezone(TORONTO):%H:%M}" for slot in slots]


def grid(first: str, last: str, step: int) -> list[str]:
    """Wall times from `first` to `last` inclusive, every `step` minutes, as HH:MM."""
    start = datetime.combine(TUESDAY, time.fromisoformat(first))
    end = datetime.combine(TUESDAY, time.fromisoformat(last))
    times = []
    while start <= end:
        times.append(f"{start:%H:%M}")
        start += timedelta(minutes=step)
    return times


# --- working hours, breaks, split shifts ---------------------------------------------------------


def test_working_hours_offer_every_step_where_a_session_fits():
    slots = free_slots(working=[shift(TUESDAY, (9, 0), (12, 0))], busy=[], rules=make_rules(length=60, step=30))

    assert wall_starts(slots) == ["09:00", "09:30", "10:00", "10:30", "11:00"]
    assert all(real_length(slot.start, slot.end) == timedelta(minutes=60) for slot in slots)


def test_session_must_end_inside_working_hours():
    slots = free_slots(working=[shift(TUESDAY, (9, 0), (10, 50))], busy=[], rules=make_rules(length=60, step=15))

    assert wall_starts(slots) == ["09:00", "09:15", "09:30", "09:45"]
    assert slots[-1].end <= at(TUESDAY, 10, 50)


def test_shift_shorter_than_a_session_offers_nothing():
    slots = free_slots(working=[shift(TUESDAY, (9, 0), (9, 45))], busy=[], rules=make_rules(length=60))

    assert slots == []


def test_buffer_may_run_past_the_end_of_working_hours():
    slots = free_slots(
        working=[shift(TUESDAY, (9, 0), (11, 0))], busy=[], rules=make_rules(length=60, buffer=15, step=60)
    )

    assert wall_starts(slots) == ["09:00", "10:00"]


def test_lunch_break_splits_the_day_and_no_session_crosses_it():
    working = [shift(TUESDAY, (9, 0), (12, 0)), shift(TUESDAY, (13, 0), (17, 0))]

    slots = free_slots(working=working, busy=[], rules=make_rules(length=60, step=30))

    assert wall_starts(slots) == grid("09:00", "11:00", 30) + grid("13:00", "16:00", 30)
    assert not any(slot.start < at(TUESDAY, 13) and slot.end > at(TUESDAY, 12) for slot in slots)


def test_several_intervals_a_day_each_offer_slots():
    working = [
        shift(TUESDAY, (7, 0), (8, 0)),
        shift(TUESDAY, (12, 0), (13, 30)),
        shift(TUESDAY, (18, 0), (19, 0)),
    ]

    slots = free_slots(working=working, busy=[], rules=make_rules(length=60, step=30))

    assert wall_starts(slots) == ["07:00", "12:00", "12:30", "18:00"]


def test_touching_intervals_join_so_a_session_can_span_them():
    working = [shift(TUESDAY, (10, 0), (11, 0)), shift(TUESDAY, (9, 0), (10, 0))]

    slots = free_slots(working=working, busy=[], rules=make_rules(length=90, step=30))

    assert wall_starts(slots) == ["09:00", "09:30"]


def test_working_intervals_expand_weekly_hours_into_local_days():
    weekly = {
        1: [(time(13), time(17)), (time(9), time(12))],  # Tuesday, split shift, given out of order
        3: [(time(10), time(14))],  # Thursday
        4: [(time(12), time(12))],  # Friday: empty, ignored
    }

    intervals = working_intervals(weekly, date(2026, 12, 7), date(2026, 12, 13), TORONTO)

    assert intervals == [
        shift(date(2026, 12, 8), (9, 0), (12, 0)),
        shift(date(2026, 12, 8), (13, 0), (17, 0)),
        shift(date(2026, 12, 10), (10, 0), (14, 0)),
    ]


def test_working_intervals_on_clock_change_days_keep_wall_times_and_take_the_right_offsets():
    weekly = {6: [(time(0), time(5)), (time(9), time(17))]}

    spring = working_intervals(weekly, SPRING_FORWARD, SPRING_FORWARD, TORONTO)
    fall = working_intervals(weekly, FALL_BACK, FALL_BACK, TORONTO)

    assert [(i.start.utcoffset(), i.end.utcoffset()) for i in spring] == [(EST, EDT), (EDT, EDT)]
    assert real_length(spring[0].start, spring[0].end) == timedelta(hours=4)
    assert [(i.start.utcoffset(), i.end.utcoffset()) for i in fall] == [(EDT, EST), (EST, EST)]
    assert real_length(fall[0].start, fall[0].end) == timedelta(hours=6)
    assert all(real_length(i.start, i.end) == timedelta(hours=8) for i in (spring[1], fall[1]))


# --- busy time: appointments, buffers, time off -------------------------------------------------


def test_existing_appointment_blocks_the_slots_it_overlaps():
    appointment = Interval(at(TUESDAY, 10), at(TUESDAY, 11))

    slots = free_slots(working=[shift(TUESDAY, (9, 0), (13, 0))], busy=[appointment], rules=make_rules(length=60))

    assert wall_starts(slots) == ["09:00", "11:00", "11:15", "11:30", "11:45", "12:00"]


def test_buffer_blocks_slot_right_after_appointment():
    # An appointment's busy interval runs to its blocked_until: its end plus its own buffer.
    appointment = Interval(at(TUESDAY, 10), at(TUESDAY, 11, 15))

    slots = free_slots(
        working=[shift(TUESDAY, (9, 0), (13, 0))], busy=[appointment], rules=make_rules(length=60, buffer=15)
    )

    assert "11:00" not in wall_starts(slots)
    assert wall_starts(slots) == ["11:15", "11:30", "11:45", "12:00"]


def test_session_plus_buffer_may_not_run_into_the_next_appointment():
    next_appointment = Interval(at(TUESDAY, 11), at(TUESDAY, 12))

    without_buffer = free_slots(
        working=[shift(TUESDAY, (9, 0), (11, 0))], busy=[next_appointment], rules=make_rules(length=60, buffer=0)
    )
    with_buffer = free_slots(
        working=[shift(TUESDAY, (9, 0), (11, 0))], busy=[next_appointment], rules=make_rules(length=60, buffer=15)
    )

    assert wall_starts(without_buffer) == ["09:00", "09:15", "09:30", "09:45", "10:00"]
    assert wall_starts(with_buffer) == ["09:00", "09:15", "09:30", "09:45"]


def test_session_plus_buffer_may_end_exactly_where_the_next_appointment_starts():
    next_appointment = Interval(at(TUESDAY, 10, 15), at(TUESDAY, 11))

    slots = free_slots(
        working=[shift(TUESDAY, (9, 0), (10, 15))], busy=[next_appointment], rules=make_rules(length=60, buffer=15)
    )

    assert wall_starts(slots) == ["09:00"]


def test_time_off_removes_the_hours_it_covers():
    time_off = Interval(at(TUESDAY, 11), at(TUESDAY, 15))

    slots = free_slots(working=[shift(TUESDAY, (9, 0), (17, 0))], busy=[time_off], rules=make_rules(length=60, step=60))

    assert wall_starts(slots) == ["09:00", "10:00", "15:00", "16:00"]


def test_time_off_over_several_days_removes_them_all():
    working = [shift(TUESDAY + timedelta(days=n), (9, 0), (17, 0)) for n in range(4)]
    time_off = Interval(at(TUESDAY, 12), at(TUESDAY + timedelta(days=2), 12))

    slots = free_slots(working=working, busy=[time_off], rules=make_rules(length=60, step=60))

    assert {slot.start.astimezone(TORONTO).date() for slot in slots} == {
        TUESDAY,
        TUESDAY + timedelta(days=2),
        TUESDAY + timedelta(days=3),
    }
    assert all(not (time_off.start < slot.end and slot.start < time_off.end) for slot in slots)


def test_after_a_busy_interval_off_the_grid_the_next_slot_is_on_the_grid():
    appointment = Interval(at(TUESDAY, 9), at(TUESDAY, 10, 7))

    slots = free_slots(working=[shift(TUESDAY, (9, 0), (12, 0))], busy=[appointment], rules=make_rules(length=60))

    assert wall_starts(slots)[0] == "10:15"


def test_overlapping_busy_intervals_are_handled_like_their_union():
    busy = [
        Interval(at(TUESDAY, 10), at(TUESDAY, 11)),
        Interval(at(TUESDAY, 10, 30), at(TUESDAY, 12)),
        Interval(at(TUESDAY, 9, 0), at(TUESDAY, 9, 15)),
    ]

    slots = free_slots(working=[shift(TUESDAY, (9, 0), (14, 0))], busy=busy, rules=make_rules(length=30, step=15))

    assert wall_starts(slots) == ["09:15", "09:30"] + grid("12:00", "13:30", 15)


# --- grid, notice and horizon -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (15, ["09:15", "09:30", "09:45", "10:00"]),
        (20, ["09:20", "09:40", "10:00"]),
        (30, ["09:30", "10:00"]),
    ],
)
def test_starts_are_aligned_to_the_local_wall_clock(step, expected):
    slots = free_slots(working=[shift(TUESDAY, (9, 10), (11, 0))], busy=[], rules=make_rules(length=60, step=step))

    assert wall_starts(slots) == expected


def test_shift_starting_at_9_10_first_offers_9_15():
    slots = free_slots(working=[shift(TUESDAY, (9, 10), (17, 0))], busy=[], rules=make_rules(length=60, step=15))

    assert slots[0].start == at(TUESDAY, 9, 15)


def test_grid_follows_the_wall_clock_not_utc_in_a_half_hour_zone():
    newfoundland = ZoneInfo("America/St_Johns")
    working = [
        Interval(datetime(2026, 12, 8, 9, 10, tzinfo=newfoundland), datetime(2026, 12, 8, 11, tzinfo=newfoundland))
    ]
    rules = Rules(
        length=timedelta(minutes=60),
        buffer=timedelta(0),
        step=timedelta(minutes=60),
        earliest=datetime(2000, 1, 1, tzinfo=UTC),
        latest=datetime(2100, 1, 1, tzinfo=UTC),
        tz=newfoundland,
    )

    slots = free_slots(working=working, busy=[], rules=rules)

    assert [slot.start.astimezone(newfoundland).time() for slot in slots] == [time(10)]


def test_minimum_notice_hides_starts_before_now_plus_notice():
    now = at(TUESDAY, 8, 50)
    earliest, latest = booking_window(now=now, notice=timedelta(hours=2), horizon_days=30, tz=TORONTO)

    slots = free_slots(
        working=[shift(TUESDAY, (9, 0), (13, 0))],
        busy=[],
        rules=make_rules(length=60, earliest=earliest, latest=latest),
    )

    assert earliest == at(TUESDAY, 10, 50)
    assert wall_starts(slots) == ["11:00", "11:15", "11:30", "11:45", "12:00"]


def test_a_start_exactly_at_now_plus_notice_is_offered():
    earliest, latest = booking_window(now=at(TUESDAY, 8), notice=timedelta(hours=2), horizon_days=30, tz=TORONTO)

    slots = free_slots(
        working=[shift(TUESDAY, (9, 0), (12, 0))], busy=[], rules=make_rules(earliest=earliest, latest=latest)
    )

    assert slots[0].start == at(TUESDAY, 10)


def test_horizon_ends_after_the_last_local_day():
    now = at(TUESDAY, 23, 30)  # 04:30 UTC the next day: the local date must decide
    earliest, latest = booking_window(now=now, notice=timedelta(0), horizon_days=2, tz=TORONTO)
    working = [shift(TUESDAY + timedelta(days=n), (9, 0), (10, 0)) for n in range(5)]

    slots = free_slots(working=working, busy=[], rules=make_rules(length=60, earliest=earliest, latest=latest))

    assert latest == local_midnight(TUESDAY + timedelta(days=3), TORONTO)
    assert [slot.start for slot in slots] == [at(TUESDAY + timedelta(days=n), 9) for n in (1, 2)]


def test_horizon_cuts_starts_but_a_session_may_end_after_it():
    latest = at(TUESDAY, 10)

    slots = free_slots(
        working=[shift(TUESDAY, (9, 0), (12, 0))], busy=[], rules=make_rules(length=60, step=30, latest=latest)
    )

    assert wall_starts(slots) == ["09:00", "09:30"]


def test_booking_window_refuses_a_naive_now():
    with pytest.raises(ValueError, match="aware"):
        booking_window(now=datetime(2026, 12, 7, 8), notice=timedelta(0), horizon_days=1, tz=TORONTO)


def test_booking_window_horizon_counts_local_days_across_a_clock_change():
    earliest, latest = booking_window(
        now=at(date(2026, 3, 7), 12), notice=timedelta(minutes=30), horizon_days=1, tz=TORONTO
    )

    assert earliest == at(date(2026, 3, 7), 12, 30)
    assert latest == at(date(2026, 3, 9), 0)
    assert real_length(earliest, latest) == timedelta(hours=34, minutes=30)


# --- clock changes in America/Toronto ------------------------------------------------------------


@pytest.mark.parametrize("day", [SPRING_FORWARD, FALL_BACK], ids=["spring-forward", "fall-back"])
def test_working_9_to_17_on_a_clock_change_day_gives_the_same_wall_times_as_a_normal_day(day):
    weekly = {6: [(time(9), time(17))]}
    rules = make_rules(length=60, step=15)

    normal = free_slots(working=working_intervals(weekly, NORMAL_SUNDAY, NORMAL_SUNDAY, TORONTO), busy=[], rules=rules)
    changed = free_slots(working=working_intervals(weekly, day, day, TORONTO), busy=[], rules=rules)

    assert wall_starts(changed) == wall_starts(normal) == grid("09:00", "16:00", 15)
    assert all(real_length(slot.start, slot.end) == timedelta(minutes=60) for slot in changed)
    expected_offset = EDT if day == SPRING_FORWARD else EST
    assert {slot.start.utcoffset() for slot in changed} == {expected_offset}
    assert {slot.end.astimezone(TORONTO).utcoffset() for slot in changed} == {expected_offset}


def test_spring_forward_night_shift_skips_the_missing_hour():
    working = working_intervals({6: [(time(0), time(5))]}, SPRING_FORWARD, SPRING_FORWARD, TORONTO)

    slots = free_slots(working=working, busy=[], rules=make_rules(length=60, step=60))

    local = [slot.start.astimezone(TORONTO) for slot in slots]
    assert [f"{start:%H:%M}" for start in local] == ["00:00", "01:00", "03:00", "04:00"]
    assert [start.utcoffset() for start in local] == [EST, EST, EDT, EDT]
    assert [slot.start.astimezone(UTC).hour for slot in slots] == [5, 6, 7, 8]
    assert all(real_length(slot.start, slot.end) == timedelta(hours=1) for slot in slots)
    # Back to back in real time: none overlaps the next and none is lost.
    assert all(utc(earlier.end) == utc(later.start) for earlier, later in zip(slots, slots[1:], strict=False))
    assert slots[1].end.astimezone(TORONTO).time() == time(3)


def test_spring_forward_night_shift_with_a_fine_grid_has_no_duplicates():
    working = working_intervals({6: [(time(0), time(5))]}, SPRING_FORWARD, SPRING_FORWARD, TORONTO)

    slots = free_slots(working=working, busy=[], rules=make_rules(length=30, step=15))

    assert wall_starts(slots) == grid("00:00", "01:45", 15) + grid("03:00", "04:30", 15)
    starts = [slot.start for slot in slots]
    assert [utc(start) for start in starts] == sorted({utc(start) for start in starts})
    assert all(real_length(slot.start, slot.end) == timedelta(minutes=30) for slot in slots)
    assert all(utc(slot.end) <= utc(working[0].end) for slot in slots)
    # 01:45 EST plus 30 real minutes is 03:15 EDT.
    assert slots[7].end.astimezone(TORONTO).replace(tzinfo=None) == datetime(2026, 3, 8, 3, 15)


def test_fall_back_night_shift_offers_each_wall_time_once():
    working = working_intervals({6: [(time(0), time(5))]}, FALL_BACK, FALL_BACK, TORONTO)

    slots = free_slots(working=working, busy=[], rules=make_rules(length=60, step=60))

    local = [slot.start.astimezone(TORONTO) for slot in slots]
    assert [f"{start:%H:%M}" for start in local] == ["00:00", "01:00", "02:00", "03:00", "04:00"]
    assert [start.utcoffset() for start in local] == [EDT, EDT, EST, EST, EST]
    assert [slot.start.astimezone(UTC).hour for slot in slots] == [4, 5, 7, 8, 9]
    assert all(real_length(slot.start, slot.end) == timedelta(hours=1) for slot in slots)
    assert all(utc(earlier.end) <= utc(later.start) for earlier, later in zip(slots, slots[1:], strict=False))
    assert utc(slots[-1].end) == utc(working[0].end)


def test_fall_back_night_shift_with_a_fine_grid_has_no_duplicates_or_overlaps():
    working = working_intervals({6: [(time(0), time(5))]}, FALL_BACK, FALL_BACK, TORONTO)

    slots = free_slots(working=working, busy=[], rules=make_rules(length=30, step=30))

    assert wall_starts(slots) == grid("00:00", "04:30", 30)
    starts = [slot.start for slot in slots]
    assert [utc(start) for start in starts] == sorted({utc(start) for start in starts})
    assert all(utc(earlier.end) <= utc(later.start) for earlier, later in zip(slots, slots[1:], strict=False))
    assert all(real_length(slot.start, slot.end) == timedelta(minutes=30) for slot in slots)
    assert [slot.start.utcoffset() for slot in slots if slot.start.hour == 1] == [EDT, EDT]


def test_fall_back_busy_until_the_repeated_hour_resumes_on_the_grid():
    # Busy until 01:20 EST (the second 01:20): the next wall-clock grid time after it is 02:00 EST.
    working = working_intervals({6: [(time(0), time(5))]}, FALL_BACK, FALL_BACK, TORONTO)
    busy_until = datetime(2026, 11, 1, 6, 20, tzinfo=UTC)
    assert busy_until.astimezone(TORONTO).utcoffset() == EST

    slots = free_slots(
        working=working, busy=[Interval(working[0].start, busy_until)], rules=make_rules(length=30, step=15)
    )

    assert slots[0].start == datetime(2026, 11, 1, 7, 0, tzinfo=UTC)
    assert f"{slots[0].start.astimezone(TORONTO):%H:%M}" == "02:00"


def test_spring_forward_session_across_the_gap_does_not_run_into_a_later_appointment():
    # 01:30 EST plus two real hours is 04:30 EDT, not 03:30: an appointment at 03:45 EDT is in the way.
    working = working_intervals({6: [(time(0), time(5))]}, SPRING_FORWARD, SPRING_FORWARD, TORONTO)
    appointment = Interval(datetime(2026, 3, 8, 7, 45, tzinfo=UTC), datetime(2026, 3, 8, 8, 15, tzinfo=UTC))

    slots = free_slots(working=working, busy=[appointment], rules=make_rules(length=120, step=30))

    assert "01:30" not in wall_starts(slots)
    assert all(not overlaps(slot.start, slot.end, appointment) for slot in slots)
    assert wall_starts(slots) == ["00:00", "00:30"]


def test_fall_back_session_ending_in_the_repeated_hour_is_offered():
    # 01:00 EDT plus one real hour is 01:00 EST, exactly when the next appointment starts.
    working = working_intervals({6: [(time(0), time(5))]}, FALL_BACK, FALL_BACK, TORONTO)
    appointment = Interval(datetime(2026, 11, 1, 6, 0, tzinfo=UTC), datetime(2026, 11, 1, 7, 0, tzinfo=UTC))

    slots = free_slots(working=working, busy=[appointment], rules=make_rules(length=60, step=60))

    assert [utc(slot.start).hour for slot in slots] == [4, 5, 7, 8, 9]
    assert utc(slots[1].end) == appointment.start
    assert slots[1].end.astimezone(TORONTO).utcoffset() == EST


def test_busy_times_in_the_clinic_zone_and_in_utc_block_alike():
    working = working_intervals({6: [(time(0), time(5))]}, FALL_BACK, FALL_BACK, TORONTO)
    in_utc = Interval(datetime(2026, 11, 1, 6, 30, tzinfo=UTC), datetime(2026, 11, 1, 7, 30, tzinfo=UTC))
    in_toronto = Interval(in_utc.start.astimezone(TORONTO), in_utc.end.astimezone(TORONTO))
    rules = make_rules(length=30, step=15)

    assert free_slots(working=working, busy=[in_utc], rules=rules) == free_slots(
        working=working, busy=[in_toronto], rules=rules
    )


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (45, ["00:00", "00:45", "01:30", "03:00", "03:45", "04:30", "05:15", "06:00", "06:45"]),
        (90, ["00:00", "01:30", "03:00", "04:30", "06:00"]),
        (120, ["00:00", "04:00", "06:00"]),
    ],
)
def test_spring_forward_grid_of_a_step_not_dividing_the_hour_resumes_on_the_grid(step, expected):
    # 02:15 (step 45) and 02:00 (step 120) do not exist that night; the grid is not shifted by the gap.
    working = working_intervals({6: [(time(0), time(8))]}, SPRING_FORWARD, SPRING_FORWARD, TORONTO)

    slots = free_slots(working=working, busy=[], rules=make_rules(length=60, step=step))

    assert wall_starts(slots) == expected


def test_wall_to_aware_moves_a_skipped_time_past_the_gap():
    aware = wall_to_aware(datetime(2026, 3, 8, 2, 30), TORONTO)

    assert aware.replace(tzinfo=None) == datetime(2026, 3, 8, 3, 30)
    assert aware.utcoffset() == EDT
    assert aware.astimezone(UTC) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


def test_wall_to_aware_takes_the_first_of_a_repeated_time():
    aware = wall_to_aware(datetime(2026, 11, 1, 1, 30), TORONTO)

    assert aware.utcoffset() == EDT
    assert aware.astimezone(UTC) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


# --- several therapists -------------------------------------------------------------------------


def test_free_slots_for_many_orders_by_start_then_by_calendar_order_and_keys_each_slot():
    calendars = {
        "sam": ([shift(TUESDAY, (9, 0), (11, 0))], [Interval(at(TUESDAY, 9), at(TUESDAY, 10))]),
        "alex": ([shift(TUESDAY, (9, 0), (11, 0))], []),
        "jo": ([shift(TUESDAY, (10, 0), (11, 0))], []),
    }

    slots = free_slots_for_many(calendars, make_rules(length=60, step=60))

    assert [(f"{slot.start.astimezone(TORONTO):%H:%M}", slot.therapist) for slot in slots] == [
        ("09:00", "alex"),
        ("10:00", "sam"),
        ("10:00", "alex"),
        ("10:00", "jo"),
    ]


def test_free_slots_for_many_is_the_union_of_each_calendar():
    calendars = {
        1: ([shift(TUESDAY, (9, 0), (12, 0))], [Interval(at(TUESDAY, 10), at(TUESDAY, 10, 45))]),
        2: ([shift(TUESDAY, (13, 0), (17, 0))], []),
    }
    rules = make_rules(length=45, buffer=10, step=15)

    together = free_slots_for_many(calendars, rules)

    separately = [
        slot
        for key, (working, busy) in calendars.items()
        for slot in free_slots(working=working, busy=busy, rules=rules, therapist=key)
    ]
    assert sorted(together, key=lambda s: (s.start, s.therapist)) == sorted(
        separately, key=lambda s: (s.start, s.therapist)
    )


def test_free_slots_for_many_of_nobody_is_empty():
    assert free_slots_for_many({}, make_rules()) == []


# --- merge -----------------------------------------------------------------------------------------


def iv(start: int, end: int) -> Interval:
    """An interval in hours after 00:00 UTC on 2026-12-08."""
    base = datetime(2026, 12, 8, tzinfo=UTC)
    return Interval(base + timedelta(hours=start), base + timedelta(hours=end))


def test_merge_sorts_and_joins_overlapping_and_touching_intervals():
    assert merge([iv(5, 6), iv(1, 3), iv(2, 4), iv(4, 5), iv(8, 9)]) == [iv(1, 6), iv(8, 9)]


def test_merge_keeps_the_longer_end_of_a_contained_interval():
    assert merge([iv(1, 10), iv(2, 3)]) == [iv(1, 10)]


def test_merge_drops_empty_and_backwards_intervals():
    assert merge([iv(3, 3), iv(5, 4), iv(1, 2)]) == [iv(1, 2)]
    assert merge([]) == []


# --- properties ---------------------------------------------------------------------------------
# The checks below do their arithmetic in UTC: inside one ZoneInfo, Python's aware arithmetic and
# comparisons follow the wall clock, which is exactly what must not hide an error on a clock-change day.

# Days around both clock changes and an ordinary week, in Toronto.
PROPERTY_DAYS = [
    date(2026, 3, 7),
    SPRING_FORWARD,
    date(2026, 3, 9),
    date(2026, 10, 31),
    FALL_BACK,
    date(2026, 11, 2),
    TUESDAY,
]
STEPS = st.sampled_from([5, 10, 15, 20, 30, 60])
# The clinic settings allow any step from 5 to 120 minutes, dividing the hour or not.
ANY_STEP = st.integers(min_value=5, max_value=120)
# Callers pass datetimes in UTC (from the database) or in the clinic's zone (from forms and working hours).
ZONES = st.sampled_from([UTC, TORONTO])


@st.composite
def wall_intervals(draw, days) -> Interval:
    day = draw(days)
    if draw(st.booleans()):
        # A night shift around 02:00, where the clocks change.
        start = draw(st.integers(min_value=0, max_value=150))
        end = draw(st.integers(min_value=start + 1, max_value=6 * 60))
    else:
        start = draw(st.integers(min_value=0, max_value=24 * 60 - 5))
        end = draw(st.integers(min_value=start + 1, max_value=24 * 60 - 1))

    def aware(minutes: int) -> datetime:
        return wall_to_aware(datetime.combine(day, time(minutes // 60, minutes % 60)), TORONTO)

    return Interval(aware(start), aware(end))


@st.composite
def moments(draw, days, *, before: int = 24 * 60, after: int = 26 * 60) -> datetime:
    """An aware moment, to the minute, near the start of one of `days`, in UTC or in Toronto."""
    midnight = utc(local_midnight(draw(days), TORONTO))
    moment = midnight + timedelta(minutes=draw(st.integers(min_value=-before, max_value=after)))
    return moment.astimezone(draw(ZONES))


@st.composite
def absolute_intervals(draw, days) -> Interval:
    start = draw(moments(days, before=120))
    end = utc(start) + timedelta(minutes=draw(st.integers(min_value=1, max_value=8 * 60)))
    return Interval(start, end.astimezone(draw(ZONES)))


@st.composite
def searches(draw, steps=STEPS):
    # Mostly everything happens on (and just after) a clock-change day, where bugs hide.
    if draw(st.integers(min_value=0, max_value=3)):
        focus = draw(st.sampled_from([SPRING_FORWARD, FALL_BACK]))
        days = st.sampled_from([focus, focus, focus + timedelta(days=1)])
    else:
        days = st.sampled_from(PROPERTY_DAYS)
    working = draw(st.lists(wall_intervals(days), max_size=6))
    busy = draw(st.lists(absolute_intervals(days), max_size=8))
    notice = timedelta(minutes=draw(st.integers(min_value=0, max_value=6 * 60)))
    if working and draw(st.booleans()):
        # Often the booking window opens near the first working interval, so it does not hide them all.
        first = min(utc(interval.start) for interval in working)
        now = first - notice - timedelta(minutes=draw(st.integers(min_value=-120, max_value=10 * 60)))
    else:
        now = draw(moments(days))
    earliest, latest = booking_window(
        now=now, notice=notice, horizon_days=draw(st.integers(min_value=0, max_value=3)), tz=TORONTO
    )
    rules = Rules(
        length=timedelta(minutes=draw(st.integers(min_value=5, max_value=180))),
        buffer=timedelta(minutes=draw(st.integers(min_value=0, max_value=60))),
        step=timedelta(minutes=draw(steps)),
        earliest=earliest,
        latest=latest,
        tz=TORONTO,
    )
    return working, busy, rules


def overlaps(start: datetime, end: datetime, other: Interval) -> bool:
    return utc(start) < utc(other.end) and utc(other.start) < utc(end)


def inside(start: datetime, end: datetime, other: Interval) -> bool:
    return utc(other.start) <= utc(start) and utc(end) <= utc(other.end)


def on_grid(moment: datetime, step: timedelta) -> bool:
    local = moment.astimezone(TORONTO)
    minutes = local.hour * 60 + local.minute
    return local.second == 0 and local.microsecond == 0 and minutes % (step // timedelta(minutes=1)) == 0


def brute_force(working: list[Interval], busy: list[Interval], rules: Rules) -> list[datetime]:
    """Every wall-clock grid time of every working day that satisfies each rule on its own, in UTC.

    A wall time skipped by spring forward does not exist, so it is not offered; a wall time repeated
    by fall back means its first occurrence, so each familiar time is offered once.
    """
    days = {moment.astimezone(TORONTO).date() for interval in working for moment in (interval.start, interval.end)}
    shifts = merge(Interval(utc(i.start), utc(i.end)) for i in working)
    candidates = set()
    for day in days:
        midnight = datetime.combine(day, time.min)
        wall = midnight
        while wall < midnight + timedelta(days=1):
            moment = utc(wall.replace(tzinfo=TORONTO))
            if moment.astimezone(TORONTO).replace(tzinfo=None) == wall:
                candidates.add(moment)
            wall += rules.step
    return sorted(
        start
        for start in candidates
        if utc(rules.earliest) <= start < utc(rules.latest)
        and any(inside(start, start + rules.length, shift) for shift in shifts)
        and not any(overlaps(start, start + rules.length + rules.buffer, interval) for interval in busy)
    )


PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)


@PROPERTY_SETTINGS
@given(searches())
def test_property_no_slot_plus_buffer_overlaps_anything_busy(search):
    working, busy, rules = search

    for slot in free_slots(working=working, busy=busy, rules=rules):
        blocked_until = utc(slot.start) + rules.length + rules.buffer
        assert not any(overlaps(slot.start, blocked_until, interval) for interval in busy)


@PROPERTY_SETTINGS
@given(searches())
def test_property_every_slot_lies_inside_one_working_interval_and_lasts_the_session_length(search):
    working, busy, rules = search
    shifts = merge(Interval(utc(i.start), utc(i.end)) for i in working)

    for slot in free_slots(working=working, busy=busy, rules=rules):
        assert real_length(slot.start, slot.end) == rules.length
        assert any(inside(slot.start, slot.end, shift) for shift in shifts)


@PROPERTY_SETTINGS
@given(searches())
def test_property_every_start_is_on_the_wall_clock_grid(search):
    working, busy, rules = search

    for slot in free_slots(working=working, busy=busy, rules=rules):
        assert on_grid(slot.start, rules.step), slot.start.astimezone(TORONTO)


@PROPERTY_SETTINGS
@given(searches())
def test_property_every_start_is_inside_the_booking_window(search):
    working, busy, rules = search

    for slot in free_slots(working=working, busy=busy, rules=rules):
        assert utc(rules.earliest) <= utc(slot.start) < utc(rules.latest)


@PROPERTY_SETTINGS
@given(searches())
def test_property_slots_are_sorted_and_unique_in_real_time_and_on_the_wall_clock(search):
    working, busy, rules = search

    slots = free_slots(working=working, busy=busy, rules=rules)

    starts = [utc(slot.start) for slot in slots]
    assert starts == sorted(set(starts))
    walls = [slot.start.astimezone(TORONTO).replace(tzinfo=None) for slot in slots]
    assert len(set(walls)) == len(walls)


@PROPERTY_SETTINGS
@given(searches())
def test_property_every_free_grid_time_is_offered(search):
    working, busy, rules = search

    offered = [utc(slot.start) for slot in free_slots(working=working, busy=busy, rules=rules)]

    assert offered == brute_force(working, busy, rules)


@settings(max_examples=100, deadline=None)
@given(searches(), st.lists(st.sampled_from(["alex", "sam", "jo"]), min_size=1, max_size=3, unique=True))
def test_property_free_slots_for_many_is_sorted_by_start_then_calendar_order(search, keys):
    working, busy, rules = search
    calendars = {key: (working[index::2], busy[index::3]) for index, key in enumerate(keys)}

    slots = free_slots_for_many(calendars, rules)

    order = {key: position for position, key in enumerate(keys)}
    ranks = [(utc(slot.start), order[slot.therapist]) for slot in slots]
    assert ranks == sorted(ranks)
    for key, (own_working, own_busy) in calendars.items():
        own = free_slots(working=own_working, busy=own_busy, rules=rules, therapist=key)
        assert [slot for slot in slots if slot.therapist == key] == own


@PROPERTY_SETTINGS
@given(searches(steps=ANY_STEP))
def test_property_a_step_that_does_not_divide_the_hour_keeps_to_the_grid_across_clock_changes(search):
    working, busy, rules = search

    slots = free_slots(working=working, busy=busy, rules=rules)

    assert all(on_grid(slot.start, rules.step) for slot in slots)
    assert [utc(slot.start) for slot in slots] == brute_force(working, busy, rules)


@PROPERTY_SETTINGS
@given(
    day=st.sampled_from([SPRING_FORWARD, FALL_BACK]),
    start=st.integers(min_value=0, max_value=150),
    end=st.integers(min_value=181, max_value=8 * 60),
    length=st.integers(min_value=5, max_value=120),
    step=ANY_STEP,
)
def test_property_a_night_shift_across_a_clock_change_offers_exactly_the_existing_grid_times(
    day, start, end, length, step
):
    working = working_intervals({6: [(time(start // 60, start % 60), time(end // 60, end % 60))]}, day, day, TORONTO)
    rules = make_rules(length=length, step=step)

    slots = free_slots(working=working, busy=[], rules=rules)

    assert [utc(slot.start) for slot in slots] == brute_force(working, [], rules)
    assert all(real_length(slot.start, slot.end) == rules.length for slot in slots)
