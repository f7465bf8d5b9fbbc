"""Slot searches against the database: what is loaded, what blocks, and how many queries it takes."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking import selectors
from booking.models import Appointment, ServiceOption
from booking.selectors import SlotSearch
from tests.conftest import weekday_therapist
from tests.factories import AppointmentFactory, TherapistFactory, TimeOffFactory, WorkingHoursFactory

TORONTO = ZoneInfo("America/Toronto")
MONDAY = date(2026, 12, 7)  # the day of NOW
TUESDAY = date(2026, 12, 8)
WEDNESDAY = date(2026, 12, 9)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TORONTO)


def grid(first: str, last: str, step: int = 15) -> list[str]:
    start = datetime.combine(TUESDAY, time.fromisoformat(first))
    end = datetime.combine(TUESDAY, time.fromisoformat(last))
    times = []
    while start <= end:
        times.append(f"{start:%H:%M}")
        start += timedelta(minutes=step)
    return times


def wall_starts(slots, day: date | None = None) -> list[str]:
    return [
        f"{slot.start.astimezone(TORONTO):%H:%M}"
        for slot in slots
        if day is None or slot.start.astimezone(TORONTO).date() == day
    ]


def search(option, therapists, first_day=TUESDAY, days=1) -> SlotSearch:
    return SlotSearch(option=option, therapists=list(therapists), first_day=first_day, days=days)


@pytest.fixture
def short_option(service):
    return ServiceOption.objects.select_related("service").get(service=service, duration_minutes=30)


def test_free_day_offers_every_grid_start_where_the_session_fits(option, therapist, clinic, now):
    slots = selectors.free_slots(search(option, [therapist]), clinic, now)

    # 60 minutes, lunch 12:00–13:00; the 15 minute buffer may run past the end of the day.
    assert wall_starts(slots) == grid("09:00", "11:00") + grid("13:00", "16:00")
    assert {slot.therapist for slot in slots} == {therapist}
    assert all(slot.end - slot.start == timedelta(minutes=60) for slot in slots)
    assert all(slot.start.tzinfo is not None for slot in slots)


def test_appointment_blocks_its_session_and_its_buffer(short_option, therapist, clinic, now):
    AppointmentFactory(therapist=therapist, service=short_option.service, start=at(TUESDAY, 10), duration_minutes=30)

    slots = selectors.free_slots(search(short_option, [therapist]), clinic, now)

    # Booked 10:00–10:30, blocked to 10:45; a new 30 minute session needs 45 minutes with its buffer.
    assert wall_starts(slots)[:6] == ["09:00", "09:15", "10:45", "11:00", "11:15", "11:30"]
    assert "13:00" in wall_starts(slots)


def test_appointment_stored_in_utc_blocks_the_same_local_time(short_option, therapist, clinic, now):
    AppointmentFactory(
        therapist=therapist,
        service=short_option.service,
        start=datetime(2026, 12, 8, 15, 0, tzinfo=UTC),  # 10:00 in Toronto
        duration_minutes=30,
    )

    slots = selectors.free_slots(search(short_option, [therapist]), clinic, now)

    assert "10:00" not in wall_starts(slots)
    assert "10:45" in wall_starts(slots)


def test_cancelled_appointment_frees_its_time(option, therapist, clinic, now):
    AppointmentFactory(
        therapist=therapist,
        service=option.service,
        start=at(TUESDAY, 10),
        status=Appointment.Status.CANCELLED,
        cancelled_at=now,
    )

    slots = selectors.free_slots(search(option, [therapist]), clinic, now)

    assert wall_starts(slots) == grid("09:00", "11:00") + grid("13:00", "16:00")


@pytest.mark.parametrize("status", [Appointment.Status.CHECKED_IN, Appointment.Status.COMPLETED, "no_show"])
def test_appointments_that_are_not_cancelled_keep_blocking(option, therapist, clinic, now, status):
    AppointmentFactory(therapist=therapist, service=option.service, start=at(TUESDAY, 9), status=status)

    slots = selectors.free_slots(search(option, [therapist]), clinic, now)

    assert wall_starts(slots)[0] == "10:15"


def test_time_off_removes_its_hours(option, therapist, clinic, now):
    TimeOffFactory(therapist=therapist, start=at(TUESDAY, 8), end=at(TUESDAY, 14))

    slots = selectors.free_slots(search(option, [therapist]), clinic, now)

    assert wall_starts(slots) == grid("14:00", "16:00")


def test_time_off_over_several_days_removes_each_of_them(option, therapist, clinic, now):
    TimeOffFactory(therapist=therapist, start=at(TUESDAY, 0), end=at(date(2026, 12, 10), 0))

    slots = selectors.free_slots(search(option, [therapist], days=3), clinic, now)

    assert {slot.start.astimezone(TORONTO).date() for slot in slots} == {date(2026, 12, 10)}


def test_busy_time_of_one_therapist_does_not_block_another(option, therapist, second_therapist, clinic, now):
    AppointmentFactory(therapist=therapist, service=option.service, start=at(TUESDAY, 9))
    TimeOffFactory(therapist=therapist, start=at(TUESDAY, 13), end=at(TUESDAY, 17))

    alex = selectors.free_slots(search(option, [therapist]), clinic, now)
    sam = selectors.free_slots(search(option, [second_therapist]), clinic, now)

    assert wall_starts(alex) == grid("10:15", "11:00")
    assert wall_starts(sam) == grid("09:00", "11:00") + grid("13:00", "16:00")


def test_no_preference_is_the_union_of_each_therapist(option, therapist, second_therapist, clinic, now):
    AppointmentFactory(therapist=therapist, service=option.service, start=at(TUESDAY, 9))
    TimeOffFactory(therapist=second_therapist, start=at(TUESDAY, 13), end=at(TUESDAY, 15))

    anyone = selectors.free_slots(search(option, [therapist, second_therapist]), clinic, now)
    alex = selectors.free_slots(search(option, [therapist]), clinic, now)
    sam = selectors.free_slots(search(option, [second_therapist]), clinic, now)

    assert {(s.start, s.therapist) for s in anyone} == {(s.start, s.therapist) for s in alex + sam}
    assert len(anyone) == len(alex) + len(sam)
    assert [s.start for s in anyone] == sorted(s.start for s in anyone)
    at_nine = [s.therapist for s in anyone if s.start == at(TUESDAY, 9)]
    assert at_nine == [second_therapist]
    at_four = [s.therapist for s in anyone if s.start == at(TUESDAY, 16)]
    assert at_four == [therapist, second_therapist]


def test_minimum_notice_hides_the_next_two_hours_today(option, therapist, clinic, now):
    # NOW is Monday 08:00 and the notice is two hours.
    slots = selectors.free_slots(search(option, [therapist], first_day=MONDAY), clinic, now)

    assert wall_starts(slots)[0] == "10:00"


def test_search_stops_at_the_booking_horizon(option, therapist, clinic, now):
    clinic.horizon_days = 2
    clinic.save()

    slots = selectors.free_slots(search(option, [therapist], first_day=MONDAY, days=7), clinic, now)

    assert {slot.start.astimezone(TORONTO).date() for slot in slots} == {MONDAY, TUESDAY, WEDNESDAY}


def test_search_covers_the_days_asked_for(option, therapist, clinic, now):
    slots = selectors.free_slots(search(option, [therapist], first_day=TUESDAY, days=6), clinic, now)

    # Tuesday to Sunday: the therapist works Monday to Friday.
    assert sorted({slot.start.astimezone(TORONTO).date() for slot in slots}) == [
        TUESDAY,
        WEDNESDAY,
        date(2026, 12, 10),
        date(2026, 12, 11),
    ]


def test_empty_search_makes_no_query(option, therapist, clinic, now, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert selectors.free_slots(search(option, []), clinic, now) == []
        assert selectors.free_slots(search(option, [therapist], days=0), clinic, now) == []


@pytest.fixture
def sunday_worker(service):
    worker = TherapistFactory(slug="sunday-worker", services=[service])
    WorkingHoursFactory(therapist=worker, weekday=6, start=time(0), end=time(5))
    WorkingHoursFactory(therapist=worker, weekday=6, start=time(9), end=time(17))
    return worker


@pytest.mark.parametrize(
    ("changed", "normal"),
    [(date(2026, 3, 8), date(2026, 3, 1)), (date(2026, 11, 1), date(2026, 10, 25))],
    ids=["spring-forward", "fall-back"],
)
def test_clock_change_day_offers_the_usual_daytime_wall_times(option, sunday_worker, clinic, changed, normal):
    now = datetime.combine(normal - timedelta(days=1), time(12), tzinfo=UTC)

    on_changed = selectors.free_slots(search(option, [sunday_worker], first_day=changed), clinic, now)
    on_normal = selectors.free_slots(search(option, [sunday_worker], first_day=normal), clinic, now)

    daytime = [slot for slot in on_changed if slot.start.astimezone(TORONTO).hour >= 9]
    assert wall_starts(daytime) == [t for t in wall_starts(on_normal) if t >= "09:00"] == grid("09:00", "16:00")
    assert all(slot.end.astimezone(UTC) - slot.start.astimezone(UTC) == timedelta(hours=1) for slot in on_changed)


def test_fall_back_night_shift_offers_each_wall_time_once_with_real_lengths(option, sunday_worker, clinic):
    now = datetime(2026, 10, 24, 12, tzinfo=UTC)

    fall = selectors.free_slots(search(option, [sunday_worker], first_day=date(2026, 11, 1)), clinic, now)
    normal = selectors.free_slots(search(option, [sunday_worker], first_day=date(2026, 10, 25)), clinic, now)

    assert wall_starts(fall) == wall_starts(normal)
    starts = [slot.start.astimezone(UTC) for slot in fall]
    assert starts == sorted(set(starts))
    assert all(slot.end.astimezone(UTC) - slot.start.astimezone(UTC) == timedelta(hours=1) for slot in fall)


# --- query counts -------------------------------------------------------------------------------


def many_therapists(service, count):
    return [weekday_therapist(service, f"therapist-{n}", f"Therapist {n}", order=n) for n in range(count)]


def fresh_option(service):
    return ServiceOption.objects.select_related("service").get(service=service, duration_minutes=60)


@pytest.mark.parametrize("count", [1, 8])
def test_query_count_does_not_grow_with_therapists(service, clinic, now, django_assert_num_queries, count):
    therapists = many_therapists(service, count)
    option = fresh_option(service)

    # Working hours, time off and appointments: one query each.
    with django_assert_num_queries(2):
        slots = selectors.free_slots(search(option, therapists, days=14), clinic, now)

    assert {slot.therapist for slot in slots} == set(therapists)


@pytest.mark.parametrize("appointments", [0, 200])
def test_query_count_does_not_grow_with_appointments(service, clinic, now, django_assert_num_queries, appointments):
    therapists = many_therapists(service, 8)
    workdays = [TUESDAY + timedelta(days=n) for n in range(21) if (TUESDAY + timedelta(days=n)).weekday() < 5]
    times = [(day, hour) for day in workdays for hour in (9, 14)]
    for n in range(appointments):
        day, hour = times[n // len(therapists)]
        AppointmentFactory(therapist=therapists[n % len(therapists)], service=service, start=at(day, hour))
    TimeOffFactory(therapist=therapists[0], start=at(TUESDAY, 12), end=at(TUESDAY, 13))
    option = fresh_option(service)

    with django_assert_num_queries(2):
        slots = selectors.free_slots(search(option, therapists, days=21), clinic, now)

    assert Appointment.objects.count() == appointments
    nine_on_tuesday = [slot for slot in slots if slot.start == at(TUESDAY, 9)]
    assert len(nine_on_tuesday) == (0 if appointments else 8)


def test_query_count_is_the_same_for_one_day_and_the_whole_horizon(
    option, therapist, second_therapist, clinic, now, django_assert_max_num_queries
):
    with django_assert_max_num_queries(2):
        selectors.free_slots(search(option, [therapist, second_therapist], days=1), clinic, now)
    with django_assert_max_num_queries(2):
        selectors.free_slots(search(option, [therapist, second_therapist], days=clinic.horizon_days), clinic, now)
