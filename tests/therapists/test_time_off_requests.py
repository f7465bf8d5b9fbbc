"""A therapist's own time off at /schedule/time-off/: blocked at once when nobody is booked then, otherwise a
request that blocks nothing until the front desk approves it; only approved time off counts anywhere.

The clock is Monday 7 Dec 2026, 08:00 in Toronto. Alex and Sam work weekdays 9–12 and 13–17; Jordan Lee is
booked with Alex on Tuesday at 10:00.
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from booking import selectors
from booking.actors import Actor, Via
from booking.selectors import SlotSearch
from clinic import change_log
from tests.conftest import NOW, staff_user
from tests.factories import AppointmentFactory, PatientFactory, TimeOffFactory
from therapists import services
from therapists.models import TimeOff

TORONTO = ZoneInfo("America/Toronto")
PAGE = "/schedule/time-off/"
TUESDAY, WEDNESDAY = date(2026, 12, 8), date(2026, 12, 9)
# The clinic settings, session, user, the therapist behind the login, the user's permissions (two: is this a
# manager?); then the time off (every status, with the therapist) and the appointments booked inside it.
PAGE_QUERIES = 8

Status = TimeOff.Status


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TORONTO)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def alex(therapist):
    """Alex's staff login, linked to the therapist Alex Moreau."""
    therapist.user = staff_user("alex", "Therapist")
    therapist.save()
    return therapist.user


@pytest.fixture
def sam(second_therapist):
    second_therapist.user = staff_user("sam", "Therapist")
    second_therapist.save()
    return second_therapist.user


@pytest.fixture
def alex_client(client, alex):
    client.force_login(alex)
    return client


@pytest.fixture
def booked(therapist, service):
    """Jordan Lee, booked with Alex on Tuesday 10:00–11:00."""
    return AppointmentFactory(
        therapist=therapist, service=service, start=local(TUESDAY, 10), patient=PatientFactory(name="Jordan Lee")
    )


def ask(client, /, url=PAGE, **fields):
    """Post the add form; `fields` change or (with None) leave out a field."""
    data = {"start_date": WEDNESDAY.isoformat(), "reason": "Course", **fields}
    return client.post(url, {key: value for key, value in data.items() if value is not None})


def shown_messages(client) -> list[str]:
    return [str(message) for message in client.get(PAGE).context["messages"]]


def free_starts(therapist, option, clinic, now, day: date) -> list[datetime]:
    search = SlotSearch(option=option, therapists=[therapist], first_day=day, days=1)
    return [slot.start for slot in selectors.free_slots(search, clinic, now)]


def therapist_actor(user) -> Actor:
    return Actor.staff(user, Via.SCHEDULE)


def request_time_off(therapist, user, start, end, now=NOW, reason="Course"):
    return services.time_off_request(
        therapist=therapist, start=start, end=end, reason=reason, now=now, actor=therapist_actor(user)
    )


def test_the_page_has_its_url_names():
    assert reverse("schedule:time_off") == PAGE
    assert reverse("schedule:time_off_withdraw", args=[7]) == "/schedule/time-off/7/withdraw/"


# Who may come in


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    for response in (client.get(PAGE), client.post(PAGE, {}), client.post(f"{PAGE}1/withdraw/")):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_receptionists_are_refused(desk_client, therapist):
    time_off = TimeOffFactory(therapist=therapist, start=local(WEDNESDAY, 9), end=local(WEDNESDAY, 12))

    assert desk_client.get(PAGE).status_code == 403
    assert ask(desk_client).status_code == 403
    assert desk_client.post(reverse("schedule:time_off_withdraw", args=[time_off.pk])).status_code == 403
    assert TimeOff.objects.count() == 1


def test_a_therapist_cannot_open_or_change_a_colleagues_time_off(alex_client, second_therapist, sam):
    theirs = TimeOffFactory(
        therapist=second_therapist, start=local(WEDNESDAY, 9), end=local(WEDNESDAY, 12), reason="Fertility clinic"
    )

    assert alex_client.get(PAGE, {"therapist": "sam-okafor"}).status_code == 404
    assert ask(alex_client, url=f"{PAGE}?therapist=sam-okafor").status_code == 404
    assert alex_client.post(reverse("schedule:time_off_withdraw", args=[theirs.pk])).status_code == 404
    assert "Fertility clinic" not in alex_client.get(PAGE).content.decode()
    assert list(TimeOff.objects.values_list("therapist_id", flat=True)) == [second_therapist.pk]


