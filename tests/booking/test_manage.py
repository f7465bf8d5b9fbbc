"""The patient's own appointment page: view, cancel, reschedule and calendar file, by private link only."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from booking.models import Appointment
from tests.conftest import NOW
from tests.factories import AppointmentFactory

TORONTO = ZoneInfo("America/Toronto")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def appointment(therapist, service):
    return AppointmentFactory(therapist=therapist, service=service, start=datetime(2026, 12, 10, 10, tzinfo=TORONTO))


def test_token_is_long_and_unguessable(appointment):
    other = AppointmentFactory(
        therapist=appointment.therapist, service=appointment.service, start=appointment.start + timedelta(days=1)
    )
    assert len(appointment.manage_token) >= 32  # 24 random bytes, base64: 192 bits
    assert appointment.manage_token != other.manage_token


def test_page_shows_the_appointment_in_local_time(client, appointment):
    response = client.get(appointment.private_link_path())

    assert response.status_code == 200
    content = response.content.decode()
    assert "Thursday, December 10, 2026 at 10:00 AM" in content
    assert "Alex Moreau" in content
    assert "Cancel appointment" in content
    assert "noindex" in content


def test_private_pages_are_never_cached(client, appointment):
    for url in (appointment.private_link_path(), f"{appointment.private_link_path()}appointment.ics"):
        cache_control = client.get(url)["Cache-Control"]
        assert "no-store" in cache_control
        assert "private" in cache_control


def test_wrong_token_is_404(client, appointment):
    assert client.get("/appointments/not-a-real-token/").status_code == 404
    assert client.get("/appointments/" + "x" * 200 + "/").status_code == 404


def test_patient_cancels_and_the_record_is_kept(
    client, appointment, mailoutbox, deliver_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{appointment.private_link_path()}cancel/", {"reason": "Feeling better"})

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert appointment.cancelled_by_role == Appointment.CancelledBy.PATIENT
    assert appointment.cancellation_reason == "Feeling better"
    assert appointment.cancelled_at == NOW
    deliver_outbox()
    assert "cancelled" in mailoutbox[0].subject
    page = client.get(appointment.private_link_path()).content.decode()
    assert "This appointment was cancelled" in page


def test_cancel_inside_the_window_is_refused_with_a_phone_message(client, therapist, service):
    soon = AppointmentFactory(therapist=therapist, service=service, start=datetime(2026, 12, 7, 14, tzinfo=TORONTO))

    page = client.get(soon.private_link_path()).content.decode()
    assert "can no longer be changed online" in page
    assert "Cancel appointment" not in page
    assert client.get(f"{soon.private_link_path()}cancel/").status_code == 302

    response = client.post(f"{soon.private_link_path()}cancel/", {"reason": ""}, follow=True)
    soon.refresh_from_db()
    assert soon.status == Appointment.Status.BOOKED
    assert "call the clinic" in response.content.decode()


def test_cancel_asks_first_and_get_changes_nothing(client, appointment):
    response = client.get(f"{appointment.private_link_path()}cancel/")

    assert response.status_code == 200
    assert b"Cancel this appointment?" in response.content
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED


def test_reschedule_lists_free_times_and_moves_keeping_the_link(
    client, appointment, mailoutbox, deliver_outbox, django_capture_on_commit_callbacks
):
    url = f"{appointment.private_link_path()}reschedule/?date=2026-12-11"
    page = client.get(url)
    assert page.status_code == 200
    values = [time.value for time in page.context["times"]]
    assert "2026-12-11T09:00-05:00" in values

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"start": "2026-12-11T09:00-05:00"})

    assert response.status_code == 302
    moved = Appointment.objects.get(pk=appointment.pk)
    assert moved.start == datetime(2026, 12, 11, 9, tzinfo=TORONTO)
    assert moved.manage_token == appointment.manage_token
    deliver_outbox()
    assert "moved" in mailoutbox[0].subject


def test_reschedule_to_a_taken_time_is_refused(client, appointment):
    AppointmentFactory(
        therapist=appointment.therapist, service=appointment.service, start=datetime(2026, 12, 11, 9, tzinfo=TORONTO)
    )

    response = client.post(f"{appointment.private_link_path()}reschedule/", {"start": "2026-12-11T09:00-05:00"})

    assert response.status_code == 409
    assert b"just taken" in response.content
    appointment.refresh_from_db()
    assert appointment.start == datetime(2026, 12, 10, 10, tzinfo=TORONTO)


def test_reschedule_with_garbage_time_is_a_400(client, appointment):
    response = client.post(f"{appointment.private_link_path()}reschedule/", {"start": "tomorrow-ish"})
    assert response.status_code == 400
    appointment.refresh_from_db()
    assert appointment.start == datetime(2026, 12, 10, 10, tzinfo=TORONTO)


def test_ics_has_the_event_in_utc(client, appointment):
    body = client.get(f"{appointment.private_link_path()}appointment.ics").content.decode()
    assert "DTSTART:20261210T150000Z" in body
    assert "Alex Moreau" in body


def test_manage_page_query_count(client, appointment, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        assert client.get(appointment.private_link_path()).status_code == 200


def test_calendar_file_uid_carries_no_part_of_the_private_link(client, appointment):
    from icalendar import Calendar

    from booking import services
    from booking.actors import Actor

    url = f"{appointment.private_link_path()}appointment.ics"
    [before] = Calendar.from_ical(client.get(url).content).walk("VEVENT")
    services.appointment_move(
        appointment=appointment, start=appointment.start + timedelta(days=1), now=NOW, actor=Actor.system("tests")
    )
    [after] = Calendar.from_ical(client.get(url).content).walk("VEVENT")

    assert str(before["UID"]) == str(after["UID"]) == f"visit-{appointment.pk}@127.0.0.1"
    assert appointment.manage_token[:6] not in str(before["UID"])
    assert (before["SEQUENCE"], after["SEQUENCE"]) == (0, 1)
