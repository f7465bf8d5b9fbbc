"""Which sessions a change to a therapist's time strands: the pure test (booking.coverage) on plain data,
a clock-change week included, then the selector that feeds it from the database."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking import selectors
from booking.availability import Interval, merge
from booking.coverage import Schedule, is_covered, newly_stranded
from booking.models import Appointment
from tests.factories import AppointmentFactory, PatientFactory, TimeOffFactory

TORONTO = ZoneInfo("America/Toronto")
WEEKDAYS_9_TO_5 = {day: [(time(9), time(17))] for day in range(5)}
WITH_LUNCH = {day: [(time(9), time(12)), (time(13), time(17))] for day in range(5)}


def at(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour, minute), tzinfo=TORONTO)


def utc(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour, minute), tzinfo=UTC)


def hour_from(start: datetime) -> Interval:
    return Interval(start, start + timedelta(hours=1))


# is_covered: one session against merged working time and time off


def shifts(*pairs: tuple[datetime, datetime]) -> list[Interval]:
    return merge(Interval(start, end) for start, end in pairs)


TUESDAY_SHIFTS = shifts((at("2026-12-08", 9), at("2026-12-08", 12)), (at("2026-12-08", 13), at("2026-12-08", 17)))


def test_a_session_inside_a_shift_is_covered():
    assert is_covered(at("2026-12-08", 10), at("2026-12-08", 11), TUESDAY_SHIFTS, [])


def test_a_session_may_fill_a_shift_to_its_very_ends():
    assert is_covered(at("2026-12-08", 9), at("2026-12-08", 12), TUESDAY_SHIFTS, [])


def test_a_session_across_the_lunch_break_is_not_covered():
    assert not is_covered(at("2026-12-08", 11, 30), at("2026-12-08", 12, 30), TUESDAY_SHIFTS, [])


def test_a_session_before_the_first_shift_is_not_covered():
    assert not is_covered(at("2026-12-08", 8), at("2026-12-08", 9), TUESDAY_SHIFTS, [])


def test_a_session_meeting_time_off_is_not_covered():
    time_off = shifts((at("2026-12-08", 10, 30), at("2026-12-08", 15)))
    assert not is_covered(at("2026-12-08", 10), at("2026-12-08", 11), TUESDAY_SHIFTS, time_off)
    assert not is_covered(at("2026-12-08", 14), at("2026-12-08", 15), TUESDAY_SHIFTS, time_off)


def test_a_session_touching_time_off_is_covered():
    time_off = shifts((at("2026-12-08", 11), at("2026-12-08", 12)), (at("2026-12-08", 13), at("2026-12-08", 14)))
    assert is_covered(at("2026-12-08", 10), at("2026-12-08", 11), TUESDAY_SHIFTS, time_off)
    assert is_covered(at("2026-12-08", 14), at("2026-12-08", 15), TUESDAY_SHIFTS, time_off)


def test_an_empty_or_naive_session_is_refused():
    assert not is_covered(at("2026-12-08", 10), at("2026-12-08", 10), TUESDAY_SHIFTS, [])
    with pytest.raises(ValueError):
        is_covered(datetime(2026, 12, 8, 10), datetime(2026, 12, 8, 11), TUESDAY_SHIFTS, [])


# newly_stranded: before and after a change


def test_shorter_hours_strand_the_sessions_they_leave_out():
    sessions = {"early": hour_from(at("2026-12-08", 9)), "late": hour_from(at("2026-12-08", 15))}
    later_start = {day: [(time(10), time(17))] for day in range(5)}

    stranded = newly_stranded(sessions, Schedule(WEEKDAYS_9_TO_5), Schedule(later_start), TORONTO)

    assert stranded == ["early"]


def test_a_new_lunch_break_strands_the_session_across_it():
    sessions = {"across": hour_from(at("2026-12-08", 11, 30)), "morning": hour_from(at("2026-12-08", 10))}

    assert newly_stranded(sessions, Schedule(WEEKDAYS_9_TO_5), Schedule(WITH_LUNCH), TORONTO) == ["across"]


def test_time_off_strands_what_it_overlaps_and_nothing_it_only_touches():
    sessions = {
        "before": hour_from(at("2026-12-10", 9)),
        "inside": hour_from(at("2026-12-10", 10, 30)),
        "after": hour_from(at("2026-12-10", 14)),
    }
    time_off = [Interval(at("2026-12-10", 10), at("2026-12-10", 14))]

    stranded = newly_stranded(sessions, Schedule(WITH_LUNCH), Schedule(WITH_LUNCH, time_off), TORONTO)

    assert stranded == ["inside"]


def test_going_inactive_strands_every_session():
    sessions = {"a": hour_from(at("2026-12-08", 9)), "b": hour_from(at("2026-12-11", 15))}

    assert newly_stranded(sessions, Schedule(WITH_LUNCH), Schedule(WITH_LUNCH, active=False), TORONTO) == ["a", "b"]


def test_a_session_already_outside_working_time_is_not_reported_again():
    sessions = {"saturday": hour_from(at("2026-12-12", 10)), "monday": hour_from(at("2026-12-14", 10))}

    assert newly_stranded(sessions, Schedule(WITH_LUNCH), Schedule(WITH_LUNCH, active=False), TORONTO) == ["monday"]


def test_working_hours_are_read_on_the_wall_clock_across_the_autumn_clock_change():
    # Clocks fell back on Sunday 1 Nov 2026: 9:00 in Toronto is 13:00 UTC on Friday, 14:00 UTC on Monday.
    sessions = {
        "friday 9:00": hour_from(utc("2026-10-30", 13)),
        "monday 8:00": hour_from(utc("2026-11-02", 13)),
        "monday 9:00": hour_from(utc("2026-11-02", 14)),
        "monday 10:00": hour_from(utc("2026-11-02", 15)),
    }
    from_ten = {day: [(time(10), time(17))] for day in range(5)}

    stranded = newly_stranded(sessions, Schedule(WEEKDAYS_9_TO_5), Schedule(from_ten), TORONTO)

    # Monday 8:00 was never inside 9–17, so it is not news; both 9:00 sessions are, whichever their UTC hour.
    assert stranded == ["friday 9:00", "monday 9:00"]


def test_the_repeated_hour_of_the_autumn_change_is_working_time_when_the_hours_say_so():
    # Sunday 1 Nov 2026, hours 00:00–03:00 on the wall clock: four real hours, 04:00–08:00 UTC.
    night = {6: [(time(0), time(3))]}
    second_one_oclock = hour_from(utc("2026-11-01", 6))  # 01:00–02:00 EST, the hour that happens twice
    last_real_hour = hour_from(utc("2026-11-01", 7))
    past_the_end = hour_from(utc("2026-11-01", 8))
    sessions = {"second 1:00": second_one_oclock, "last": last_real_hour, "after": past_the_end}

    assert newly_stranded(sessions, Schedule(night), Schedule({}), TORONTO) == ["second 1:00", "last"]


def test_the_spring_clock_change_shortens_the_night_shift():
    # Sunday 8 Mar 2026, hours 01:00–04:00 on the wall clock: only two real hours, 06:00–08:00 UTC.
    night = {6: [(time(1), time(4))]}
    sessions = {"inside": hour_from(utc("2026-03-08", 7)), "past the end": hour_from(utc("2026-03-08", 8))}

    assert newly_stranded(sessions, Schedule(night), Schedule({}), TORONTO) == ["inside"]


moments = st.integers(min_value=0, max_value=14 * 24 * 4).map(
    lambda q: utc("2026-10-26", 0) + timedelta(minutes=15 * q)
)
weekly_hours = st.dictionaries(
    st.integers(min_value=0, max_value=6),
    st.lists(
        st.tuples(st.integers(0, 22), st.integers(1, 23))
        .filter(lambda pair: pair[0] < pair[1])
        .map(lambda pair: (time(pair[0]), time(pair[1]))),
        max_size=2,
    ),
)


@given(
    sessions=st.lists(st.tuples(moments, st.integers(1, 8)), max_size=6),
    weekly=weekly_hours,
    time_off=st.lists(st.tuples(moments, st.integers(1, 96)), max_size=3),
)
def test_a_change_that_changes_nothing_strands_nothing_and_more_time_off_only_strands(sessions, weekly, time_off):
    by_key = {
        index: Interval(start, start + timedelta(minutes=15 * quarters))
        for index, (start, quarters) in enumerate(sessions)
    }
    off = [Interval(start, start + timedelta(minutes=15 * quarters)) for start, quarters in time_off]
    before = Schedule(weekly)

    assert newly_stranded(by_key, before, before, TORONTO) == []
    assert newly_stranded(by_key, Schedule(weekly, off), before, TORONTO) == []
    for key in newly_stranded(by_key, before, Schedule(weekly, off), TORONTO):
        assert any(o.start < by_key[key].end and by_key[key].start < o.end for o in off)


# The selector: the appointments a proposed change strands, read from the database


@pytest.fixture
def booked(service, therapist):
    """Alex's Tuesday 10:00 and Thursday 14:00 (Toronto), both after the test clock (Monday 7 Dec, 08:00)."""
    return [
        AppointmentFactory(
            therapist=therapist, service=service, start=at("2026-12-08", 10), patient=PatientFactory(name="Jordan Lee")
        ),
        AppointmentFactory(
            therapist=therapist, service=service, start=at("2026-12-10", 14), patient=PatientFactory(name="Robin Roe")
        ),
    ]


