from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from booking.models import Appointment
from tests.conftest import NOW, weekday_therapist
from tests.factories import AppointmentFactory, TherapistFactory

TORONTO = ZoneInfo("America/Toronto")
URL = "/api/availability/"
TUESDAY = date(2026, 12, 8)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TORONTO)


def test_one_therapist_one_day_lists_every_free_start(client, therapist, option):
    response = client.get(URL, {"service": "myofascial-release", "therapist": therapist.slug, "date": "2026-12-08"})

    assert response.status_code == 200
    body = response.json()
    assert body["timezone"] == "America/Toronto"
    starts = [slot["start"] for slot in body["slots"]]
    # 60-minute default length: 9:00-11:00 before lunch, 13:00-16:00 after, every 15 minutes.
    assert starts[0] == "2026-12-08T09:00:00-05:00"
    assert "2026-12-08T11:00:00-05:00" in starts
    assert "2026-12-08T11:15:00-05:00" not in starts
    assert starts[-1] == "2026-12-08T16:00:00-05:00"
    assert len(starts) == 9 + 13
    assert body["slots"][0] == {
        "start": "2026-12-08T09:00:00-05:00",
        "end": "2026-12-08T10:00:00-05:00",
        "therapist": therapist.slug,
    }


def test_duration_changes_the_length_of_each_slot(client, therapist, service):
    response = client.get(
        URL, {"service": service.slug, "duration": 90, "therapist": therapist.slug, "date": "2026-12-08"}
    )

    slots = response.json()["slots"]
    assert slots[0]["end"] == "2026-12-08T10:30:00-05:00"
    assert slots[-1]["start"] == "2026-12-08T15:30:00-05:00"


def test_any_therapist_is_the_default_and_lists_each_therapist(client, therapist, second_therapist, service):
    response = client.get(URL, {"service": service.slug, "date": "2026-12-08"})

    therapists = {slot["therapist"] for slot in response.json()["slots"]}
    assert therapists == {therapist.slug, second_therapist.slug}


def test_booked_time_and_its_buffer_are_not_offered(client, therapist, service):
    AppointmentFactory(therapist=therapist, service=service, start=local(TUESDAY, 10))

    starts = {
        slot["start"]
        for slot in client.get(
            URL, {"service": service.slug, "therapist": therapist.slug, "date": "2026-12-08"}
        ).json()["slots"]
    }

    # A 9:00 session would end at 10:00, but its own 15-minute buffer runs into the 10:00 booking;
    # the booking blocks 10:00-11:15, and 11:15 leaves no full hour before lunch.
    assert not any(start < "2026-12-08T12" for start in starts)
    assert "2026-12-08T13:00:00-05:00" in starts


def test_cancelled_appointment_frees_its_time(client, therapist, service):
    AppointmentFactory(
        therapist=therapist, service=service, start=local(TUESDAY, 10), status=Appointment.Status.CANCELLED
    )

    starts = {
        slot["start"]
        for slot in client.get(
            URL, {"service": service.slug, "therapist": therapist.slug, "date": "2026-12-08"}
        ).json()["slots"]
    }
    assert "2026-12-08T10:00:00-05:00" in starts


def test_several_days_span_the_range_and_skip_the_weekend(client, therapist, service):
    body = client.get(
        URL, {"service": service.slug, "therapist": therapist.slug, "date": "2026-12-08", "days": 7}
    ).json()

    days = sorted({slot["start"][:10] for slot in body["slots"]})
    assert days == ["2026-12-08", "2026-12-09", "2026-12-10", "2026-12-11", "2026-12-14"]


def test_notice_hides_times_too_soon(client, therapist, service):
    # It is 08:00 on Monday 2026-12-07 in Toronto; two hours' notice leaves 10:00 as the first start.
    body = client.get(URL, {"service": service.slug, "therapist": therapist.slug, "date": "2026-12-07"}).json()

    assert body["slots"][0]["start"] == "2026-12-07T10:00:00-05:00"


def test_therapist_who_does_not_offer_the_service_is_a_400(client, therapist, service):
    other = TherapistFactory(slug="no-services")

    response = client.get(URL, {"service": service.slug, "therapist": other.slug, "date": "2026-12-08"})

    assert response.status_code == 400
    assert "therapist" in response.json()["errors"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "service"),
        ({"service": "myofascial-release"}, "date"),
        ({"service": "no-such-thing", "date": "2026-12-08"}, "service"),
        ({"service": "myofascial-release", "date": "2026-13-45"}, "date"),
        ({"service": "myofascial-release", "date": "yesterday"}, "date"),
        ({"service": "myofascial-release", "date": "2020-01-01"}, "date"),
        ({"service": "myofascial-release", "date": "2030-01-01"}, "date"),
        ({"service": "myofascial-release", "date": "2026-12-08", "days": "0"}, "days"),
        ({"service": "myofascial-release", "date": "2026-12-08", "days": "61"}, "days"),
        ({"service": "myofascial-release", "date": "2026-12-08", "days": "many"}, "days"),
        ({"service": "myofascial-release", "date": "2026-12-08", "duration": "45"}, "duration"),
        ({"service": "myofascial-release", "date": "2026-12-08", "duration": "-30"}, "duration"),
        ({"service": "myofascial-release", "date": "2026-12-08", "therapist": "nobody"}, "therapist"),
        ({"service": "<script>alert(1)</script>", "date": "2026-12-08"}, "service"),
        ({"service": "x" * 5000, "date": "2026-12-08"}, "service"),
    ],
)
def test_bad_parameters_give_400_with_the_field_named(client, therapist, params, field):
    response = client.get(URL, params)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert field in errors
    assert all(isinstance(message, str) and message for message in errors[field])


def test_only_get_is_allowed(client, therapist):
    assert client.post(URL, {"service": "myofascial-release", "date": "2026-12-08"}).status_code == 405


def test_query_count_is_constant_whatever_the_clinic_size(client, service, django_assert_max_num_queries):
    for index in range(8):
        therapist = weekday_therapist(service, f"therapist-{index}", f"Therapist {index}")
        for day in range(20):
            AppointmentFactory(
                therapist=therapist, service=service, start=local(TUESDAY + timedelta(days=day), 9 + day % 3)
            )

    with django_assert_max_num_queries(5):
        response = client.get(URL, {"service": service.slug, "therapist": "any", "date": "2026-12-08", "days": 28})

    assert response.status_code == 200
    assert len(response.json()["slots"]) > 1000


def test_query_count_for_one_therapist_day(client, therapist, service, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        response = client.get(URL, {"service": service.slug, "therapist": therapist.slug, "date": "2026-12-08"})
    assert response.status_code == 200
