"""Repeat bookings: the sessions' times, the check of each on its own, the alternatives, and booking all or none."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from booking import selectors, series, services
from booking.actors import Actor
from booking.availability import Interval, Rules
from booking.errors import BookingError, SlotTaken
from booking.models import Appointment, AppointmentEvent, Patient
from booking.services import PatientDetails
from tests.factories import AppointmentFactory, PatientFactory, TimeOffFactory, UserFactory

TORONTO = ZoneInfo("America/Toronto")
TUESDAY = date(2026, 12, 8)  # the day after NOW (Monday 7 December 2026, 08:00 in Toronto)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TORONTO)


def weekly(day: date, hour: int, count: int, every: int = 1) -> list[datetime]:
    return series.repeat_starts(at(day, hour), every_weeks=every, count=count, tz=TORONTO)


def wall(moment: datetime) -> str:
    return f"{moment.astimezone(TORONTO):%a %-d %b %H:%M}"


@pytest.fixture
def receptionist(db):
    user = UserFactory(username="desk")
    user.groups.add(Group.objects.get(name="Receptionist"))
    return Actor.staff(user)


def ana() -> PatientDetails:
    return PatientDetails(name="Ana Silva", email="ana@example.com", phone="416-555-0199")


# --- the sessions' times (pure) ------------------------------------------------------------------


def test_weekly_sessions_across_the_november_clock_change_keep_their_wall_clock_time():
    # Clocks go back on Sunday 1 November 2026: Tuesdays at 10:00 stay at 10:00, one more hour from UTC.
    starts = weekly(date(2026, 10, 20), 10, 4)

    assert [f"{start:%Y-%m-%d %H:%M}" for start in starts] == [
        "2026-10-20 10:00",
        "2026-10-27 10:00",
        "2026-11-03 10:00",
        "2026-11-10 10:00",
    ]
    assert [start.astimezone(UTC).hour for start in starts] == [14, 14, 15, 15]


def test_sessions_every_two_weeks_across_the_spring_clock_change_keep_their_wall_clock_time():
    starts = weekly(date(2027, 3, 2), 9, 3, every=2)  # clocks go forward on Sunday 14 March 2027

    assert [f"{start:%Y-%m-%d %H:%M %Z}" for start in starts] == [
        "2027-03-02 09:00 EST",
        "2027-03-16 09:00 EDT",
        "2027-03-30 09:00 EDT",
    ]


def test_a_session_falling_in_the_skipped_spring_hour_moves_past_the_gap():
    starts = series.repeat_starts(at(date(2027, 3, 7), 2, 30), every_weeks=1, count=2, tz=TORONTO)

    assert f"{starts[1]:%Y-%m-%d %H:%M}" == "2027-03-14 03:30"


def test_repeat_starts_refuses_naive_times_and_empty_series():
    with pytest.raises(ValueError):
        series.repeat_starts(datetime(2026, 12, 8, 10), every_weeks=1, count=3, tz=TORONTO)
    with pytest.raises(ValueError):
        series.repeat_starts(at(TUESDAY, 10), every_weeks=1, count=0, tz=TORONTO)


# --- the check and the alternatives (pure) -------------------------------------------------------


def rules(now: datetime) -> Rules:
    return Rules(
        length=timedelta(minutes=60),
        buffer=timedelta(minutes=15),
        step=timedelta(minutes=15),
        earliest=now,
        latest=now + timedelta(days=60),
        tz=TORONTO,
    )


def day_shift(day: date, start: int = 9, end: int = 17) -> Interval:
    return Interval(at(day, start), at(day, end))


def workweek(first: date, days: int) -> list[Interval]:
    return [day_shift(first + timedelta(days=n)) for n in range(days) if (first + timedelta(days=n)).weekday() < 5]


def test_check_finds_who_takes_each_session_and_why_the_others_do_not_fit(now):
    starts = weekly(TUESDAY, 10, 3)
    calendars = {
        "alex": (workweek(TUESDAY, 15), [Interval(at(date(2026, 12, 15), 9, 30), at(date(2026, 12, 15), 11))]),
    }

    sessions = series.check(starts, calendars, rules(now), therapist="alex")
    [late] = series.check([at(TUESDAY, 16, 30)], calendars, rules(now), therapist="alex")  # would end at 17:30

    assert [(s.number, s.therapist, s.reason) for s in sessions] == [
        (1, "alex", ""),
        (2, None, "busy"),
        (3, "alex", ""),
    ]
    assert (late.therapist, late.reason) == (None, "closed")


def test_check_takes_any_minute_inside_working_hours_like_the_staff_booking(now):
    calendars = {"alex": (workweek(TUESDAY, 1), [])}

    [session] = series.check([at(TUESDAY, 10, 7)], calendars, rules(now), therapist="alex")

    assert session.fits


def test_check_for_anyone_prefers_the_therapist_who_can_take_the_most_sessions(now):
    starts = weekly(TUESDAY, 10, 3)
    first_week_busy = [Interval(at(TUESDAY, 10), at(TUESDAY, 11))]
    calendars = {"alex": (workweek(TUESDAY, 15), first_week_busy), "sam": (workweek(TUESDAY, 15), [])}

    sessions = series.check(starts, calendars, rules(now))

    assert [session.therapist for session in sessions] == ["sam", "sam", "sam"]


def test_alternatives_are_the_nearest_times_that_day_the_days_around_and_another_therapist_at_that_time(now):
    wanted = at(date(2026, 12, 16), 10)  # a Wednesday
    alex_busy = [Interval(at(date(2026, 12, 16), 9), at(date(2026, 12, 16), 16))]  # only 16:00 is left that day
    calendars = {"alex": (workweek(date(2026, 12, 13), 7), alex_busy), "sam": (workweek(date(2026, 12, 13), 7), [])}

    found = series.alternatives(wanted, calendars, rules(now), ["alex"])

    assert [(wall(slot.start), slot.therapist) for slot in found] == [
        ("Tue 15 Dec 10:00", "alex"),
        ("Wed 16 Dec 10:00", "sam"),
        ("Wed 16 Dec 16:00", "alex"),
        ("Thu 17 Dec 10:00", "alex"),
    ]


def test_alternatives_skip_a_closed_day_and_never_offer_the_past(now):
    monday = date(2026, 12, 7)  # NOW is 08:00 that day
    wanted = at(monday, 9)
    calendars = {"alex": (workweek(date(2026, 12, 4), 7), [Interval(at(monday, 9), at(monday, 17))])}

    found = series.alternatives(wanted, calendars, rules(now), ["alex"])

    # Friday 4 December is in the past; the weekend is closed; Tuesday is the nearest later day.
    assert [wall(slot.start) for slot in found] == ["Tue 8 Dec 09:00"]


# --- the read-only check against the database ----------------------------------------------------


def test_series_plan_checks_each_session_and_offers_alternatives_in_few_queries(
    option, therapist, second_therapist, clinic, now, django_assert_max_num_queries
):
    AppointmentFactory(therapist=therapist, service=option.service, start=at(date(2026, 12, 22), 10))
    starts = weekly(TUESDAY, 10, 6)

    with django_assert_max_num_queries(5):
        sessions = selectors.series_plan(option, therapist, starts, clinic, now)

    assert [session.fits for session in sessions] == [True, True, False, True, True, True]
    clash = sessions[2]
    assert clash.reason == series.BUSY
    offered = [(wall(slot.start), slot.therapist.name) for slot in clash.alternatives]
    assert ("Tue 22 Dec 10:00", "Sam Okafor") in offered  # another therapist at the same time
    # The same therapist that day: the morning is full once the booking's buffer is counted, so the afternoon.
    assert ("Tue 22 Dec 13:00", "Alex Moreau") in offered
    assert ("Mon 21 Dec 10:00", "Alex Moreau") in offered and ("Wed 23 Dec 10:00", "Alex Moreau") in offered


def test_series_plan_query_count_does_not_grow_with_sessions_or_appointments(
    option, therapist, second_therapist, clinic, now, django_assert_max_num_queries
):
    for week in range(26):
        day = TUESDAY + timedelta(weeks=week)
        AppointmentFactory(therapist=therapist, service=option.service, start=at(day, 10))
        AppointmentFactory(therapist=second_therapist, service=option.service, start=at(day, 10))

    with django_assert_max_num_queries(5):
        sessions = selectors.series_plan(option, None, weekly(TUESDAY, 10, 26), clinic, now)

    assert len(sessions) == 26 and not any(session.fits for session in sessions)
    assert all(session.alternatives for session in sessions)


def test_series_plan_sees_time_off(option, therapist, clinic, now):
    TimeOffFactory(therapist=therapist, start=at(date(2026, 12, 15), 0), end=at(date(2026, 12, 16), 0))

    sessions = selectors.series_plan(option, therapist, weekly(TUESDAY, 10, 3), clinic, now)

    assert [session.fits for session in sessions] == [True, False, True]


# --- booking a series: all or none ---------------------------------------------------------------


def test_a_series_is_booked_in_one_go_with_its_history_and_one_patient(option, therapist, now, receptionist):
    starts = weekly(TUESDAY, 10, 6)

    booked = services.appointment_book_series(
        option=option, therapist=therapist, starts=starts, patient=ana(), now=now, actor=receptionist, note=" Sciatica "
    )

    assert [appointment.start for appointment in booked] == starts
    assert Appointment.objects.count() == 6
    assert Patient.objects.count() == 1
    assert {appointment.patient_note for appointment in booked} == {"Sciatica"}
    assert {appointment.channel for appointment in booked} == {Appointment.Channel.PHONE}
    assert AppointmentEvent.objects.filter(kind=AppointmentEvent.Kind.BOOKED, actor_name="desk").count() == 6


def test_a_series_that_fails_on_its_last_session_saves_none_of_them(option, therapist, now, receptionist, monkeypatch):
    starts = weekly(TUESDAY, 10, 6)
    # A clash that appeared after the receptionist's check: the sixth Tuesday is taken meanwhile.
    AppointmentFactory(therapist=therapist, service=option.service, start=starts[-1])
    written = []
    real_save = services._save
    monkeypatch.setattr(services, "_save", lambda appointment: (real_save(appointment), written.append(appointment)))

    with pytest.raises(SlotTaken) as refused:
        services.appointment_book_series(
            option=option, therapist=therapist, starts=starts, patient=ana(), now=now, actor=receptionist
        )

    assert len(written) == 5  # five were written inside the transaction...
    assert Appointment.objects.count() == 1  # ...and rolled back with it: only the clash is there
    assert not Patient.objects.filter(email="ana@example.com").exists()
    assert not AppointmentEvent.objects.exists()
    assert refused.value.code == "slot_taken"
    assert "Session 6, Tue 12 Jan 2027 10:00" in refused.value.message


def test_a_series_books_each_session_with_its_own_therapist(option, therapist, second_therapist, now, receptionist):
    starts = weekly(TUESDAY, 10, 3)

    booked = services.appointment_book_series(
        option=option,
        therapist=therapist,
        starts=starts,
        therapists=[None, second_therapist, None],
        patient=ana(),
        now=now,
        actor=receptionist,
    )

    assert [appointment.therapist for appointment in booked] == [therapist, second_therapist, therapist]


def test_a_series_refuses_a_session_outside_working_hours_naming_it(option, therapist, now, receptionist):
    starts = [at(TUESDAY, 10), at(date(2026, 12, 12), 10)]  # the second is a Saturday

    with pytest.raises(BookingError) as refused:
        services.appointment_book_series(
            option=option, therapist=therapist, starts=starts, patient=ana(), now=now, actor=receptionist
        )

    assert refused.value.code == "outside_hours"
    assert refused.value.message.startswith("Session 2, Sat 12 Dec 2026 10:00:")
    assert not Appointment.objects.exists()


def test_a_series_across_the_clock_change_is_booked_at_the_same_wall_clock_time(option, therapist, receptionist):
    october = datetime(2026, 10, 19, 12, tzinfo=UTC)
    starts = series.repeat_starts(at(date(2026, 10, 27), 10), every_weeks=1, count=2, tz=TORONTO)

    booked = services.appointment_book_series(
        option=option, therapist=therapist, starts=starts, patient=ana(), now=october, actor=receptionist
    )

    assert [f"{a.start.astimezone(TORONTO):%Y-%m-%d %H:%M}" for a in booked] == ["2026-10-27 10:00", "2026-11-03 10:00"]
    assert [a.end - a.start for a in booked] == [timedelta(minutes=60)] * 2


def test_only_the_front_desk_books_a_series(option, therapist, now):
    with pytest.raises(BookingError) as refused:
        services.appointment_book_series(
            option=option,
            therapist=therapist,
            starts=weekly(TUESDAY, 10, 2),
            patient=ana(),
            now=now,
            actor=Actor.patient(),
        )
    assert refused.value.code == "not_allowed"


def test_a_repeated_series_request_returns_the_sessions_already_booked(option, now, therapist, receptionist):
    kwargs = {"option": option, "therapist": None, "starts": weekly(TUESDAY, 10, 3), "now": now, "actor": receptionist}

    first = services.appointment_book_series(patient=ana(), request_key="k" * 32, **kwargs)
    again = services.appointment_book_series(patient=ana(), request_key="k" * 32, **kwargs)

    assert [a.pk for a in again] == [a.pk for a in first]
    assert Appointment.objects.count() == 3


def test_a_series_sends_one_email_listing_every_session(
    option, therapist, now, receptionist, mailoutbox, deliver_outbox, django_capture_on_commit_callbacks
):
    patient = PatientFactory(name="Ana Silva", email="ana@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        booked = services.appointment_book_series(
            option=option,
            therapist=therapist,
            starts=weekly(TUESDAY, 10, 6),
            patient=patient,
            now=now,
            actor=receptionist,
        )

    deliver_outbox()
    assert len(mailoutbox) == 1
    [message] = mailoutbox
    assert message.to == ["ana@example.com"]
    assert message.subject.startswith("Your 6 appointments are booked")
    assert "Tuesday 8 December 2026, 10:00 AM to 11:00 AM" in message.body
    assert "Tuesday 12 January 2027, 10:00 AM to 11:00 AM" in message.body
    assert all(appointment.manage_token in message.body for appointment in booked)
    [(name, content, kind)] = message.attachments
    assert (name, kind) == ("appointments.ics", "text/calendar")
    assert content.count("BEGIN:VEVENT") == 6


def test_a_series_booked_without_email_sends_none(
    option, therapist, now, receptionist, mailoutbox, deliver_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_book_series(
            option=option,
            therapist=therapist,
            starts=weekly(TUESDAY, 10, 2),
            patient=ana(),
            now=now,
            actor=receptionist,
            notify=False,
        )

    deliver_outbox()
    assert mailoutbox == []
    assert Appointment.objects.count() == 2


def test_one_booking_needs_an_open_transaction(transactional_db, option, therapist, clinic, now):
    with pytest.raises(RuntimeError):
        services._book_locked(
            therapists=[therapist],
            option=option,
            start=at(TUESDAY, 10),
            patient=ana(),
            clinic=clinic,
            now=now,
            actor=Actor.system("tests"),
            channel=None,
            request_key=None,
            note="",
        )


def test_the_database_backstop_rolls_back_the_whole_series(
    postgres_only, option, therapist, now, receptionist, monkeypatch
):
    """With the engine's check bypassed, PostgreSQL's exclusion constraint still refuses the clash: nothing is kept."""
    assert connection.vendor == "postgresql"
    starts = weekly(TUESDAY, 10, 3)
    AppointmentFactory(therapist=therapist, service=option.service, start=starts[-1])
    monkeypatch.setattr(services, "_free_therapist_at", lambda *, therapists, **kwargs: therapists[0])

    with pytest.raises(SlotTaken):
        services.appointment_book_series(
            option=option, therapist=therapist, starts=starts, patient=ana(), now=now, actor=receptionist
        )

    assert Appointment.objects.count() == 1