def test_the_service_lets_a_therapist_act_on_their_own_time_only(therapist, second_therapist, alex, now):
    with pytest.raises(services.TimeOffError) as refused:
        request_time_off(second_therapist, alex, local(WEDNESDAY, 9), local(WEDNESDAY, 12))
    assert refused.value.code == "not_yours"

    theirs = TimeOffFactory(therapist=second_therapist, start=local(WEDNESDAY, 9), end=local(WEDNESDAY, 12))
    with pytest.raises(services.TimeOffError) as refused:
        services.time_off_withdraw(time_off=theirs, now=now, actor=therapist_actor(alex))
    assert refused.value.code == "not_yours"
    with pytest.raises(services.TimeOffError) as refused:
        services.time_off_request(
            therapist=therapist,
            start=local(WEDNESDAY, 9),
            end=local(WEDNESDAY, 12),
            reason="",
            now=now,
            actor=Actor.patient(),
        )
    assert refused.value.code == "not_allowed"
    assert TimeOff.objects.count() == 1


def test_a_therapist_can_neither_approve_nor_decline_even_their_own_request(therapist, alex, booked, now):
    request = request_time_off(therapist, alex, local(TUESDAY, 0), local(WEDNESDAY, 0)).time_off

    with pytest.raises(services.TimeOffError) as refused:
        services.time_off_approve(time_off=request, confirm_stranded=[booked.pk], now=now, actor=therapist_actor(alex))
    assert refused.value.code == "not_allowed"
    with pytest.raises(services.TimeOffError) as refused:
        services.time_off_decline(time_off=request, reason="No", now=now, actor=therapist_actor(alex))
    assert refused.value.code == "not_allowed"
    request.refresh_from_db()
    assert request.status == Status.REQUESTED


# A day with nobody booked: blocked at once


def test_a_day_with_no_bookings_is_blocked_at_once(alex_client, alex, therapist, option, clinic, now):
    assert free_starts(therapist, option, clinic, now, WEDNESDAY)

    response = ask(alex_client, start_date=WEDNESDAY.isoformat())

    assert response.status_code == 302
    assert response["Location"] == PAGE
    time_off = TimeOff.objects.get()
    assert (time_off.start, time_off.end) == (local(WEDNESDAY, 0), local(date(2026, 12, 10), 0))
    assert (time_off.status, time_off.requested_by, time_off.decided_by) == (Status.APPROVED, alex, None)
    assert time_off.decided_at == now
    assert free_starts(therapist, option, clinic, now, WEDNESDAY) == []
    assert shown_messages(alex_client) == ["Blocked: Wed 9 Dec 2026, all day. Nobody can book Alex Moreau then."]


def test_part_of_a_day_in_the_clinics_clock(alex_client, therapist, option, clinic, now):
    response = ask(alex_client, start_time="13:00", end_time="17:00", reason="Dentist")

    assert response.status_code == 302
    time_off = TimeOff.objects.get()
    assert (time_off.start, time_off.end, time_off.reason) == (local(WEDNESDAY, 13), local(WEDNESDAY, 17), "Dentist")
    starts = free_starts(therapist, option, clinic, now, WEDNESDAY)
    assert starts
    assert all(start + option.duration <= local(WEDNESDAY, 13) for start in starts)


# A day with a booking: a request that blocks nothing


