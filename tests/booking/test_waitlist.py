"""The waitlist's pure decisions: what suits a patient, who is offered which freed time, and when an offer lapses.

No database: plain data in, plain data out, as booking.waitlist promises.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking import waitlist
from booking.availability import Interval
from booking.waitlist import ANY_TIME, Match, Opening, Part, Wish

TORONTO = ZoneInfo("America/Toronto")
# Tuesday 8 December 2026 in Toronto.
TUESDAY = date(2026, 12, 8)
JOINED = datetime(2026, 11, 1, 12, tzinfo=UTC)
BUFFER = timedelta(minutes=15)
HOUR = (1, 60)  # the length key the tests use: service 1, 60 minutes
HALF_HOUR = (1, 30)


def local(hour: int, minute: int = 0, day: date = TUESDAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TORONTO)


def opening(hour: int, minute: int = 0, minutes: int = 60, day: date = TUESDAY) -> Opening:
    start = local(hour, minute, day)
    end = start + timedelta(minutes=minutes)
    return Opening(start, end, end + BUFFER)


def wish(key, *, joined_minutes: int = 0, length=HOUR, therapist=None, suits: int = ANY_TIME, patient=None) -> Wish:
    return Wish(
        key=key,
        joined=JOINED + timedelta(minutes=joined_minutes),
        length=length,
        therapist=therapist,
        suits=suits,
        patient=key if patient is None else patient,
    )


def offered(matches: list[Match]) -> list[tuple[object, datetime]]:
    return [(m.wish.key, m.opening.start) for m in matches]


# --- what suits a patient ---------------------------------------------------------------------------


def test_no_times_ticked_means_any_time():
    assert waitlist.mask_of([]) == ANY_TIME
    assert waitlist.pairs_of(ANY_TIME) == {(day, part) for day in range(7) for part in Part}


def test_a_mask_holds_exactly_the_pairs_ticked():
    pairs = {(0, Part.MORNING), (3, Part.EVENING), (6, Part.AFTERNOON)}
    assert waitlist.pairs_of(waitlist.mask_of(pairs)) == pairs


def test_a_weekday_outside_the_week_is_refused():
    with pytest.raises(ValueError):
        waitlist.bit(7, Part.MORNING)


@pytest.mark.parametrize(
    ("clock", "part"),
    [
        (time(0), Part.MORNING),
        (time(11, 59), Part.MORNING),
        (time(12), Part.AFTERNOON),
        (time(16, 59), Part.AFTERNOON),
        (time(17), Part.EVENING),
        (time(23, 45), Part.EVENING),
    ],
)
def test_the_part_of_the_day_goes_by_the_start(clock, part):
    assert waitlist.part_of_day(clock) is part


def test_what_suits_is_read_on_the_clinics_clock():
    tuesday_evenings = waitlist.mask_of([(1, Part.EVENING)])
    # 19:00 on Tuesday in Toronto is already Wednesday in UTC.
    seven_pm = local(19)
    assert seven_pm.astimezone(UTC).weekday() == 2
    assert waitlist.suits(tuesday_evenings, seven_pm.astimezone(UTC), TORONTO)
    assert not waitlist.suits(tuesday_evenings, local(10), TORONTO)


@pytest.mark.parametrize(
    ("pairs", "text"),
    [
        ([], "Any day, any time"),
        ([(day, Part.MORNING) for day in range(5)], "Mon–Fri: mornings"),
        ([(1, Part.EVENING), (3, Part.EVENING)], "Tue, Thu: evenings"),
        ([(0, part) for part in Part], "Mon: any time"),
        (
            [(0, Part.MORNING), (1, Part.MORNING), (2, Part.AFTERNOON), (2, Part.EVENING)],
            "Mon, Tue: mornings; Wed: afternoons and evenings",
        ),
    ],
)
def test_what_suits_is_described_in_a_few_words(pairs, text):
    assert waitlist.describe(waitlist.mask_of(pairs)) == text


def test_the_form_offers_only_the_parts_of_days_someone_works():
    weekly = {
        0: [(time(9), time(12)), (time(13), time(17))],
        2: [(time(13), time(20))],
        5: [(time(17, 30), time(21))],
    }
    assert waitlist.open_parts(weekly) == {
        0: {Part.MORNING, Part.AFTERNOON},
        2: {Part.AFTERNOON, Part.EVENING},
        5: {Part.EVENING},
    }


# --- who gets which freed time ---------------------------------------------------------------------------


def test_the_first_to_join_is_offered_the_time():
    later, earlier = wish("later", joined_minutes=10), wish("earlier", joined_minutes=1)

    matches = waitlist.match([later, earlier], {HOUR: [opening(10)]}, therapist="alex", tz=TORONTO)

    assert offered(matches) == [("earlier", local(10))]


def test_ties_in_joining_time_go_by_key_so_the_order_is_stable():
    matches = waitlist.match([wish("b"), wish("a")], {HOUR: [opening(10)]}, therapist="alex", tz=TORONTO)
    assert offered(matches) == [("a", local(10))]


def test_only_a_session_of_the_wanted_length_is_offered():
    matches = waitlist.match(
        [wish("wants 30", length=HALF_HOUR), wish("wants 60", joined_minutes=1)],
        {HOUR: [opening(10)]},
        therapist="alex",
        tz=TORONTO,
    )
    assert offered(matches) == [("wants 60", local(10))]


def test_a_patient_who_asked_for_another_therapist_is_passed_over():
    matches = waitlist.match(
        [wish("wants sam", therapist="sam"), wish("wants alex", therapist="alex", joined_minutes=1)],
        {HOUR: [opening(10)]},
        therapist="alex",
        tz=TORONTO,
    )
    assert offered(matches) == [("wants alex", local(10))]


def test_the_weekday_and_part_of_the_day_must_suit():
    matches = waitlist.match(
        [
            wish("mondays", suits=waitlist.mask_of([(0, Part.MORNING)])),
            wish("tuesday afternoons", suits=waitlist.mask_of([(1, Part.AFTERNOON)]), joined_minutes=1),
            wish("tuesday mornings", suits=waitlist.mask_of([(1, Part.MORNING)]), joined_minutes=2),
        ],
        {HOUR: [opening(10)]},
        therapist="alex",
        tz=TORONTO,
    )
    assert offered(matches) == [("tuesday mornings", local(10))]


def test_each_patient_gets_the_earliest_time_that_suits_them():
    matches = waitlist.match(
        [wish("afternoons", suits=waitlist.mask_of([(1, Part.AFTERNOON)]))],
        {HOUR: [opening(15), opening(10), opening(13)]},
        therapist="alex",
        tz=TORONTO,
    )
    assert offered(matches) == [("afternoons", local(13))]


def test_one_time_goes_to_one_patient_and_overlapping_times_are_not_offered_to_others():
    # 10:00 and 10:15 overlap (a session plus its buffer); 11:15 starts when 10:00's buffer ends.
    matches = waitlist.match(
        [wish("first"), wish("second", joined_minutes=1), wish("third", joined_minutes=2)],
        {HOUR: [opening(10), opening(10, 15), opening(11, 15)]},
        therapist="alex",
        tz=TORONTO,
    )
    assert offered(matches) == [("first", local(10)), ("second", local(11, 15))]


def test_a_time_already_offered_and_not_yet_answered_is_not_offered_again():
    held = [Interval(local(10), local(11, 15))]
    matches = waitlist.match(
        [wish("a")], {HOUR: [opening(10), opening(10, 30), opening(11, 15)]}, therapist="alex", tz=TORONTO, held=held
    )
    assert offered(matches) == [("a", local(11, 15))]


def test_a_patient_is_not_offered_again_a_time_they_let_go():
    matches = waitlist.match(
        [wish("let it go"), wish("next", joined_minutes=1)],
        {HOUR: [opening(10)]},
        therapist="alex",
        tz=TORONTO,
        offered_before={("let it go", local(10).astimezone(UTC))},
    )
    assert offered(matches) == [("next", local(10))]


def test_a_patient_holding_an_offer_gets_no_second_one_even_if_they_joined_twice():
    twice = [wish("entry 1", patient="jo"), wish("entry 2", patient="jo", joined_minutes=1)]
    matches = waitlist.match(
        [*twice, wish("someone else", joined_minutes=2)],
        {HOUR: [opening(10), opening(14)]},
        therapist="alex",
        tz=TORONTO,
    )
    assert offered(matches) == [("entry 1", local(10)), ("someone else", local(14))]

    busy = waitlist.match(twice, {HOUR: [opening(14)]}, therapist="alex", tz=TORONTO, busy_patients={"jo"})
    assert busy == []


def test_nobody_waiting_or_nothing_free_offers_nothing():
    assert waitlist.match([], {HOUR: [opening(10)]}, therapist="alex", tz=TORONTO) == []
    assert waitlist.match([wish("a")], {}, therapist="alex", tz=TORONTO) == []


def test_only_sessions_that_use_the_freed_time_count_as_freed():
    freed = [Interval(local(10), local(11, 15))]
    assert waitlist.touches(opening(10), freed)
    assert waitlist.touches(opening(9), freed)  # its buffer runs to 10:15, into the freed time
    assert not waitlist.touches(opening(8, 45), freed)  # its buffer ends at 10:00 sharp
    assert not waitlist.touches(opening(11, 15), freed)


# --- how long an offer lasts -----------------------------------------------------------------------------


def test_an_offer_lasts_the_clinics_lifetime():
    now = local(8)
    expires = waitlist.offer_expiry(now=now, lifetime=timedelta(hours=2), start=local(15), notice=timedelta(hours=2))
    assert expires == local(10)


def test_an_offer_ends_when_the_time_comes_too_close_to_book_online():
    now = local(8)
    expires = waitlist.offer_expiry(now=now, lifetime=timedelta(hours=2), start=local(11), notice=timedelta(hours=2))
    assert expires == local(9)


def test_a_time_too_close_to_answer_is_not_offered():
    now = local(8)
    notice = timedelta(hours=2)
    assert waitlist.offer_expiry(now=now, lifetime=timedelta(hours=2), start=local(10, 10), notice=notice) is None
    assert waitlist.offer_expiry(now=now, lifetime=timedelta(hours=2), start=local(10, 15), notice=notice) is not None


def test_offer_times_must_be_aware():
    with pytest.raises(ValueError):
        waitlist.offer_expiry(
            now=datetime(2026, 12, 8, 8), lifetime=timedelta(hours=2), start=local(15), notice=timedelta(hours=2)
        )


# --- time that a change opens -----------------------------------------------------------------------------


def test_time_gained_is_what_is_open_after_and_was_not_before():
    before = [Interval(local(9), local(12)), Interval(local(13), local(17))]
    after = [Interval(local(9), local(17))]
    assert waitlist.gained(before, after) == [Interval(local(12).astimezone(UTC), local(13).astimezone(UTC))]


def test_nothing_is_gained_when_time_only_shrinks():
    before = [Interval(local(9), local(17))]
    assert waitlist.gained(before, [Interval(local(10), local(12))]) == []
    assert waitlist.gained(before, []) == []


def test_time_gained_on_both_sides_and_on_a_new_day():
    before = [Interval(local(10), local(12))]
    after = [Interval(local(9), local(13)), Interval(local(9, day=date(2026, 12, 9)), local(10, day=date(2026, 12, 9)))]
    assert [(i.start.astimezone(TORONTO), i.end.astimezone(TORONTO)) for i in waitlist.gained(before, after)] == [
        (local(9), local(10)),
        (local(12), local(13)),
        (local(9, day=date(2026, 12, 9)), local(10, day=date(2026, 12, 9))),
    ]
