"""The patient's waitlist pages, without JavaScript: joining from the booking flow, their place on the list
(and leaving it), and the offer link that books a freed time.

The clock is Monday 7 Dec 2026, 08:00 in Toronto; Alex and Sam work weekdays 9–12 and 13–17.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from booking import services, waitlist, waitlist_services
from booking.actors import Actor, Via
from booking.models import Appointment, WaitlistEntry, WaitlistOffer
from booking.services import PatientDetails
from booking.waitlist import Part
from notifications.models import OutboundMessage
from tests.conftest import NOW
from tests.factories import AppointmentFactory, PatientFactory

TORONTO = ZoneInfo("America/Toronto")
WEDNESDAY = date(2026, 12, 9)
JOIN = "/waitlist/join/"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TORONTO)


def join_data(chosen, **overrides) -> dict:
    data = {
        "option": chosen.pk,
        "therapist": "",
        "suits": ["2-0", "4-0"],
        "name": "Ana Silva",
        "email": "ana@example.com",
        "phone": "416-555-0199",
        "note": "Mornings before work",
        "request_key": "key-123",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def offer(option, therapist, now) -> WaitlistOffer:
    """Ana waits; the Wednesday 10:15 appointment between two others is cancelled, and offered to her."""
    AppointmentFactory(therapist=therapist, service=option.service, start=at(WEDNESDAY, 9))
    AppointmentFactory(therapist=therapist, service=option.service, start=at(WEDNESDAY, 11, 30), duration_minutes=30)
    freed = AppointmentFactory(therapist=therapist, service=option.service, start=at(WEDNESDAY, 10, 15))
    waitlist_services.waitlist_join(
        option=option,
        therapist=None,
        patient=PatientDetails(name="Ana Silva", email="ana@example.com", phone="416-555-0199"),
        suits=waitlist.ANY_TIME,
        note="",
        now=now - timedelta(hours=1),
    )
    services.appointment_cancel(appointment=freed, now=now, actor=Actor.patient())
    return WaitlistOffer.objects.select_related("entry__patient").get()


def offer_url(offer: WaitlistOffer) -> str:
    return f"/waitlist/offers/{offer.token}/"


# --- from the booking flow ----------------------------------------------------------------------------------


def test_the_time_step_offers_the_waitlist_with_the_choices_made(client, therapist, service):
    response = client.get("/book/", {"service": "myofascial-release", "duration": "90", "therapist": "alex-moreau"})

    assert response.context["step"] == "time"
    content = response.content.decode()
    assert "None of these times work?" in content
    assert 'href="/waitlist/join/?service=myofascial-release&amp;duration=90&amp;therapist=alex-moreau"' in content


def test_the_join_form_is_filled_with_the_choices_from_the_booking_flow(client, therapist, service):
    response = client.get(JOIN, {"service": "myofascial-release", "duration": "90", "therapist": "alex-moreau"})

    assert response.status_code == 200
    form = response.context["form"]
    assert form["option"].value() == service.options.get(duration_minutes=90).pk
    assert form["therapist"].value() == "alex-moreau"
    assert reverse("waitlist_join") == JOIN


def test_no_preference_in_the_flow_is_no_preference_on_the_form(client, therapist, service):
    form = client.get(JOIN, {"service": "myofascial-release", "duration": "60", "therapist": "any"}).context["form"]
    assert form["therapist"].value() in ("", None)


@pytest.mark.parametrize(
    "params",
    [
        {"service": "no-such-thing", "duration": "60"},
        {"service": "myofascial-release", "duration": "61"},
        {"service": "myofascial-release", "duration": "9" * 50},
        {"service": "x" * 5000, "therapist": "<script>"},
        {"therapist": "nobody"},
    ],
)
def test_odd_choices_in_the_link_just_leave_the_form_unfilled(client, therapist, service, params):
    response = client.get(JOIN, params)
    assert response.status_code == 200
    assert response.context["form"]["therapist"].value() in ("", None)


def test_the_times_grid_shows_only_days_and_parts_someone_works(client, therapist, service):
    content = client.get(JOIN).content.decode()

    form_grid = client.get(JOIN).context["form"].grid()
    assert [row.short for row in form_grid] == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    assert [heading for heading, _ in client.get(JOIN).context["form"].grid_headings()] == ["Morning", "Afternoon"]
    assert 'name="suits" id="suits-0-0" value="0-0"' in content
    assert "Monday morning" in content


def test_the_join_page_reads_a_fixed_number_of_queries(
    client, service, therapist, second_therapist, django_assert_max_num_queries
):
    # Clinic, lengths, therapists and their services, hours.
    with django_assert_max_num_queries(5):
        assert client.get(JOIN).status_code == 200


# --- joining ------------------------------------------------------------------------------------------------


def test_joining_shows_the_place_on_the_waitlist_and_queues_the_confirmation(client, option, therapist):
    response = client.post(JOIN, join_data(option, therapist="alex-moreau"))

    entry = WaitlistEntry.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/waitlist/{entry.token}/?joined=1"
    assert (entry.therapist, entry.duration_minutes, entry.note) == (therapist, 60, "Mornings before work")
    assert waitlist.pairs_of(entry.suits) == {(2, Part.MORNING), (4, Part.MORNING)}
    assert OutboundMessage.objects.get().recipient == "ana@example.com"

    page = client.get(response["Location"])
    assert page.status_code == 200
    content = page.content.decode()
    assert "You're on the waitlist" in content
    assert "Wed, Fri: mornings" in content
    assert "Leave the waitlist" in content


def test_no_time_ticked_means_any_time(client, option, therapist):
    client.post(JOIN, join_data(option, suits=None))
    assert WaitlistEntry.objects.get().suits == waitlist.ANY_TIME


def test_joining_twice_for_the_same_thing_does_not_show_the_place_again(client, option, therapist):
    client.post(JOIN, join_data(option))
    response = client.post(JOIN, join_data(option, request_key="key-456"))

    assert response.status_code == 200
    content = response.content.decode()
    assert "already on the waitlist" in content
    assert WaitlistEntry.objects.get().token not in content
    assert WaitlistEntry.objects.count() == 1


def test_a_form_sent_twice_lands_on_the_same_place(client, option, therapist):
    first = client.post(JOIN, join_data(option))
    second = client.post(JOIN, join_data(option))
    assert first["Location"] == second["Location"]
    assert WaitlistEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "This field is required"),
        ({"name": "<b>Ana</b>"}, "without symbols"),
        ({"email": "ana at example"}, "Enter a valid email address"),
        ({"phone": "call me"}, "Enter a phone number"),
        ({"option": "999999"}, "Choose one of the treatments listed"),
        ({"option": "abc"}, "Choose one of the treatments listed"),
        ({"therapist": "nobody"}, "Select a valid choice"),
        ({"suits": ["9-9"]}, "Choose the days and times from the list"),
        ({"suits": ["0-7"]}, "Choose the days and times from the list"),
        ({"note": "x" * 501}, "at most 500 characters"),
        ({"request_key": "has spaces"}, "Something went wrong with the form"),
    ],
)
def test_bad_answers_get_a_clear_message_and_a_400(client, option, therapist, overrides, message):
    response = client.post(JOIN, join_data(option, **overrides))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not WaitlistEntry.objects.exists()


def test_a_therapist_who_does_not_give_the_treatment_is_refused(client, option, therapist):
    from tests.conftest import weekday_therapist
    from tests.factories import ServiceFactory, ServiceOptionFactory

    stones = ServiceFactory(name="Hot stones", slug="hot-stones")
    ServiceOptionFactory(service=stones, duration_minutes=60)
    weekday_therapist(stones, "stone-person", "Stone Person")

    response = client.post(JOIN, join_data(option, therapist="stone-person"))

    assert response.status_code == 400
    assert "Stone Person does not give Myofascial release" in response.content.decode()


def test_a_get_only_page_refuses_other_methods(client, offer):
    assert client.put(JOIN).status_code == 405
    assert client.post(f"/waitlist/{offer.entry.token}/").status_code == 405
    assert client.get(f"/waitlist/{offer.entry.token}/leave/").status_code == 405


# --- the patient's place, and leaving -----------------------------------------------------------------------


def test_the_place_shows_a_time_held_for_the_patient(client, offer):
    content = client.get(f"/waitlist/{offer.entry.token}/").content.decode()
    assert "A time is held for you" in content
    assert offer_url(offer) in content


def test_leaving_the_waitlist(client, offer):
    response = client.post(f"/waitlist/{offer.entry.token}/leave/")

    assert response.status_code == 302
    offer.refresh_from_db()
    assert offer.status == WaitlistOffer.Status.WITHDRAWN
    assert WaitlistEntry.objects.get().status == "left"
    page = client.get(response["Location"])
    assert "left the waitlist. We won" in page.content.decode()


@pytest.mark.parametrize("token", ["nope", "a" * 65, "x%00y", "../../etc", "ÿÿÿ"])
def test_a_wrong_link_is_a_404_not_an_error(client, offer, token):
    assert client.get(f"/waitlist/{token}/").status_code == 404
    assert client.post(f"/waitlist/{token}/leave/").status_code == 404
    assert client.get(f"/waitlist/offers/{token}/").status_code == 404
    assert client.post(f"/waitlist/offers/{token}/").status_code == 404


# --- the offer link -------------------------------------------------------------------------------------------


def test_the_offer_shows_the_time_the_therapist_and_how_long_it_is_held(client, offer):
    response = client.get(offer_url(offer))

    assert response.status_code == 200
    content = response.content.decode()
    assert "A time opened up for you" in content
    assert "Wednesday, December 9, 2026 at 10:15 AM" in content
    assert "Alex Moreau" in content
    assert "Held for you until 10:00 AM" in content
    assert "Book this time" in content


def test_the_offer_page_reads_a_fixed_number_of_queries(client, offer, django_assert_max_num_queries):
    # Clinic, the offer with everything it shows, the price.
    with django_assert_max_num_queries(3):
        assert client.get(offer_url(offer)).status_code == 200


def test_booking_the_offered_time_goes_to_the_appointment(client, offer):
    response = client.post(offer_url(offer))

    appointment = Appointment.objects.get(patient=offer.entry.patient)
    assert response.status_code == 302
    assert response["Location"] == f"/appointments/{appointment.manage_token}/?booked=1"
    assert appointment.start == at(WEDNESDAY, 10, 15)
    assert "You booked this time" in client.get(offer_url(offer)).content.decode()
    # Sent again (a double tap, a slow phone): the same appointment, not a second one.
    assert client.post(offer_url(offer))["Location"] == response["Location"]
    assert Appointment.objects.filter(patient=offer.entry.patient).count() == 1


def test_a_time_taken_meanwhile_says_so_clearly_with_the_ways_on(client, offer, therapist, option, now):
    services.appointment_book(
        option=option,
        therapist=therapist,
        start=at(WEDNESDAY, 10, 15),
        patient=PatientDetails(name="Quicker", email="quick@example.com", phone="416-555-0100"),
        now=now,
        actor=Actor.patient(Via.ONLINE_BOOKING),
    )

    response = client.post(offer_url(offer))

    assert response.status_code == 409
    content = response.content.decode()
    assert "That time was just taken" in content
    assert "You're still on the waitlist" in content
    assert "See other free times" in content
    assert "/book/?service=myofascial-release&amp;duration=60&amp;therapist=any" in content
    assert f"/waitlist/{offer.entry.token}/" in content
    assert not Appointment.objects.filter(patient=offer.entry.patient).exists()


def test_an_expired_offer_says_so_and_books_nothing(client, offer, now):
    with time_machine.travel(now + timedelta(hours=2, minutes=1), tick=False):
        page = client.get(offer_url(offer))
        refused = client.post(offer_url(offer))

    assert "This offer has expired" in page.content.decode()
    assert "Book this time" not in page.content.decode()
    assert refused.status_code == 409
    assert "This offer has expired" in refused.content.decode()
    assert not Appointment.objects.filter(patient=offer.entry.patient).exists()


def test_an_offer_withdrawn_when_the_patient_left_says_so(client, offer):
    client.post(f"/waitlist/{offer.entry.token}/leave/")
    content = client.get(offer_url(offer)).content.decode()
    assert "This offer is no longer open" in content
    assert "Book this time" not in content


def test_the_patients_other_records_are_not_reachable_from_an_offer(client, offer):
    PatientFactory(name="Someone Else")
    content = client.get(offer_url(offer)).content.decode()
    assert "Someone Else" not in content