def test_time_off_strands_only_the_appointments_inside_it(clinic, now, therapist, booked):
    stranded = selectors.stranded_appointments(
        therapist, now=now, clinic=clinic, add_time_off=[(at("2026-12-08", 9), at("2026-12-08", 17))]
    )

    assert stranded == [booked[0]]


def test_cancelled_finished_and_started_appointments_are_never_stranded(clinic, service, therapist, booked):
    booked[0].status = Appointment.Status.CANCELLED
    booked[0].save()
    booked[1].status = Appointment.Status.NO_SHOW
    booked[1].save()
    under_way = AppointmentFactory(therapist=therapist, service=service, start=at("2026-12-07", 10))
    later = at("2026-12-07", 10, 30)

    assert selectors.stranded_appointments(therapist, now=later, clinic=clinic, active=False) == []
    assert selectors.stranded_appointments(therapist, now=under_way.start, clinic=clinic, active=False) == [under_way]


def test_a_checked_in_appointment_is_still_stranded(clinic, now, therapist, booked):
    booked[0].status = Appointment.Status.CHECKED_IN
    booked[0].save()

    assert selectors.stranded_appointments(therapist, now=now, clinic=clinic, active=False) == booked


def test_new_weekly_hours_strand_what_they_leave_out(clinic, now, therapist, booked):
    mornings_only = {day: [(time(9), time(12))] for day in range(5)}

    assert selectors.stranded_appointments(therapist, now=now, clinic=clinic, weekly=mornings_only) == [booked[1]]