def test_a_day_with_a_booking_becomes_a_request_that_lists_it_and_blocks_nothing(
    alex_client, therapist, booked, option, clinic, now
):
    free_before = free_starts(therapist, option, clinic, now, TUESDAY)

    response = ask(alex_client, start_date=TUESDAY.isoformat(), reason="Family")

    assert response.status_code == 302
    time_off = TimeOff.objects.get()
    assert time_off.status == Status.REQUESTED
    assert (time_off.decided_by, time_off.decided_at) == (None, None)
    assert free_starts(therapist, option, clinic, now, TUESDAY) == free_before
    assert local(TUESDAY, 14) in free_before
    [message] = shown_messages(alex_client)
    assert message.startswith("Sent to the front desk for approval: Tue 8 Dec 2026, all day. 1 patient is booked")
    assert "Jordan, Tue 8 Dec, 10:00, Myofascial release" in message
    assert "Lee" not in message  # first names only

    body = alex_client.get(PAGE).content.decode()
    assert "Waiting for approval" in body
    assert "Withdraw request" in body
    assert "Jordan, Tue 8 Dec, 10:00–11:00, Myofascial release" in body
    assert "Jordan Lee" not in body


def test_a_booking_made_while_the_request_waits_is_listed_with_it(alex_client, therapist, service, booked):
    ask(alex_client, start_date=TUESDAY.isoformat())
    AppointmentFactory(
        therapist=therapist, service=service, start=local(TUESDAY, 14), patient=PatientFactory(name="Robin Roe")
    )

    body = alex_client.get(PAGE).content.decode()

    assert "Jordan, Tue 8 Dec, 10:00–11:00" in body
    assert "Robin, Tue 8 Dec, 14:00–15:00" in body


def test_only_approved_time_off_blocks_free_times(therapist, option, clinic, now):
    free = free_starts(therapist, option, clinic, now, WEDNESDAY)
    for status in (Status.REQUESTED, Status.DECLINED):
        TimeOff.objects.all().delete()
        TimeOffFactory(therapist=therapist, start=local(WEDNESDAY, 0), end=local(date(2026, 12, 10), 0), status=status)
        assert free_starts(therapist, option, clinic, now, WEDNESDAY) == free, status

    TimeOff.objects.update(status=Status.APPROVED)
    assert free_starts(therapist, option, clinic, now, WEDNESDAY) == []


def test_only_approved_time_off_is_busy_for_repeat_bookings_and_the_staff(therapist, option, clinic, now):
    TimeOffFactory(therapist=therapist, start=local(WEDNESDAY, 9), end=local(WEDNESDAY, 17), status=Status.REQUESTED)
    [(_, busy)] = selectors.calendars_on_days([therapist], [WEDNESDAY], clinic).values()
    assert busy == []
    assert selectors.staff_free_slots(option, [therapist], WEDNESDAY, 1, clinic, now)

    TimeOff.objects.update(status=Status.APPROVED)
    [(_, busy)] = selectors.calendars_on_days([therapist], [WEDNESDAY], clinic).values()
    assert len(busy) == 1
    assert selectors.staff_free_slots(option, [therapist], WEDNESDAY, 1, clinic, now) == []


def test_only_approved_time_off_shows_on_the_calendar_and_in_the_front_desk_list(therapist, clinic, now):
    waiting = TimeOffFactory(
        therapist=therapist, start=local(WEDNESDAY, 9), end=local(WEDNESDAY, 12), status=Status.REQUESTED
    )
    TimeOffFactory(therapist=therapist, start=local(WEDNESDAY, 13), end=local(WEDNESDAY, 14), status=Status.DECLINED)
    approved = TimeOffFactory(therapist=therapist, start=local(WEDNESDAY, 15), end=local(WEDNESDAY, 16))

    assert selectors.calendar_range(WEDNESDAY, WEDNESDAY, clinic).time_off == [approved]
    assert [entry.time_off for entry in selectors.upcoming_time_off(now)] == [approved]
    asked = selectors.upcoming_time_off(now, statuses=[Status.REQUESTED])
    assert [entry.time_off for entry in asked] == [waiting]
    assert selectors.time_off_requests_waiting(now) == 1


def test_a_request_does_not_count_as_time_off_when_checking_what_is_stranded(therapist, booked, clinic, now):
    TimeOffFactory(therapist=therapist, start=local(TUESDAY, 9), end=local(TUESDAY, 12), status=Status.REQUESTED)

    # Jordan is still covered (the request is not time off), so an hour off over him strands him.
    stranded = selectors.stranded_appointments(
        therapist, now=now, clinic=clinic, add_time_off=[(local(TUESDAY, 10), local(TUESDAY, 11))]
    )
    assert stranded == [booked]

    TimeOff.objects.update(status=Status.APPROVED)
    assert (
        selectors.stranded_appointments(
            therapist, now=now, clinic=clinic, add_time_off=[(local(TUESDAY, 10), local(TUESDAY, 11))]
        )
        == []
    )


