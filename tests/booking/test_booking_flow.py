"""The booking flow at /book/, step by step, without JavaScript (plain GET and POST)."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from booking.models import Appointment, Patient
from tests.conftest import NOW, weekday_therapist
from tests.factories import AppointmentFactory

TORONTO = ZoneInfo("America/Toronto")
START = "2026-12-08T10:00-05:00"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def details(**overrides):
    data = {
        "service": "myofascial-release",
        "duration": "60",
        "therapist": "alex-moreau",
        "start": START,
        "name": "Jordan Lee",
        "email": "jordan@example.com",
        "phone": "416-555-0199",
        "date_of_birth": "1985-04-02",
        "note": "Left leg pain",
        "request_key": "key-123",
        "intent": "confirm",
    }
    data.update(overrides)
    return data


def test_first_step_lists_the_services(client, therapist, service):
    response = client.get("/book/")

    assert response.status_code == 200
    assert b"Myofascial release" in response.content
    assert b"?service=myofascial-release" in response.content


def test_service_with_several_lengths_asks_for_the_length(client, therapist, service):
    response = client.get("/book/", {"service": "myofascial-release"})

    assert response.context["step"] == "length"
    assert b"90 minutes" in response.content


def test_length_leads_to_the_choice_of_therapist_with_no_preference(client, therapist, second_therapist, service):
    response = client.get("/book/", {"service": "myofascial-release", "duration": "60"})

    assert response.context["step"] == "therapist"
    assert b"No preference" in response.content
    assert b"Sam Okafor" in response.content


def test_time_step_offers_the_first_free_day_and_its_times(client, therapist, service):
    response = client.get("/book/", {"service": "myofascial-release", "duration": "60", "therapist": "alex-moreau"})

    assert response.context["step"] == "time"
    # Today (Monday) still has times after the two hours' notice.
    assert str(response.context["selected_day"]) == "2026-12-07"
    days = response.context["days"]
    assert len(days) == 14
    assert [d.has_slots for d in days[:7]] == [True, True, True, True, True, False, False]
    assert response.context["times"][0].value == "2026-12-07T10:00-05:00"


def test_day_without_free_times_is_shown_muted(client, therapist, service):
    response = client.get(
        "/book/", {"service": "myofascial-release", "duration": "60", "therapist": "alex-moreau", "date": "2026-12-12"}
    )

    assert response.context["times"] == []
    assert b"No free times that day" in response.content


def test_details_step_shows_the_form_with_a_fresh_request_key(client, therapist, service):
    params = {"service": "myofascial-release", "duration": "60", "therapist": "alex-moreau", "start": START}
    first = client.get("/book/", params)
    second = client.get("/book/", params)

    assert first.context["step"] == "details"
    assert first.context["form"].initial["request_key"] != second.context["form"].initial["request_key"]


def test_review_shows_a_summary_before_anything_is_booked(client, therapist, service):
    response = client.post("/book/", details(intent="review"))

    assert response.status_code == 200
    assert response.context["step"] == "review"
    assert b"Confirm booking" in response.content
    assert not Appointment.objects.exists()


def test_confirm_books_and_redirects_to_the_private_page(
    client, therapist, service, mailoutbox, deliver_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/book/", details())

    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/appointments/{appointment.manage_token}/?booked=1"
    assert appointment.start == datetime(2026, 12, 8, 10, tzinfo=TORONTO)
    assert appointment.patient.name == "Jordan Lee"
    assert appointment.channel == Appointment.Channel.ONLINE
    assert appointment.patient_note == "Left leg pain"
    deliver_outbox()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["jordan@example.com"]
    assert appointment.manage_token in mailoutbox[0].body
    assert mailoutbox[0].attachments[0][0] == "appointment.ics"


def test_confirmation_page_gives_link_and_calendar_file(client, therapist, service):
    location = client.post("/book/", details())["Location"]

    page = client.get(location)
    assert b"You're booked" in page.content
    token = location.split("/")[2]
    assert f"/appointments/{token}/appointment.ics".encode() in page.content
    ics = client.get(f"/appointments/{token}/appointment.ics")
    assert ics["Content-Type"].startswith("text/calendar")
    assert b"BEGIN:VEVENT" in ics.content
    assert b"DTSTART" in ics.content


def test_resubmitted_form_books_once(client, therapist, service):
    first = client.post("/book/", details())
    second = client.post("/book/", details())

    assert Appointment.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_no_preference_books_the_first_free_therapist(client, therapist, second_therapist, service):
    AppointmentFactory(therapist=therapist, service=service, start=datetime(2026, 12, 8, 10, tzinfo=TORONTO))

    client.post("/book/", details(therapist="any", request_key="other"))

    booked = Appointment.objects.get(patient__email="jordan@example.com")
    assert booked.therapist == second_therapist


def test_taken_time_keeps_what_was_typed_and_offers_fresh_times(client, therapist, service):
    AppointmentFactory(therapist=therapist, service=service, start=datetime(2026, 12, 8, 10, tzinfo=TORONTO))

    response = client.post("/book/", details())

    assert response.status_code == 409
    content = response.content.decode()
    assert "That time was just taken" in content
    assert 'value="Jordan Lee"' in content
    assert 'value="jordan@example.com"' in content
    fresh = [time.value for time in response.context["fresh_times"]]
    assert fresh and START not in fresh
    assert Appointment.objects.count() == 1
    assert not Patient.objects.filter(email="jordan@example.com").exists()


def test_choosing_a_fresh_time_after_a_clash_books_it(client, therapist, service):
    AppointmentFactory(therapist=therapist, service=service, start=datetime(2026, 12, 8, 10, tzinfo=TORONTO))
    fresh = client.post("/book/", details()).context["fresh_times"][-1].value

    response = client.post("/book/", details(start=fresh))

    assert response.status_code == 302
    assert Appointment.objects.filter(patient__email="jordan@example.com").count() == 1


def test_details_step_for_a_time_no_longer_free_goes_back_to_the_times(client, therapist, service):
    AppointmentFactory(therapist=therapist, service=service, start=datetime(2026, 12, 8, 10, tzinfo=TORONTO))

    response = client.get(
        "/book/", {"service": "myofascial-release", "duration": "60", "therapist": "alex-moreau", "start": START}
    )

    assert response.context["step"] == "time"
    assert str(response.context["selected_day"]) == "2026-12-08"
    assert b"no longer free" in response.content


def test_invalid_details_show_messages_and_book_nothing(client, therapist, service):
    response = client.post("/book/", details(email="not-an-email", phone="call me"))

    assert response.status_code == 400
    assert b"Enter a valid email address" in response.content
    assert b"Enter a phone number" in response.content
    assert not Appointment.objects.exists()


def test_booking_steps_make_a_constant_number_of_queries(client, service, django_assert_max_num_queries):
    for index in range(8):
        therapist = weekday_therapist(service, f"therapist-{index}", f"Therapist {index}")
        for hour in (9, 11, 14):
            AppointmentFactory(therapist=therapist, service=service, start=datetime(2026, 12, 9, hour, tzinfo=TORONTO))
    steps = [
        {},
        {"service": "myofascial-release"},
        {"service": "myofascial-release", "duration": "60"},
        {"service": "myofascial-release", "duration": "60", "therapist": "any"},
        {"service": "myofascial-release", "duration": "60", "therapist": "any", "date": "2026-12-09"},
        {"service": "myofascial-release", "duration": "60", "therapist": "any", "start": START},
    ]
    for params in steps:
        with django_assert_max_num_queries(5):
            assert client.get("/book/", params).status_code == 200


def test_book_page_is_linked_from_every_service_card(client, therapist, service):
    content = client.get("/book/").content.decode()
    assert re.search(r'href="/book/\?service=myofascial-release"', content)