def test_an_appointment_already_inside_time_off_is_not_news(clinic, now, therapist, booked):
    TimeOffFactory(therapist=therapist, start=at("2026-12-08", 9), end=at("2026-12-08", 12))
    longer = [(at("2026-12-08", 9), at("2026-12-08", 17))]

    assert selectors.stranded_appointments(therapist, now=now, clinic=clinic, add_time_off=longer) == []


def test_the_stored_active_flag_counts_not_the_one_on_the_object_given(clinic, now, therapist, booked):
    therapist.active = False  # as a form may have set it before saving

    assert selectors.stranded_appointments(therapist, now=now, clinic=clinic, active=False) == booked


def test_another_therapists_appointments_are_not_theirs_to_strand(clinic, now, therapist, second_therapist, booked):
    stranded = selectors.stranded_appointments(second_therapist, now=now, clinic=clinic, active=False)

    assert stranded == []


def test_the_selector_reads_in_three_queries_whatever_the_number_of_appointments(
    clinic, now, service, therapist, booked, django_assert_num_queries
):
    for day in range(8, 12):
        for hour in (9, 13, 16):
            AppointmentFactory(
                therapist=therapist, service=service, start=at(f"2026-12-{day:02d}", hour), duration_minutes=30
            )
    TimeOffFactory(therapist=therapist, start=at("2026-12-11", 9), end=at("2026-12-11", 10))

    with django_assert_num_queries(3):
        stranded = selectors.stranded_appointments(therapist, now=now, clinic=clinic, active=False)
        [(appointment.patient.name, appointment.service.name) for appointment in stranded]

    assert len(stranded) == 13  # all but Friday 9:00, already inside time off


def test_a_change_that_adds_no_time_off_and_keeps_the_hours_costs_no_query(
    clinic, now, therapist, django_assert_num_queries
):
    with django_assert_num_queries(0):
        assert selectors.stranded_appointments(therapist, now=now, clinic=clinic) == []
        assert selectors.stranded_appointments(therapist, now=now, clinic=clinic, active=True) == []


def test_naive_time_off_is_refused(clinic, now, therapist):
    with pytest.raises(ValueError):
        selectors.stranded_appointments(
            therapist, now=now, clinic=clinic, add_time_off=[(datetime(2026, 12, 8, 9), datetime(2026, 12, 8, 17))]
        )