# The list


def test_the_list_shows_each_status_and_the_front_desks_answer(alex_client, alex, therapist, booked, now):
    rosa = staff_user("rosa", "Receptionist")
    TimeOffFactory(therapist=therapist, start=local(date(2026, 12, 1), 9), end=local(date(2026, 12, 1), 17))
    TimeOffFactory(
        therapist=therapist,
        start=local(date(2026, 12, 14), 0),
        end=local(date(2026, 12, 16), 0),
        reason="Course",
        status=Status.DECLINED,
        requested_by=alex,
        decided_by=rosa,
        decided_at=now,
        decision_note="Two colleagues are already away that week.",
    )
    TimeOffFactory(
        therapist=therapist,
        start=local(date(2026, 12, 21), 9),
        end=local(date(2026, 12, 21), 12),
        reason="Dentist",
        requested_by=alex,
        decided_by=rosa,
        decided_at=now,
    )
    TimeOffFactory(therapist=therapist, start=local(date(2026, 12, 22), 9), end=local(date(2026, 12, 22), 12))

    response = alex_client.get(PAGE)
    body = response.content.decode()

    assert response.status_code == 200
    assert [row["time_off"].status for row in response.context["rows"]] == [
        Status.DECLINED,
        Status.APPROVED,
        Status.APPROVED,
    ]
    assert "Tue 1 Dec" not in body  # over
    assert "Mon 14 Dec – Tue 15 Dec 2026, all day" in body
    assert "Declined by the front desk on Mon 7 Dec:" in body
    assert "Two colleagues are already away that week." in body
    assert "Approved by the front desk on Mon 7 Dec." in body
    assert "Added by the front desk." in body
    assert body.count(">Blocked<") == 2
    assert body.count(">Remove<") == 2  # the approved ones with nobody booked; a declined one stays
    assert "Withdraw request" not in body


def test_the_page_reads_in_a_fixed_number_of_queries(alex_client, therapist, service, alex, django_assert_num_queries):
    with django_assert_num_queries(PAGE_QUERIES - 1):  # nothing coming up: no appointments to look for
        assert alex_client.get(PAGE).status_code == 200

    for day in range(9, 19):
        start = local(date(2026, 12, day), 9)
        status = Status.REQUESTED if day % 2 else Status.APPROVED
        TimeOffFactory(therapist=therapist, start=start, end=local(date(2026, 12, day), 12), status=status)
        AppointmentFactory(therapist=therapist, service=service, start=local(date(2026, 12, day), 10))
    with django_assert_num_queries(PAGE_QUERIES):
        response = alex_client.get(PAGE)

    assert len(response.context["rows"]) == 10
    assert all(len(row["booked"]) == 1 for row in response.context["rows"])


# Taking it back


def test_a_request_can_be_withdrawn(alex_client, therapist, booked):
    ask(alex_client, start_date=TUESDAY.isoformat())
    request = TimeOff.objects.get()

    response = alex_client.post(reverse("schedule:time_off_withdraw", args=[request.pk]))

    assert response.status_code == 302
    assert not TimeOff.objects.exists()
    assert shown_messages(alex_client)[-1] == "Request withdrawn: Tue 8 Dec 2026, all day."


def test_upcoming_approved_time_off_with_nobody_booked_can_be_removed(alex_client, therapist, option, clinic, now):
    ask(alex_client, start_date=WEDNESDAY.isoformat())

    alex_client.post(reverse("schedule:time_off_withdraw", args=[TimeOff.objects.get().pk]))

    assert not TimeOff.objects.exists()
    assert free_starts(therapist, option, clinic, now, WEDNESDAY)
    assert "Time off removed: Wed 9 Dec 2026, all day. Those times can be booked again." in shown_messages(alex_client)


