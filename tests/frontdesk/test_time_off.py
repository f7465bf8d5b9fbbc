"""Time off from the front desk: the list, adding it (asking first when booked appointments fall inside), ending it.

The clock is Monday 7 Dec 2026, 08:00 in Toronto. Alex works weekdays 9–12 and 13–17 and has a patient booked
on Tuesday at 10:00.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from booking import selectors
from booking.actors import Actor
from booking.models import Appointment
from booking.selectors import SlotSearch
from tests.conftest import NOW, staff_user
from tests.factories import AppointmentFactory, PatientFactory, TimeOffFactory
from therapists import services
from therapists.models import TimeOff

TORONTO = ZoneInfo("America/Toronto")
PAGE = "/frontdesk/time-off/"
# Clinic settings, session, user, two for permissions; time off (with therapists), the appointments inside
# them, the therapist choices; the menu's count of failed messages.
PAGE_QUERIES = 9


def local(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour, minute), tzinfo=TORONTO)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def desk(desk_client):
    """A client logged in as Rosa, a receptionist."""
    return desk_client


@pytest.fixture
def appointment(therapist, service):
    return AppointmentFactory(
        therapist=therapist,
        service=service,
        start=local("2026-12-08", 10),
        patient=PatientFactory(name="Jordan Lee", phone="416-555-0199"),
    )


def add(client, who, /, **fields):
    """Post the add form for `who`; `fields` change or (with None) leave out a field."""
    data = {"therapist": who.pk, "start_date": "2026-12-08", "reason": "Course", **fields}
    return client.post(PAGE, {key: value for key, value in data.items() if value is not None})


def test_the_page_has_its_url_name():
    assert reverse("frontdesk:time_off") == PAGE


# Who may come in


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    for response in (client.get(PAGE), client.post(PAGE, {}), client.post(f"{PAGE}1/remove/")):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_therapists_are_refused(client, therapist):
    time_off = TimeOffFactory(therapist=therapist, start=local("2026-12-09", 9), end=local("2026-12-09", 17))
    client.force_login(staff_user("alex", "Therapist"))

    assert client.get(PAGE).status_code == 403
    assert add(client, therapist).status_code == 403
    assert client.post(reverse("frontdesk:time_off_remove", args=[time_off.pk])).status_code == 403
    assert TimeOff.objects.count() == 1


# The list


def test_the_list_shows_current_and_upcoming_time_off_with_what_is_still_booked_inside(desk, therapist, appointment):
    TimeOffFactory(therapist=therapist, start=local("2026-12-01", 9), end=local("2026-12-01", 17), reason="Past")
    TimeOffFactory(therapist=therapist, start=local("2026-12-07", 0), end=local("2026-12-08", 0), reason="Today")
    TimeOffFactory(therapist=therapist, start=local("2026-12-08", 9), end=local("2026-12-08", 12), reason="Dentist")

    response = desk.get(PAGE)
    body = response.content.decode()

    assert response.status_code == 200
    assert [row["time_off"].reason for row in response.context["rows"]] == ["Today", "Dentist"]
    assert "Past" not in body
    assert "Mon 7 Dec 2026, all day" in body
    assert "Tue 8 Dec 2026, 09:00–12:00" in body
    assert "End it now" in body  # today's is under way
    assert reverse("frontdesk:appointment", args=[appointment.pk]) in body
    assert "Jordan Lee" in body


def test_the_page_reads_in_a_fixed_number_of_queries(
    desk, service, therapist, second_therapist, django_assert_num_queries
):
    TimeOffFactory(therapist=therapist, start=local("2026-12-08", 9), end=local("2026-12-08", 17))
    AppointmentFactory(therapist=therapist, service=service, start=local("2026-12-08", 10))
    with django_assert_num_queries(PAGE_QUERIES):
        assert desk.get(PAGE).status_code == 200

    for day in range(9, 19):
        for who in (therapist, second_therapist):
            TimeOffFactory(therapist=who, start=local(f"2026-12-{day:02d}", 9), end=local(f"2026-12-{day:02d}", 12))
            AppointmentFactory(therapist=who, service=service, start=local(f"2026-12-{day:02d}", 10))
    with django_assert_num_queries(PAGE_QUERIES):
        response = desk.get(PAGE)

    assert len(response.context["rows"]) == 21
    assert sum(len(row["booked"]) for row in response.context["rows"]) == 21


# Adding time off


def test_a_whole_day_off_runs_from_midnight_to_midnight_on_the_clinics_clock(desk, therapist):
    response = add(desk, therapist, start_date="2026-12-09", reason="Course")

    assert response.status_code == 302
    time_off = TimeOff.objects.get()
    assert (time_off.start, time_off.end) == (local("2026-12-09", 0), local("2026-12-10", 0))
    assert time_off.start == datetime(2026, 12, 9, 5, tzinfo=UTC)
    messages = [str(m) for m in desk.get(PAGE).context["messages"]]
    assert messages == ["Time off added for Alex Moreau: Wed 9 Dec 2026, all day."]


def test_several_whole_days(desk, therapist):
    add(desk, therapist, start_date="2026-12-09", end_date="2026-12-11")

    time_off = TimeOff.objects.get()
    assert (time_off.start, time_off.end) == (local("2026-12-09", 0), local("2026-12-12", 0))


def test_from_a_time_to_a_time_in_clinic_time(desk, therapist):
    response = add(
        desk, therapist, start_date="2026-12-09", start_time="13:30", end_date="2026-12-10", end_time="11:00"
    )

    assert response.status_code == 302
    time_off = TimeOff.objects.get()
    assert (time_off.start, time_off.end) == (local("2026-12-09", 13, 30), local("2026-12-10", 11))


def test_time_off_over_a_booked_appointment_lists_it_and_saves_nothing(desk, therapist, appointment):
    response = add(desk, therapist, start_date="2026-12-08", start_time="09:00", end_time="12:00")
    body = response.content.decode()

    assert response.status_code == 200
    assert not TimeOff.objects.exists()
    assert [a.pk for a in response.context["stranded"]] == [appointment.pk]
    assert "Not saved yet: 1 booked appointment falls in this time off" in body
    assert "Jordan Lee" in body
    assert "Tue 8 Dec 2026, 10:00–11:00" in body  # 15:00 UTC, shown on the clinic's clock
    assert "15:00" not in body
    assert "Myofascial release (60 min)" in body
    assert reverse("frontdesk:appointment", args=[appointment.pk]) in body
    assert "Save the time off anyway; I will move or cancel these" in body
    assert f'name="confirm_stranded" value="{appointment.pk}"' in body


def test_confirming_saves_the_time_off_and_keeps_the_appointment(desk, therapist, appointment):
    response = add(
        desk, therapist, start_date="2026-12-08", start_time="09:00", end_time="12:00", confirm_stranded=appointment.pk
    )

    assert response.status_code == 302
    assert TimeOff.objects.get().start == local("2026-12-08", 9)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
    page = desk.get(PAGE)
    assert "1 booked appointment inside it still to move or cancel" in str(list(page.context["messages"])[0])
    assert [a.pk for a in page.context["rows"][0]["booked"]] == [appointment.pk]


def test_an_appointment_booked_since_the_list_was_shown_is_shown_before_saving(desk, therapist, service, appointment):
    newer = AppointmentFactory(
        therapist=therapist, service=service, start=local("2026-12-08", 11, 15), duration_minutes=30
    )

    response = add(
        desk, therapist, start_date="2026-12-08", start_time="09:00", end_time="12:00", confirm_stranded=appointment.pk
    )

    assert response.status_code == 200
    assert [a.pk for a in response.context["stranded"]] == [appointment.pk, newer.pk]
    assert not TimeOff.objects.exists()


def test_a_tampered_confirmation_counts_as_none(desk, therapist, appointment):
    response = add(desk, therapist, start_date="2026-12-08", confirm_stranded="1,x,<script>")

    assert response.status_code == 200
    assert response.context["stranded"]
    assert not TimeOff.objects.exists()


def test_time_off_added_at_the_front_desk_takes_those_times_out_of_the_free_slots(desk, clinic, now, option, therapist):
    def free_on_wednesday() -> list[datetime]:
        search = SlotSearch(option=option, therapists=[therapist], first_day=date(2026, 12, 9), days=1)
        return [slot.start for slot in selectors.free_slots(search, clinic, now)]

    assert local("2026-12-09", 14) in free_on_wednesday()

    add(desk, therapist, start_date="2026-12-09", start_time="13:00", end_time="17:00")

    slots = free_on_wednesday()
    assert slots
    assert all(start + option.duration <= local("2026-12-09", 13) for start in slots)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"start_date": ""}, "start_date", "Give the first day."),
        ({"start_date": "08/12/2026"}, "start_date", "Give the first day as a date."),
        ({"start_date": "2026-02-30"}, "start_date", "Give the first day as a date."),
        ({"start_date": "9999-12-31"}, "start_date", "Choose a date between a year ago and 5 years ahead."),
        ({"end_date": "2026-12-07"}, "end_date", "The last day must not be before the first."),
        ({"start_time": "09:00"}, "end_time", "Give both times, or leave both empty for whole days."),
        ({"end_time": "12:00"}, "start_time", "Give both times, or leave both empty for whole days."),
        ({"start_time": "12:00", "end_time": "09:00"}, "end_time", "The end must be after the start."),
        ({"start_time": "25:00", "end_time": "26:00"}, "start_time", "Enter a valid time."),
        ({"therapist": ""}, "therapist", "Choose a therapist."),
        ({"therapist": "999"}, "therapist", "Select a valid choice."),
        ({"reason": "x" * 201}, "reason", "at most 200 characters"),
    ],
)
def test_bad_input_is_a_400_with_a_message_next_to_the_field(desk, therapist, fields, field, message):
    response = add(desk, therapist, **fields)

    assert response.status_code == 400
    assert any(message in error for error in response.context["form"].errors[field])
    assert not TimeOff.objects.exists()


def test_time_off_that_is_already_over_is_refused_with_the_reason(desk, therapist):
    response = add(desk, therapist, start_date="2026-12-04")

    assert response.status_code == 409
    assert "That time off is already over." in response.content.decode()
    assert not TimeOff.objects.exists()


def test_time_off_that_overlaps_time_off_already_recorded_is_refused(desk, therapist):
    TimeOffFactory(therapist=therapist, start=local("2026-12-09", 9), end=local("2026-12-09", 12))

    response = add(desk, therapist, start_date="2026-12-09")

    assert response.status_code == 409
    assert "overlaps time off already recorded" in response.content.decode()
    assert TimeOff.objects.count() == 1


def test_an_inactive_therapist_cannot_be_chosen(desk, therapist):
    therapist.active = False
    therapist.save()

    assert add(desk, therapist).status_code == 400


# The service on its own


def test_the_service_refuses_therapists_and_patients(therapist, now):
    for actor in (Actor.patient(), Actor.staff(staff_user("alex", "Therapist"))):
        with pytest.raises(services.TimeOffError) as refused:
            services.time_off_add(
                therapist=therapist,
                start=local("2026-12-09", 9),
                end=local("2026-12-09", 12),
                reason="",
                confirm_stranded=(),
                now=now,
                actor=actor,
            )
        assert refused.value.code == "not_allowed"


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (local("2026-12-09", 12), local("2026-12-09", 9), "end_before_start"),
        (local("2026-12-09", 9), local("2026-12-09", 9), "end_before_start"),
        (local("2026-11-20", 9), local("2026-12-09", 9), "too_far_back"),
        (local("2026-12-01", 9), local("2026-12-01", 12), "over"),
        (local("2026-12-09", 9), local("2028-01-09", 9), "too_long"),
        (datetime(2026, 12, 9, 9), datetime(2026, 12, 9, 12), "invalid"),
    ],
)
def test_the_service_checks_the_times(therapist, now, start, end, code):
    with pytest.raises(services.TimeOffError) as refused:
        services.time_off_add(
            therapist=therapist,
            start=start,
            end=end,
            reason="",
            confirm_stranded=(),
            now=now,
            actor=Actor.system("tests"),
        )

    assert refused.value.code == code
    assert not TimeOff.objects.exists()


def test_time_off_that_began_this_morning_can_still_be_recorded(therapist, now):
    time_off = services.time_off_add(
        therapist=therapist,
        start=now - timedelta(hours=3),
        end=local("2026-12-07", 17),
        reason="  Went   home sick ",
        confirm_stranded=(),
        now=now,
        actor=Actor.system("tests"),
    )

    assert time_off.reason == "Went home sick"


# Ending time off early


def test_upcoming_time_off_is_removed(desk, therapist):
    time_off = TimeOffFactory(therapist=therapist, start=local("2026-12-09", 9), end=local("2026-12-09", 17))

    response = desk.post(reverse("frontdesk:time_off_remove", args=[time_off.pk]))

    assert response.status_code == 302
    assert not TimeOff.objects.exists()
    assert "Removed Alex Moreau's time off (Wed 9 Dec 2026, 09:00–17:00)." in [
        str(m) for m in desk.get(PAGE).context["messages"]
    ]


def test_time_off_under_way_ends_now_and_is_kept(desk, therapist, now):
    time_off = TimeOffFactory(therapist=therapist, start=local("2026-12-07", 0), end=local("2026-12-10", 0))

    desk.post(reverse("frontdesk:time_off_remove", args=[time_off.pk]))

    time_off.refresh_from_db()
    assert (time_off.start, time_off.end) == (local("2026-12-07", 0), now)


def test_time_off_that_is_over_stays_in_the_records(desk, therapist):
    time_off = TimeOffFactory(therapist=therapist, start=local("2026-12-01", 9), end=local("2026-12-01", 17))

    response = desk.post(reverse("frontdesk:time_off_remove", args=[time_off.pk]), follow=True)

    assert TimeOff.objects.filter(pk=time_off.pk).exists()
    assert any("already over" in str(m) for m in response.context["messages"])


def test_removing_unknown_time_off_is_a_404_and_a_get_is_refused(desk, therapist):
    time_off = TimeOffFactory(therapist=therapist, start=local("2026-12-09", 9), end=local("2026-12-09", 17))

    assert desk.post(reverse("frontdesk:time_off_remove", args=[time_off.pk + 1])).status_code == 404
    assert desk.get(reverse("frontdesk:time_off_remove", args=[time_off.pk])).status_code == 405
    assert TimeOff.objects.count() == 1
