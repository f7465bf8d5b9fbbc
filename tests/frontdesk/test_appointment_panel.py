"""The appointment panel: what it shows, the changes it makes through booking.services, and how it refuses."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from booking.models import Appointment, AppointmentEvent
from tests.conftest import NOW
from tests.factories import AppointmentFactory, PatientFactory

TORONTO = ZoneInfo("America/Toronto")
JSON = {"HTTP_ACCEPT": "application/json"}
HTMX = {"HTTP_HX_REQUEST": "true"}

pytestmark = pytest.mark.django_db


def local(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(datetime.fromisoformat(day).date(), time(hour, minute), tzinfo=TORONTO)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):  # Monday 7 December, 08:00 in Toronto
        yield


@pytest.fixture
def appointment(therapist, service):
    return AppointmentFactory(
        therapist=therapist,
        service=service,
        start=local("2026-12-08", 10),
        patient=PatientFactory(name="Jordan Lee", phone="+14165550199"),
    )


def url(name: str, appointment) -> str:
    return reverse(f"frontdesk:{name}", args=[appointment.pk])


def test_panel_shows_the_appointment_and_the_patients_record_in_clinic_time(desk_client, appointment, therapist):
    AppointmentFactory(
        therapist=therapist,
        service=appointment.service,
        start=local("2026-11-30", 10),
        patient=appointment.patient,
        status="no_show",
    )
    AppointmentFactory(
        therapist=therapist,
        service=appointment.service,
        start=local("2026-12-01", 10),
        patient=appointment.patient,
        status="cancelled",
        late_cancellation=True,
    )

    response = desk_client.get(url("appointment", appointment))

    body = response.content.decode()
    assert "Tuesday 8 December 2026, 10:00–11:00" in body
    assert "(416) 555-0199" in body and 'href="tel:+14165550199"' in body
    record = response.context["record"]
    assert (record.visits, record.upcoming, record.no_shows, record.late_cancellations) == (0, 1, 1, 1)
    assert appointment.manage_token not in body  # staff never act through the patient's link


def test_panel_offers_only_what_the_lifecycle_allows(desk_client, appointment):
    before = desk_client.get(url("appointment", appointment))
    with time_machine.travel(local("2026-12-08", 10, 20), tick=False):
        during = desk_client.get(url("appointment", appointment))

    assert [action.value for action in before.context["status_actions"]] == []  # the day before: nothing yet
    assert [action.value for action in during.context["status_actions"]] == ["check_in", "no_show"]
    assert before.context["can_move"] and before.context["can_cancel"] and not before.context["can_undo"]


def test_htmx_gets_the_fragment_and_a_change_reloads_the_calendar(desk_client, appointment):
    page = desk_client.get(url("appointment", appointment))
    fragment = desk_client.get(url("appointment", appointment), **HTMX)
    with time_machine.travel(local("2026-12-08", 9, 50), tick=False):
        checked_in = desk_client.post(url("appointment_status", appointment), {"action": "check_in"}, **HTMX)

    assert "<html" in page.content.decode() and "<html" not in fragment.content.decode()
    assert checked_in.status_code == 200
    assert checked_in["HX-Trigger"] == "calendar-changed"
    assert "Jordan Lee checked in." in checked_in.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CHECKED_IN


def test_a_refused_status_change_says_why_and_changes_nothing(desk_client, appointment):
    response = desk_client.post(url("appointment_status", appointment), {"action": "no_show"}, **HTMX)

    assert response.status_code == 409
    assert "only once the appointment has started" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


@pytest.mark.parametrize("action", ["", "cancel", "undo", "vanish"])
def test_an_unknown_status_action_is_a_400(desk_client, appointment, action):
    assert desk_client.post(url("appointment_status", appointment), {"action": action}).status_code == 400


def test_cancel_needs_a_reason_and_marks_late_cancellations(desk_client, appointment):
    refused = desk_client.post(url("appointment_cancel", appointment), {"reason": "   "}, **HTMX)
    with time_machine.travel(local("2026-12-08", 8), tick=False):
        cancelled = desk_client.post(url("appointment_cancel", appointment), {"reason": "Called: flu"})

    assert refused.status_code == 400 and "Say why it is cancelled." in refused.content.decode()
    assert cancelled.status_code == 302
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancellation_reason, appointment.late_cancellation) == (
        "cancelled",
        "Called: flu",
        True,
    )


def test_drag_and_drop_moves_to_another_therapist(desk_client, appointment, second_therapist):
    response = desk_client.post(
        url("appointment_move", appointment), {"start": "2026-12-08T14:30", "therapist": second_therapist.pk}, **JSON
    )

    assert response.status_code == 200
    assert response.json()["message"] == "Moved Jordan Lee to Tue 8 Dec, 14:30 with Sam Okafor."
    appointment.refresh_from_db()
    assert (appointment.therapist, appointment.start) == (second_therapist, local("2026-12-08", 14, 30))


def test_a_refused_drop_answers_409_with_the_reason_and_moves_nothing(desk_client, appointment, second_therapist):
    AppointmentFactory(therapist=second_therapist, service=appointment.service, start=local("2026-12-08", 14))

    taken = desk_client.post(
        url("appointment_move", appointment), {"start": "2026-12-08T14:30", "therapist": second_therapist.pk}, **JSON
    )
    after_hours = desk_client.post(
        url("appointment_move", appointment), {"start": "2026-12-08T18:00", "therapist": second_therapist.pk}, **JSON
    )

    assert (taken.status_code, taken.json()["code"]) == (409, "slot_taken")
    assert (after_hours.status_code, after_hours.json()["code"]) == (409, "outside_hours")
    assert "working hours" in after_hours.json()["error"]
    appointment.refresh_from_db()
    assert appointment.start == local("2026-12-08", 10)


@pytest.mark.parametrize(
    "data",
    [
        {"start": "tomorrow at ten"},
        {"start": "2026-12-08T14:30:15"},
        {"start": "2026-13-08T14:30"},
        {"start": "2026-03-08T02:30"},  # skipped by the spring clock change in Toronto
        {"start": "2026-12-08T14:30", "therapist": "999999"},
        {"start": "2026-12-08T14:30", "therapist": "alex"},
        {},
    ],
)
def test_a_bad_move_is_a_400_with_a_message(desk_client, appointment, data):
    response = desk_client.post(url("appointment_move", appointment), data, **JSON)

    assert response.status_code == 400
    assert response.json()["error"]


def test_a_completed_appointment_cannot_be_moved(desk_client, appointment):
    Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.COMPLETED)

    response = desk_client.post(url("appointment_move", appointment), {"start": "2026-12-09T10:00"}, **JSON)

    assert (response.status_code, response.json()["code"]) == (409, "cannot_move")


def test_the_panel_move_form_works_without_javascript(desk_client, appointment):
    response = desk_client.post(url("appointment_move", appointment), {"start": "2026-12-09T14:15"})

    assert response.status_code == 302
    assert response["Location"] == url("appointment", appointment)
    appointment.refresh_from_db()
    assert appointment.start == local("2026-12-09", 14, 15)


def test_free_times_to_move_to_are_on_the_chosen_day(desk_client, appointment, second_therapist):
    response = desk_client.get(url("appointment", appointment), {"move_date": "2026-12-09"})

    groups = response.context["move_times"]
    starts = {(slot.start.astimezone(TORONTO).strftime("%H:%M"), who.name) for who, slots in groups for slot in slots}
    assert [who.name for who, _ in groups] == ["Alex Moreau", "Sam Okafor"]
    assert ("09:00", "Alex Moreau") in starts and ("09:00", "Sam Okafor") in starts
    assert ("11:00", "Alex Moreau") in starts  # ends as lunch begins
    assert ("11:15", "Alex Moreau") not in starts  # a 60-minute session would run into lunch


def test_staff_note_is_kept_and_recorded(desk_client, appointment, receptionist):
    desk_client.post(url("appointment_note", appointment), {"staff_note": "Prefers the quiet room"})
    desk_client.post(url("appointment_note", appointment), {"staff_note": "Prefers the quiet room"})

    appointment.refresh_from_db()
    assert appointment.staff_note == "Prefers the quiet room"
    assert AppointmentEvent.objects.filter(appointment=appointment, kind="note").count() == 1


def test_undo_a_no_show(desk_client, appointment):
    with time_machine.travel(local("2026-12-08", 10, 30), tick=False):
        desk_client.post(url("appointment_status", appointment), {"action": "no_show"})
        response = desk_client.post(url("appointment_undo", appointment), follow=True)

    assert "Undone: Jordan Lee is booked." in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_an_unknown_appointment_is_a_404(desk_client, db):
    assert desk_client.get(reverse("frontdesk:appointment", args=[999999])).status_code == 404
    assert desk_client.post(reverse("frontdesk:appointment_cancel", args=[999999]), {"reason": "x"}).status_code == 404


def test_panel_query_count_is_fixed(desk_client, appointment, django_assert_max_num_queries):
    with django_assert_max_num_queries(16):
        assert desk_client.get(url("appointment", appointment)).status_code == 200