@pytest.mark.parametrize(
    ("start", "end", "status", "message"),
    [
        (local(TUESDAY, 0), local(WEDNESDAY, 0), Status.APPROVED, "Patients are booked inside that time off"),
        (local(date(2026, 12, 7), 0), local(WEDNESDAY, 0), Status.APPROVED, "That time off has already begun"),
        (local(date(2026, 12, 14), 0), local(date(2026, 12, 15), 0), Status.DECLINED, "A declined request stays"),
    ],
)
def test_what_only_the_front_desk_may_take_away_stays(alex_client, therapist, booked, start, end, status, message):
    time_off = TimeOffFactory(therapist=therapist, start=start, end=end, status=status)

    response = alex_client.post(reverse("schedule:time_off_withdraw", args=[time_off.pk]), follow=True)

    assert TimeOff.objects.filter(pk=time_off.pk, status=status, start=start, end=end).exists()
    assert any(message in str(m) for m in response.context["messages"])
    body = response.content.decode()
    assert "Withdraw request" not in body
    assert ">Remove<" not in body


def test_withdrawing_is_post_only_and_unknown_time_off_is_a_404(alex_client, therapist):
    time_off = TimeOffFactory(therapist=therapist, start=local(WEDNESDAY, 9), end=local(WEDNESDAY, 12))

    assert alex_client.get(reverse("schedule:time_off_withdraw", args=[time_off.pk])).status_code == 405
    assert alex_client.post(reverse("schedule:time_off_withdraw", args=[time_off.pk + 1])).status_code == 404
    assert TimeOff.objects.count() == 1


# Refusals and bad input


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"start_date": ""}, "start_date", "Give the first day."),
        ({"start_date": "9/12/2026"}, "start_date", "Give the first day as a date."),
        ({"start_date": "2026-02-30"}, "start_date", "Give the first day as a date."),
        ({"start_date": "9999-12-31"}, "start_date", "Choose a date between a year ago and 5 years ahead."),
        ({"end_date": "2026-12-08"}, "end_date", "The last day must not be before the first."),
        ({"start_time": "09:00"}, "end_time", "Give both times, or leave both empty for whole days."),
        ({"start_time": "12:00", "end_time": "09:00"}, "end_time", "The end must be after the start."),
        ({"start_time": "nine", "end_time": "12:00"}, "start_time", "Enter a valid time."),
        ({"reason": "x" * 201}, "reason", "at most 200 characters"),
    ],
)
def test_bad_input_is_a_400_with_a_message_next_to_the_field(alex_client, therapist, fields, field, message):
    response = ask(alex_client, **fields)

    assert response.status_code == 400
    assert any(message in error for error in response.context["form"].errors[field])
    assert message.split(" at most")[0] in response.content.decode()
    assert not TimeOff.objects.exists()


def test_time_off_that_is_over_is_refused_with_the_reason(alex_client, therapist):
    response = ask(alex_client, start_date="2026-12-04")

    assert response.status_code == 409
    assert "That time off is already over." in response.content.decode()
    assert not TimeOff.objects.exists()


def test_a_second_request_over_one_still_waiting_is_refused(alex_client, therapist, booked):
    ask(alex_client, start_date=TUESDAY.isoformat())

    response = ask(alex_client, start_date=TUESDAY.isoformat(), start_time="09:00", end_time="12:00")

    assert response.status_code == 409
    assert "overlaps a time off request still waiting for approval" in response.content.decode()
    assert TimeOff.objects.count() == 1


def test_a_declined_request_does_not_stand_in_the_way_of_a_new_one(alex_client, therapist):
    TimeOffFactory(therapist=therapist, start=local(WEDNESDAY, 0), end=local(date(2026, 12, 10), 0), status="declined")

    assert ask(alex_client, start_date=WEDNESDAY.isoformat()).status_code == 302
    assert TimeOff.objects.filter(status=Status.APPROVED).count() == 1


# A manager, through the schedule


def test_a_manager_adds_approved_time_off_for_the_therapist_they_picked(client, therapist, second_therapist):
    morgan = staff_user("morgan", "Manager")
    client.force_login(morgan)
    url = f"{PAGE}?therapist=sam-okafor"

    page = client.get(url)
    response = ask(client, url=url)

    assert page.status_code == 200
    assert "Sam Okafor's time off" in page.content.decode()
    assert f'action="{url}"' in page.content.decode()
    assert response.status_code == 302
    assert response["Location"] == url
    time_off = TimeOff.objects.get()
    assert (time_off.therapist, time_off.status, time_off.decided_by) == (second_therapist, Status.APPROVED, morgan)


