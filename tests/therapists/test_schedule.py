"""A therapist's own schedule: who may open it, the day's agenda, the week's feed, one appointment and its
status buttons, what it costs in queries, and how it answers bad input."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking import lifecycle
from booking.lifecycle import Action
from booking.models import Appointment, AppointmentEvent
from tests.conftest import NOW, staff_user
from tests.factories import AppointmentFactory, PatientFactory, TimeOffFactory
from therapists.templatetags import schedule_tags
from therapists.views.schedule import agenda

TORONTO = ZoneInfo("America/Toronto")

pytestmark = pytest.mark.django_db


def local(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(datetime.fromisoformat(day).date(), time(hour, minute), tzinfo=TORONTO)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):  # Monday 7 December 2026, 08:00 in Toronto
        yield


def at(moment: datetime):
    """Move the frozen clock, for a test that needs the day to have started."""
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def alex(therapist):
    therapist.user = staff_user("alex", "Therapist")
    therapist.save()
    return therapist


@pytest.fixture
def sam(second_therapist):
    second_therapist.user = staff_user("sam", "Therapist")
    second_therapist.save()
    return second_therapist


@pytest.fixture
def alex_client(client, alex):
    client.force_login(alex.user)
    return client


@pytest.fixture
def manager_client(client, db):
    client.force_login(staff_user("morgan", "Manager"))
    return client


def book(therapist, start: datetime, name: str = "", **extra) -> Appointment:
    patient = extra.pop("patient", None) or PatientFactory(**({"name": name} if name else {}))
    service = therapist.services.get()
    return AppointmentFactory(therapist=therapist, service=service, start=start, patient=patient, **extra)


@pytest.fixture
def alexs(alex, service):
    return book(alex, local("2026-12-07", 10), "Jordan Lee", patient_note="Left leg, worse when sitting")


@pytest.fixture
def sams(sam, service):
    return book(sam, local("2026-12-07", 10), "Omar Haddad", patient_note="Private to Sam")


def pages(appointment) -> list[tuple[str, str, dict]]:
    return [
        ("get", reverse("schedule:today"), {}),
        ("get", reverse("schedule:week"), {}),
        ("get", reverse("schedule:events"), {"start": "2026-12-07", "end": "2026-12-14"}),
        ("get", reverse("schedule:appointment", args=[appointment.pk]), {}),
        ("post", reverse("schedule:appointment_status", args=[appointment.pk]), {"action": "check_in"}),
    ]


# Who may open it -------------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client, alexs):
    for method, url, data in pages(alexs):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url
    alexs.refresh_from_db()
    assert alexs.status == Appointment.Status.BOOKED


def test_receptionists_and_staff_without_a_therapist_record_are_refused(client, alexs):
    for user in (staff_user("rosa", "Receptionist"), staff_user("unlinked", "Therapist")):
        client.force_login(user)
        for method, url, data in pages(alexs):
            assert getattr(client, method)(url, data).status_code == 403, (user, url)
    alexs.refresh_from_db()
    assert alexs.status == Appointment.Status.BOOKED
    assert not AppointmentEvent.objects.filter(appointment=alexs).exists()


def test_a_therapist_gets_404_for_a_colleagues_appointment_and_schedule(alex_client, alexs, sams, sam):
    for method, url, data in pages(sams)[3:]:
        assert getattr(alex_client, method)(url, data).status_code == 404, url
    sams.refresh_from_db()
    assert sams.status == Appointment.Status.BOOKED
    assert not AppointmentEvent.objects.filter(appointment=sams).exists()

    for method, url, data in pages(alexs)[:3]:
        assert getattr(alex_client, method)(url, {**data, "therapist": sam.slug}).status_code == 404, url
    # Their own slug is just their own schedule.
    assert alex_client.get(reverse("schedule:today"), {"therapist": "alex-moreau"}).status_code == 200


def test_a_therapist_sees_only_their_own_patients(alex_client, alexs, sams):
    day = alex_client.get(reverse("schedule:today")).content.decode()
    events = alex_client.get(reverse("schedule:events"), {"start": "2026-12-07", "end": "2026-12-08"}).json()

    assert "Jordan Lee" in day
    assert "Omar Haddad" not in day and "Private to Sam" not in day
    assert [event["id"] for event in events if "status" in event] == [str(alexs.pk)]
    assert {tuple(event["resourceIds"]) for event in events} == {(str(alexs.therapist_id),)}


def test_a_manager_picks_any_therapist_and_every_link_keeps_the_choice(manager_client, alexs, sams, sam):
    response = manager_client.get(reverse("schedule:today"), {"therapist": sam.slug})
    page = response.content.decode()

    assert response.status_code == 200
    assert "Omar Haddad" in page and "Jordan Lee" not in page
    assert '<select class="form-select w-auto" id="schedule-therapist" name="therapist">' in page
    assert f'<option value="{sam.slug}" selected>Sam Okafor</option>' in page
    assert '<option value="alex-moreau">Alex Moreau</option>' in page
    assert f'href="/schedule/appointments/{sams.pk}/?therapist=sam-okafor"' in page
    assert 'href="/schedule/?therapist=sam-okafor&amp;date=2026-12-08"' in page
    assert 'href="/schedule/week/?therapist=sam-okafor"' in page

    events = manager_client.get(
        reverse("schedule:events"), {"therapist": sam.slug, "start": "2026-12-07", "end": "2026-12-08"}
    ).json()
    assert [event["id"] for event in events if "status" in event] == [str(sams.pk)]
    assert (
        manager_client.get(reverse("schedule:appointment", args=[sams.pk]), {"therapist": sam.slug}).status_code == 200
    )
    week = manager_client.get(reverse("schedule:week"), {"therapist": sam.slug}).context["config"]
    assert week["eventsUrl"] == "/schedule/events/?therapist=sam-okafor"
    assert week["appointmentUrl"] == "/schedule/appointments/0/?therapist=sam-okafor"
    assert manager_client.get(reverse("schedule:today"), {"therapist": "nobody"}).status_code == 404


def test_therapists_never_see_the_picker_and_their_links_carry_no_therapist(alex_client, alexs):
    page = alex_client.get(reverse("schedule:today")).content.decode()

    assert "schedule-therapist" not in page
    assert "therapist=" not in page
    assert f'href="/schedule/appointments/{alexs.pk}/"' in page


def test_the_schedule_nav_links_the_pages_that_exist_and_leaves_out_the_rest(alex_client, monkeypatch):
    monkeypatch.setattr(schedule_tags, "NAV", (*schedule_tags.NAV, ("schedule:not_built_yet", "Later", ())))

    page = alex_client.get(reverse("schedule:today")).content.decode()

    assert '<a class="nav-link" href="/schedule/" aria-current="page">Today</a>' in page
    assert '<a class="nav-link" href="/schedule/week/">Week</a>' in page
    assert ">Later</a>" not in page


def test_therapists_land_on_their_schedule_after_login(client, alex):
    response = client.post(reverse("login"), {"username": "alex", "password": "a-long-test-password"})

    assert client.get(response["Location"])["Location"] == "/schedule/"


# The day ---------------------------------------------------------------------------------------------------


def test_the_agenda_puts_the_next_patient_first_in_the_clinics_time(alex_client, alex):
    later = book(alex, local("2026-12-07", 13), "Mira Patel")
    nextup = book(alex, local("2026-12-07", 10), "Jordan Lee", patient_note="Left leg, worse when sitting")
    book(alex, local("2026-12-08", 9), "Tomorrow Person")

    response = alex_client.get(reverse("schedule:today"))
    page = response.content.decode()

    day = response.context["agenda"]
    assert (day.earlier, day.next, day.later) == ([], nextup, [later])
    marker, first, second = page.index('class="now-marker"'), page.index("Jordan Lee"), page.index("Mira Patel")
    assert marker < first < second
    assert "Now · 08:00" in page
    assert ">10:00</time>–<time" in page and "15:00" not in page  # 10:00 in Toronto is 15:00 UTC
    assert "Left leg, worse when sitting" in page
    assert "Tomorrow Person" not in page


def test_the_session_in_progress_stays_on_top_and_earlier_ones_wait_to_be_marked(alex_client, alex):
    earlier = book(alex, local("2026-12-07", 9), "Iris Chen", status="checked_in", duration_minutes=30)
    done = book(alex, local("2026-12-07", 9, 45), "Noah Brooks", status="completed", duration_minutes=30)
    current = book(alex, local("2026-12-07", 10, 30), "Jordan Lee", status="checked_in")
    upcoming = book(alex, local("2026-12-07", 13), "Mira Patel")

    with at(local("2026-12-07", 11)):
        response = alex_client.get(reverse("schedule:today"))
    page = response.content.decode()

    day = response.context["agenda"]
    assert (day.earlier, day.next, day.later, day.in_progress) == ([earlier, done], current, [upcoming], True)
    assert "In progress" in page and "1 to mark" in page
    assert page.index("Earlier today") < page.index('class="now-marker"') < page.index("In progress")


def test_a_session_marked_completed_early_leaves_the_top(alex, service):
    finished = book(alex, local("2026-12-07", 10), status="completed")
    following = book(alex, local("2026-12-07", 11, 15))

    day = agenda([finished, following], now=local("2026-12-07", 10, 50), is_today=True)

    assert (day.earlier, day.next) == ([finished], following)


def test_other_days_list_every_session_in_order_without_a_now(alex_client, alex):
    first = book(alex, local("2026-12-08", 9), "Iris Chen")
    second = book(alex, local("2026-12-08", 13), "Jordan Lee")
    book(alex, local("2026-12-08", 15), status="cancelled")

    response = alex_client.get(reverse("schedule:today"), {"date": "2026-12-08"})
    page = response.content.decode()

    day = response.context["agenda"]
    assert (day.earlier, day.next, day.later, day.now) == ([], None, [first, second], None)
    assert "now-marker" not in page
    assert "Tuesday 8 December 2026" in page and "Tomorrow" in page
    assert 'href="/schedule/?date=2026-12-07"' in page and 'href="/schedule/?date=2026-12-09"' in page


def test_the_day_shows_working_hours_and_own_time_off(alex_client, alex):
    TimeOffFactory(therapist=alex, start=local("2026-12-07", 13), end=local("2026-12-07", 15), reason="Dentist")

    page = alex_client.get(reverse("schedule:today")).content.decode()
    sunday = alex_client.get(reverse("schedule:today"), {"date": "2026-12-06"}).content.decode()

    assert "Working 09:00–12:00, 13:00–17:00" in page
    assert "Time off from 13:00 to 15:00: Dentist" in page
    assert "Not a working day" in sunday
    assert "No patients booked on this day." in sunday


def test_a_time_off_request_still_waiting_shows_as_asked_for_and_a_declined_one_not_at_all(alex_client, alex):
    TimeOffFactory(therapist=alex, start=local("2026-12-07", 9), end=local("2026-12-07", 10), status="requested")
    TimeOffFactory(therapist=alex, start=local("2026-12-07", 15), end=local("2026-12-07", 16), status="declined")

    page = alex_client.get(reverse("schedule:today")).content.decode()

    assert "Time off asked for (waiting for approval) from 09:00 to 10:00" in page
    assert "from 15:00" not in page


def test_first_visits_and_returning_patients_with_their_visit_counts(alex_client, alex, sam):
    returning = PatientFactory(name="Jordan Lee")
    book(alex, local("2026-11-02", 10), patient=returning, status="completed")
    book(sam, local("2026-11-16", 10), patient=returning, status="completed")
    book(alex, local("2026-11-23", 10), patient=returning, status="no_show")
    book(alex, local("2026-11-30", 10), patient=returning, status="cancelled")
    book(alex, local("2026-12-07", 10), patient=returning)
    book(alex, local("2026-12-07", 14), "Mira Patel")
    book(alex, local("2026-12-21", 10), "Mira Patel")  # a later booking is no earlier visit

    response = alex_client.get(reverse("schedule:today"))
    page = response.content.decode()

    day = response.context["agenda"]
    assert [appointment.previous_visits for appointment in [day.next, *day.later]] == [2, 0]
    assert "Returning · 2 visits" in page
    assert page.count("First visit") == 1


# The week --------------------------------------------------------------------------------------------------


def test_the_week_starts_tomorrow_in_the_clinics_clock(alex_client, alex):
    config = alex_client.get(reverse("schedule:week")).context["config"]

    assert (config["date"], config["tomorrow"], config["utcOffset"]) == ("2026-12-08", "2026-12-08", "-05:00")
    assert (config["slotMinTime"], config["slotMaxTime"]) == ("09:00:00", "17:00:00")
    assert config["eventsUrl"] == "/schedule/events/"
    assert alex_client.get(reverse("schedule:week"), {"date": "2026-12-14"}).context["config"]["date"] == "2026-12-14"


def test_the_weeks_feed_is_read_only_wall_clock_time_with_own_closed_times_and_time_off(alex_client, alex, alexs):
    TimeOffFactory(therapist=alex, start=local("2026-12-08", 13), end=local("2026-12-08", 15), reason="Dentist")

    events = alex_client.get(reverse("schedule:events"), {"start": "2026-12-07", "end": "2026-12-09"}).json()

    [appointment] = [event for event in events if "status" in event]
    assert (appointment["start"], appointment["end"]) == ("2026-12-07T10:00:00", "2026-12-07T11:00:00")
    assert appointment["editable"] is False
    assert appointment["extendedProps"]["hasNote"] is True
    shaded = [(e["start"], e["end"], e["classNames"]) for e in events if e.get("display") == "background"]
    assert ("2026-12-08T13:00:00", "2026-12-08T15:00:00", ["time-off"]) in shaded
    assert ("2026-12-07T12:00:00", "2026-12-07T13:00:00", ["closed"]) in shaded


# One appointment -------------------------------------------------------------------------------------------


def test_the_appointment_page_shows_contact_counts_and_only_own_visits(alex_client, alex, sam, alexs):
    patient = alexs.patient
    patient.phone = "+14165550199"
    patient.save()
    book(alex, local("2026-11-02", 10), patient=patient, status="completed")
    book(alex, local("2026-11-09", 10), patient=patient, status="no_show")
    book(alex, local("2026-11-16", 10), patient=patient, status="cancelled", late_cancellation=True)
    book(sam, local("2026-11-23", 11, 30), patient=patient, status="completed")
    book(alex, local("2026-12-14", 10), patient=patient)

    response = alex_client.get(reverse("schedule:appointment", args=[alexs.pk]))
    page = response.content.decode()

    assert '<a href="tel:+14165550199">' in page
    assert f'<a href="mailto:{patient.email}">' in page
    assert "Left leg, worse when sitting" in page
    record = response.context["record"]
    assert (record.visits, record.no_shows, record.late_cancellations) == (2, 1, 1)
    visits = response.context["visits"]
    assert [visit.start for visit in visits.past] == [
        local("2026-11-16", 10),
        local("2026-11-09", 10),
        local("2026-11-02", 10),
    ]
    assert [visit.start for visit in visits.upcoming] == [local("2026-12-14", 10)]
    assert visits.with_colleagues == 1
    assert "And 1 visit with other therapists" in page
    assert "Mon 23 Nov" not in page and "11:30" not in page  # the colleague's visit is a number only
    assert "Returning · 2 visits" in page


def test_the_appointment_page_offers_no_cancel_move_or_booking(alex_client, alexs):
    page = alex_client.get(reverse("schedule:appointment", args=[alexs.pk])).content.decode()

    assert ">Check in</button>" in page
    for word in ("Cancel appointment", "Move", "Reschedule", "New booking", "Undo"):
        assert word not in page
    assert "To cancel, move or book an appointment, call the front desk at" in page
    assert alexs.private_link_path() not in page


def status(client, appointment, action: str, **query):
    url = reverse("schedule:appointment_status", args=[appointment.pk])
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return client.post(url, {"action": action})


@pytest.mark.parametrize(
    ("starting", "action", "clock", "ending"),
    [
        ("booked", "check_in", local("2026-12-07", 8), "checked_in"),  # on the day, before the start
        ("checked_in", "complete", local("2026-12-07", 10, 5), "completed"),  # after the start
        ("booked", "no_show", local("2026-12-07", 10, 20), "no_show"),  # after the start
        ("checked_in", "no_show", local("2026-12-07", 10, 20), "no_show"),
    ],
)
def test_a_therapist_changes_the_status_of_their_own_appointment(
    alex_client, alex, alexs, starting, action, clock, ending
):
    Appointment.objects.filter(pk=alexs.pk).update(status=starting)

    with at(clock):
        response = status(alex_client, alexs, action)
        page = alex_client.get(response["Location"]).content.decode()

    assert response.status_code == 302
    assert response["Location"] == reverse("schedule:appointment", args=[alexs.pk])
    alexs.refresh_from_db()
    assert alexs.status == ending
    event = AppointmentEvent.objects.get(appointment=alexs)
    assert (event.actor_role, event.actor_user, event.via) == ("therapist", alex.user, "schedule")
    assert event.changes == {"status": [starting, ending]}
    assert f"Jordan Lee {lifecycle.DONE[Action(action)]}." in page


@pytest.mark.parametrize(
    ("action", "clock", "start", "reason"),
    [
        ("check_in", local("2026-12-07", 8), local("2026-12-08", 10), "on the day of their appointment"),
        ("no_show", local("2026-12-07", 9, 30), local("2026-12-07", 10), "once the appointment has started"),
        ("complete", local("2026-12-07", 10, 30), local("2026-12-07", 10), "Check the patient in before"),
    ],
)
def test_the_lifecycle_refuses_with_the_reason_and_changes_nothing(alex_client, alex, action, clock, start, reason):
    appointment = book(alex, start, "Jordan Lee")

    with at(clock):
        response = status(alex_client, appointment, action)

    assert response.status_code == 409
    assert reason in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
    assert not AppointmentEvent.objects.filter(appointment=appointment).exists()


def test_a_therapist_cannot_change_a_colleagues_appointment(alex_client, sams):
    for action in ("check_in", "complete", "no_show"):
        with at(local("2026-12-07", 10, 30)):
            assert status(alex_client, sams, action).status_code == 404

    sams.refresh_from_db()
    assert sams.status == Appointment.Status.BOOKED
    assert not AppointmentEvent.objects.filter(appointment=sams).exists()


def test_a_manager_marks_on_a_therapists_schedule_as_themself_via_the_schedule(manager_client, sam, sams):
    response = status(manager_client, sams, "check_in", therapist=sam.slug)

    assert response["Location"] == f"/schedule/appointments/{sams.pk}/?therapist=sam-okafor"
    event = AppointmentEvent.objects.get(appointment=sams)
    assert (event.actor_user.username, event.via) == ("morgan", "schedule")


def test_a_manager_gets_only_the_status_buttons_on_a_schedule(manager_client, sam, sams):
    with at(local("2026-12-07", 10, 30)):
        response = manager_client.get(reverse("schedule:appointment", args=[sams.pk]), {"therapist": sam.slug})

    assert [action.value for action in response.context["status_actions"]] == ["check_in", "no_show"]
    page = response.content.decode()
    assert ">Check in</button>" in page and ">Mark no-show</button>" in page
    assert ">Cancel</button>" not in page and ">Move</button>" not in page and ">Undo</button>" not in page


def test_status_buttons_follow_the_lifecycle(alex_client, alex):
    tomorrow = book(alex, local("2026-12-08", 10))
    finished = book(alex, local("2026-12-04", 10), status="completed")
    checked_in = book(alex, local("2026-12-07", 7), status="checked_in")

    def buttons(appointment):
        return alex_client.get(reverse("schedule:appointment", args=[appointment.pk])).context["status_actions"]

    assert buttons(tomorrow) == []
    assert buttons(finished) == []
    assert [action.value for action in buttons(checked_in)] == ["complete", "no_show"]


# Bad input -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad", ["tomorrow", "2026-02-30", "12/08/2026", "2026-12-08T10:00", "99999-01-01", "1900-01-01"]
)
def test_a_bad_date_gets_a_400_page_with_the_reason(alex_client, bad):
    for name in ("schedule:today", "schedule:week"):
        response = alex_client.get(reverse(name), {"date": bad})
        assert response.status_code == 400, (name, bad)
        page = response.content.decode()
        assert "We could not show that day" in page
        assert "year-month-day" in page or "within 10 years" in page


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"start": "2026-12-08"},
        {"start": "tomorrow", "end": "2026-12-09"},
        {"start": "2026-12-08", "end": "2026-12-08"},
        {"start": "2026-12-09", "end": "2026-12-08"},
        {"start": "2026-01-01", "end": "2027-01-01"},
        {"start": "9999-12-31", "end": "10000-01-01"},
        {"start": "0001-01-01", "end": "0001-01-02"},
        {"start": "2026-02-30", "end": "2026-03-01"},
    ],
)
def test_bad_ranges_for_the_week_get_a_400_with_the_reason(alex_client, params):
    response = alex_client.get(reverse("schedule:events"), params)

    assert response.status_code == 400
    assert response.json()["errors"]


@pytest.mark.parametrize("data", [{}, {"action": "cancel"}, {"action": "undo"}, {"action": "x" * 500}])
def test_a_bad_status_action_gets_a_400_and_changes_nothing(alex_client, alexs, data):
    response = alex_client.post(reverse("schedule:appointment_status", args=[alexs.pk]), data)

    assert response.status_code == 400
    assert "Choose one of the status buttons." in response.content.decode()
    alexs.refresh_from_db()
    assert alexs.status == Appointment.Status.BOOKED


def test_a_get_on_the_status_url_changes_nothing(alex_client, alexs):
    assert (
        alex_client.get(reverse("schedule:appointment_status", args=[alexs.pk]), {"action": "check_in"}).status_code
        == 405
    )
    alexs.refresh_from_db()
    assert alexs.status == Appointment.Status.BOOKED


# What it costs ---------------------------------------------------------------------------------------------

# The clinic's settings, session, user, the user's therapist record and their permissions (user and group).
REQUEST = 6


def crowd(therapist, days: list[str]) -> None:
    """Many appointments, each patient with visits before, and time off: what must not cost more queries."""
    for day in days:
        # Half-hour sessions clear of each other (and of the 10:00 one) with their buffer, as PostgreSQL insists.
        for hour, minute in ((8, 0), (9, 0), (11, 30), (13, 0), (14, 0), (15, 0), (16, 0)):
            start, patient = local(day, hour, minute), PatientFactory()
            for earlier in (timedelta(weeks=4), timedelta(weeks=8)):
                book(therapist, start - earlier, patient=patient, status="completed", duration_minutes=30)
            book(therapist, start, patient=patient, patient_note="A note", duration_minutes=30)
        TimeOffFactory(therapist=therapist, start=local(day, 12), end=local(day, 13))


def test_the_day_costs_three_queries_whatever_it_holds(alex_client, alex, alexs, django_assert_num_queries):
    with django_assert_num_queries(REQUEST + 3):
        alex_client.get(reverse("schedule:today"))

    crowd(alex, ["2026-12-07"])
    with django_assert_num_queries(REQUEST + 3):
        response = alex_client.get(reverse("schedule:today"))
    assert response.context["agenda"].count == 8


def test_the_weeks_feed_costs_four_queries_whatever_it_holds(alex_client, alex, alexs, django_assert_num_queries):
    week = {"start": "2026-12-07", "end": "2026-12-14"}
    with django_assert_num_queries(REQUEST + 4):
        alex_client.get(reverse("schedule:events"), week)

    crowd(alex, ["2026-12-08", "2026-12-09", "2026-12-10", "2026-12-11"])
    with django_assert_num_queries(REQUEST + 4):
        response = alex_client.get(reverse("schedule:events"), week)
    assert len([event for event in response.json() if "status" in event]) == 29


def test_the_appointment_page_costs_the_same_however_long_the_patients_history(
    alex_client, alex, sam, alexs, django_assert_num_queries
):
    url = reverse("schedule:appointment", args=[alexs.pk])
    # The appointment, the patient's counts, their visits with this therapist, and with colleagues.
    with django_assert_num_queries(REQUEST + 4):
        alex_client.get(url)

    for week in range(1, 30):
        book(alex if week % 3 else sam, alexs.start - timedelta(weeks=week), patient=alexs.patient, status="completed")
    with CaptureQueriesContext(connection) as many:
        response = alex_client.get(url)
    assert len(many.captured_queries) == REQUEST + 4
    assert (len(response.context["visits"].past), response.context["visits"].with_colleagues) == (20, 9)


def test_a_managers_pages_add_only_the_picker(manager_client, sam, sams, django_assert_num_queries):
    # The request's own (the login's therapist record: none); the therapist asked for; the day; the picker's list;
    # the manager's authenticator, which the verified session names (two-factor).
    with django_assert_num_queries(REQUEST + 1 + 3 + 1 + 1):
        manager_client.get(reverse("schedule:today"), {"therapist": sam.slug})