def test_a_manager_over_booked_patients_makes_a_request_too(client, therapist, booked):
    client.force_login(staff_user("morgan", "Manager"))

    ask(client, url=f"{PAGE}?therapist=alex-moreau", start_date=TUESDAY.isoformat())

    assert TimeOff.objects.get().status == Status.REQUESTED


# The admin


def test_the_admin_shows_each_time_offs_status_and_filters_by_it(admin_client, therapist, booked):
    TimeOffFactory(therapist=therapist, start=local(TUESDAY, 0), end=local(WEDNESDAY, 0), status=Status.REQUESTED)
    TimeOffFactory(therapist=therapist, start=local(WEDNESDAY, 9), end=local(WEDNESDAY, 12))

    listing = admin_client.get(reverse("admin:therapists_timeoff_changelist"), {"status__exact": "requested"})
    therapist_page = admin_client.get(reverse("admin:therapists_therapist_change", args=[therapist.pk]))

    assert listing.status_code == 200
    assert [row.status for row in listing.context["cl"].result_list] == [Status.REQUESTED]
    assert "Waiting for approval" in listing.content.decode()
    assert therapist_page.status_code == 200
    assert "Waiting for approval" in therapist_page.content.decode()


# Who changed a therapist's time off


def test_each_change_to_time_off_is_written_on_the_therapist_without_its_reason(therapist, alex, booked, now):
    rosa = staff_user("rosa", "Receptionist")
    desk = Actor.staff(rosa, Via.FRONT_DESK)
    asked = request_time_off(therapist, alex, local(TUESDAY, 9), local(TUESDAY, 17), reason="Dentist").time_off
    services.time_off_decline(time_off=asked, reason="Fully booked that day", now=now, actor=desk)
    added = services.time_off_add(
        therapist=therapist,
        start=local(WEDNESDAY, 13),
        end=local(WEDNESDAY, 17),
        reason="Course",
        confirm_stranded=[],
        now=now,
        actor=desk,
    )
    services.time_off_remove(time_off=added, now=now, actor=desk)
    mine = request_time_off(therapist, alex, local(WEDNESDAY, 9), local(WEDNESDAY, 12)).time_off
    services.time_off_withdraw(time_off=mine, now=now, actor=therapist_actor(alex))

    entries = list(reversed(change_log.history_of(therapist)))
    assert [(entry.user.username, entry.get_change_message()) for entry in entries] == [
        ("alex", "Asked for time off Tue 8 Dec 2026 09:00 – Tue 8 Dec 2026 17:00."),
        ("rosa", "Declined time off Tue 8 Dec 2026 09:00 – Tue 8 Dec 2026 17:00."),
        ("rosa", "Added time off Wed 9 Dec 2026 13:00 – Wed 9 Dec 2026 17:00."),
        ("rosa", "Removed time off Wed 9 Dec 2026 13:00 – Wed 9 Dec 2026 17:00."),
        ("alex", "Added time off Wed 9 Dec 2026 09:00 – Wed 9 Dec 2026 12:00."),
        ("alex", "Withdrew time off Wed 9 Dec 2026 09:00 – Wed 9 Dec 2026 12:00."),
    ]
    assert not any("Dentist" in entry.get_change_message() for entry in entries)


def test_a_manager_reads_who_changed_time_off_in_the_therapists_admin_history(client, therapist, now):
    rosa = staff_user("rosa", "Receptionist")
    start = local(WEDNESDAY, 13)
    services.time_off_add(
        therapist=therapist,
        start=start,
        end=local(WEDNESDAY, 17),
        reason="Course",
        confirm_stranded=[],
        now=now,
        actor=Actor.staff(rosa, Via.FRONT_DESK),
    )
    client.force_login(staff_user("morgan", "Manager"))

    page = client.get(reverse("admin:therapists_therapist_history", args=[therapist.pk])).content.decode()

    assert "Added time off Wed 9 Dec 2026 13:00 – Wed 9 Dec 2026 17:00." in page
    assert "rosa" in page
