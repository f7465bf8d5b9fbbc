"""The therapist's private calendar feed (/schedule/feed/<token>.ics), its page and replacing its link.

The feed opens by its token alone and lands in phone calendars, so most tests here are about what it must not
show, whose appointments it holds, and that its times are right on the clinic's clock across clock changes.
"""

import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from icalendar import Calendar

from booking import selectors
from booking import services as booking_services
from booking.actors import Actor, Via
from booking.models import Appointment
from clinic.models import ClinicSettings
from tests.conftest import NOW, staff_user
from tests.factories import AppointmentFactory, PatientFactory
from therapists import feed
from therapists.models import Therapist
from therapists.services import FeedTokenError, feed_token_replace

pytestmark = pytest.mark.django_db

TORONTO = ZoneInfo("America/Toronto")
TUESDAY = date(2026, 12, 8)  # NOW is Monday 7 December 2026, 08:00 in Toronto


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TORONTO)


def feed_url(therapist: Therapist) -> str:
    return reverse("schedule:feed", args=[therapist.feed_token])


def fetch(client, therapist: Therapist) -> Calendar:
    response = client.get(feed_url(therapist))
    assert response.status_code == 200
    return Calendar.from_ical(response.content)


def uid(appointment: Appointment) -> str:
    return feed.event_uid(appointment, feed.site_host())


def events_by_uid(calendar: Calendar) -> dict:
    return {str(event["UID"]): event for event in calendar.events}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def alex_user(therapist):
    user = staff_user("alex", "Therapist")
    therapist.user = user
    therapist.save()
    return user


@pytest.fixture
def sam_user(second_therapist):
    user = staff_user("sam", "Therapist")
    second_therapist.user = user
    second_therapist.save()
    return user


@pytest.fixture
def jordan(therapist, service):
    """Alex's patient Jordan Lee, with everything the feed must keep to itself."""
    patient = PatientFactory(name="Jordan Lee", email="jordan.lee@example.com", phone="416-555-0199")
    return AppointmentFactory(
        therapist=therapist,
        service=service,
        patient=patient,
        start=at(TUESDAY, 10),
        patient_note="Left hip pain since the marathon",
        staff_note="Prefers the quiet room",
    )


# --- what the feed holds ----------------------------------------------------------------------------


def test_the_feed_opens_without_a_login_as_a_private_uncached_calendar(client, clinic, jordan):
    response = client.get(feed_url(jordan.therapist))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cache_control = response["Cache-Control"]
    assert "private" in cache_control and "no-store" in cache_control
    assert "Set-Cookie" not in response.headers
    assert "noindex" in response["X-Robots-Tag"]
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["X-WR-TIMEZONE"]) == "America/Toronto"
    assert b"X-PUBLISHED-TTL:PT1H" in response.content


def test_an_entry_shows_first_name_last_initial_service_and_length(client, clinic, jordan):
    [event] = fetch(client, jordan.therapist).events
    assert str(event["SUMMARY"]) == "Jordan L. · Myofascial release · 60 min"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "DESCRIPTION" not in event
    assert "URL" not in event


def test_nothing_private_is_anywhere_in_the_feed(client, clinic, jordan):
    body = client.get(feed_url(jordan.therapist)).content.decode()
    unfolded = body.replace("\r\n ", "")
    for secret in [
        "Left hip pain",
        "marathon",
        "quiet room",
        "jordan.lee@example.com",
        "example.com",
        "555-0199",
        "4165550199",
        "Jordan Lee",
        jordan.manage_token,
        jordan.manage_token[:12],
        jordan.therapist.feed_token,
        "/appointments/",
        "DESCRIPTION",
        "ATTENDEE",
    ]:
        assert secret not in unfolded, secret


def test_the_feeds_read_does_not_even_load_notes_contact_details_or_the_private_link(clinic, jordan):
    start, end = feed.feed_window(NOW, clinic)
    [loaded] = selectors.feed_appointments(jordan.therapist, start, end)
    assert {"patient_note", "staff_note", "manage_token", "cancellation_reason"} <= loaded.get_deferred_fields()
    assert {"email", "phone", "date_of_birth"} <= loaded.patient.get_deferred_fields()


def test_the_feed_holds_only_this_therapists_appointments(client, clinic, jordan, second_therapist, service):
    colleague = AppointmentFactory(
        therapist=second_therapist, service=service, start=at(TUESDAY, 10), patient=PatientFactory(name="Omar Haddad")
    )
    alex_feed = fetch(client, jordan.therapist)
    sam_feed = fetch(client, second_therapist)
    assert [str(e["SUMMARY"]) for e in alex_feed.events] == ["Jordan L. · Myofascial release · 60 min"]
    assert [str(e["SUMMARY"]) for e in sam_feed.events] == ["Omar H. · Myofascial release · 60 min"]
    assert f"appointment-{colleague.pk}@" not in client.get(feed_url(jordan.therapist)).content.decode()


def test_the_feed_runs_from_seven_days_back_to_the_booking_horizon(client, clinic, therapist, service):
    clinic.horizon_days = 30
    clinic.save()
    today = NOW.astimezone(TORONTO).date()
    starts = {
        "too old": at(today - timedelta(days=8), 16),
        "first day": at(today - timedelta(days=7), 9),
        "today": at(today, 13),
        "last day": at(today + timedelta(days=30), 16),
        "past the horizon": at(today + timedelta(days=31), 9),
    }
    made = {
        label: AppointmentFactory(therapist=therapist, service=service, start=start) for label, start in starts.items()
    }
    uids = set(events_by_uid(fetch(client, therapist)))
    shown = {label for label, appointment in made.items() if uid(appointment) in uids}
    assert shown == {"first day", "today", "last day"}


def test_cancelled_appointments_stay_in_marked_cancelled_and_free(client, clinic, therapist, service):
    kept = AppointmentFactory(therapist=therapist, service=service, start=at(TUESDAY, 10))
    done = AppointmentFactory(
        therapist=therapist, service=service, start=at(TUESDAY, 13), status=Appointment.Status.COMPLETED
    )
    cancelled = AppointmentFactory(
        therapist=therapist, service=service, start=at(TUESDAY, 15), status=Appointment.Status.CANCELLED
    )
    events = events_by_uid(fetch(client, therapist))
    assert str(events[uid(cancelled)]["STATUS"]) == "CANCELLED"
    assert str(events[uid(cancelled)]["TRANSP"]) == "TRANSPARENT"
    assert str(events[uid(cancelled)]["SUMMARY"]).startswith("Cancelled: ")
    assert str(events[uid(kept)]["STATUS"]) == "CONFIRMED"
    assert str(events[uid(done)]["STATUS"]) == "CONFIRMED"


def test_uids_are_stable_and_carry_no_secret(client, clinic, jordan):
    first = client.get(feed_url(jordan.therapist)).content
    second = client.get(feed_url(jordan.therapist)).content
    assert first == second
    [event] = Calendar.from_ical(first).events
    found = str(event["UID"])
    assert found == f"appointment-{jordan.pk}@{feed.site_host()}"
    assert jordan.manage_token[:6] not in found and jordan.therapist.feed_token[:6] not in found
    assert event.decoded("DTSTAMP") == jordan.updated_at


def test_sequence_rises_when_the_appointment_is_moved(client, clinic, jordan):
    [before] = fetch(client, jordan.therapist).events
    assert before["SEQUENCE"] == 0
    booking_services.appointment_move(
        appointment=jordan, start=at(TUESDAY, 14), now=NOW, actor=Actor.system("tests"), notify=False
    )
    [after] = fetch(client, jordan.therapist).events
    assert str(after["UID"]) == str(before["UID"])
    assert after["SEQUENCE"] == 1
    assert after.decoded("DTSTART") == at(TUESDAY, 14)


def test_sequence_rises_when_cancelled_and_again_when_restored(client, clinic, jordan, receptionist):
    desk = Actor.staff(receptionist, Via.FRONT_DESK)
    booking_services.appointment_cancel(appointment=jordan, now=NOW, actor=desk)
    [cancelled] = fetch(client, jordan.therapist).events
    assert (cancelled["SEQUENCE"], str(cancelled["STATUS"])) == (1, "CANCELLED")
    booking_services.appointment_undo(appointment=jordan, now=NOW, actor=desk)
    [restored] = fetch(client, jordan.therapist).events
    assert (restored["SEQUENCE"], str(restored["STATUS"])) == (2, "CONFIRMED")


# --- the clinic's clock ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "today, before_change, after_change, offsets",
    [
        # Clocks go back on Sunday 1 November 2026 (EDT, -4, to EST, -5).
        (date(2026, 10, 28), date(2026, 10, 30), date(2026, 11, 2), (-4, -5)),
        # Clocks go forward on Sunday 14 March 2027 (EST to EDT).
        (date(2027, 3, 10), date(2027, 3, 12), date(2027, 3, 15), (-5, -4)),
    ],
    ids=["fall-back-week", "spring-forward-week"],
)
def test_times_are_the_clinics_wall_clock_across_a_clock_change(
    client, clinic, therapist, service, today, before_change, after_change, offsets
):
    before = AppointmentFactory(therapist=therapist, service=service, start=at(before_change, 10))
    after = AppointmentFactory(therapist=therapist, service=service, start=at(after_change, 10))
    with time_machine.travel(at(today, 8), tick=False):
        response = client.get(feed_url(therapist))
    body = response.content.decode()
    for day in (before_change, after_change):
        assert f"DTSTART;TZID=America/Toronto:{day:%Y%m%d}T100000" in body
        assert f"DTEND;TZID=America/Toronto:{day:%Y%m%d}T110000" in body

    calendar = Calendar.from_ical(response.content)
    [vtimezone] = calendar.timezones
    assert str(vtimezone["TZID"]) == "America/Toronto"
    # Read with the VTIMEZONE the feed sends, not the reader's own zone database, as a phone would.
    sent_zone = vtimezone.to_tz(lookup_tzid=False)
    events = events_by_uid(calendar)
    for appointment, hours in zip((before, after), offsets, strict=True):
        event = events[uid(appointment)]
        start = event.decoded("DTSTART")
        assert event["DTSTART"].params["TZID"] == "America/Toronto"
        assert start.replace(tzinfo=None).time() == time(10)
        assert start.astimezone(UTC) == appointment.start
        wall = start.replace(tzinfo=None)
        assert wall.replace(tzinfo=sent_zone).utcoffset() == timedelta(hours=hours)
        assert wall.replace(tzinfo=sent_zone).astimezone(UTC) == appointment.start


def test_a_clinic_in_another_zone_gets_its_own_zone(client, clinic, jordan):
    clinic.time_zone = "America/Vancouver"
    clinic.save()
    body = client.get(feed_url(jordan.therapist)).content.decode()
    assert "TZID:America/Vancouver" in body
    assert "DTSTART;TZID=America/Vancouver:20261208T070000" in body


# --- tokens --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    ["wrong-token-wrong-token-wrong-token", "a" * 65, "x", "%00", "..%2F..%2Fetc", "caf%C3%A9", "%20"],
)
def test_a_wrong_or_malformed_token_is_404(client, clinic, jordan, token):
    response = client.get(f"/schedule/feed/{token}.ics")
    assert response.status_code == 404
    assert b"Jordan" not in response.content


def test_a_token_is_long_and_random(therapist, second_therapist):
    assert len(therapist.feed_token) >= 32  # 24 random bytes in base64: 192 bits
    assert therapist.feed_token != second_therapist.feed_token


def test_replacing_the_link_retires_the_old_token(client, clinic, jordan, alex_user):
    therapist = jordan.therapist
    old_url = feed_url(therapist)
    client.force_login(alex_user)
    response = client.post(reverse("schedule:feed_replace"), {"confirm": "yes"})
    assert response.status_code == 302
    assert response["Location"] == reverse("schedule:feed_settings")
    therapist.refresh_from_db()
    client.logout()
    assert client.get(old_url).status_code == 404
    assert client.get(feed_url(therapist)).status_code == 200
    assert feed_url(therapist) != old_url


def test_the_link_is_replaced_only_once_confirmed(client, clinic, therapist, alex_user):
    token = therapist.feed_token
    client.force_login(alex_user)
    response = client.post(reverse("schedule:feed_replace"))
    assert response.status_code == 400
    assert b"Nothing was changed" in response.content
    therapist.refresh_from_db()
    assert therapist.feed_token == token


def test_a_receptionist_cannot_replace_a_therapists_link(client, clinic, therapist, receptionist):
    token = therapist.feed_token
    client.force_login(receptionist)
    url = reverse("schedule:feed_replace") + f"?therapist={therapist.slug}"
    assert client.post(url, {"confirm": "yes"}).status_code in (403, 404)
    therapist.refresh_from_db()
    assert therapist.feed_token == token
    with pytest.raises(FeedTokenError) as refused:
        feed_token_replace(therapist=therapist, actor=Actor.staff(receptionist, Via.FRONT_DESK))
    assert refused.value.code == "not_allowed"


def test_a_therapist_cannot_replace_a_colleagues_link(client, clinic, therapist, second_therapist, alex_user, sam_user):
    token = second_therapist.feed_token
    client.force_login(alex_user)
    url = reverse("schedule:feed_replace") + f"?therapist={second_therapist.slug}"
    assert client.post(url, {"confirm": "yes"}).status_code == 404
    second_therapist.refresh_from_db()
    assert second_therapist.feed_token == token
    with pytest.raises(FeedTokenError) as refused:
        feed_token_replace(therapist=second_therapist, actor=Actor.staff(alex_user, Via.SCHEDULE))
    assert refused.value.code == "not_allowed"
    second_therapist.refresh_from_db()
    assert second_therapist.feed_token == token


def test_a_manager_can_replace_a_therapists_link(client, clinic, therapist):
    manager = staff_user("morgan", "Manager")
    token = therapist.feed_token
    client.force_login(manager)
    url = reverse("schedule:feed_replace") + f"?therapist={therapist.slug}"
    response = client.post(url, {"confirm": "yes"})
    assert response.status_code == 302
    assert response["Location"] == reverse("schedule:feed_settings") + f"?therapist={therapist.slug}"
    therapist.refresh_from_db()
    assert therapist.feed_token != token


def test_anonymous_visitors_cannot_replace_a_link(client, clinic, therapist):
    token = therapist.feed_token
    response = client.post(reverse("schedule:feed_replace") + f"?therapist={therapist.slug}", {"confirm": "yes"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    therapist.refresh_from_db()
    assert therapist.feed_token == token


def test_replacing_by_get_is_refused(client, clinic, alex_user):
    client.force_login(alex_user)
    assert client.get(reverse("schedule:feed_replace")).status_code == 405


def test_no_log_line_carries_the_token(client, clinic, jordan, alex_user, caplog):
    old = jordan.therapist.feed_token
    with caplog.at_level(logging.DEBUG):
        client.get(feed_url(jordan.therapist))
        client.force_login(alex_user)
        client.get(reverse("schedule:feed_settings"))
        client.post(reverse("schedule:feed_replace"), {"confirm": "yes"})
    jordan.therapist.refresh_from_db()
    assert "Calendar feed link replaced" in caplog.text
    assert old not in caplog.text
    assert jordan.therapist.feed_token not in caplog.text


# --- the page that shows the link ---------------------------------------------------------------------


def test_the_page_shows_the_therapist_their_full_link(client, clinic, therapist, alex_user):
    client.force_login(alex_user)
    response = client.get(reverse("schedule:feed_settings"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    content = response.content.decode()
    assert f"http://testserver/schedule/feed/{therapist.feed_token}.ics" in content
    assert f"webcal://testserver/schedule/feed/{therapist.feed_token}.ics" in content
    assert "Replace the link" in content


def test_a_manager_sees_the_link_of_the_therapist_they_pick(client, clinic, therapist, second_therapist):
    client.force_login(staff_user("morgan", "Manager"))
    response = client.get(reverse("schedule:feed_settings") + f"?therapist={second_therapist.slug}")
    assert response.status_code == 200
    assert second_therapist.feed_token in response.content.decode()
    assert therapist.feed_token not in response.content.decode()


def test_a_therapist_cannot_see_a_colleagues_link(client, clinic, second_therapist, alex_user):
    client.force_login(alex_user)
    response = client.get(reverse("schedule:feed_settings") + f"?therapist={second_therapist.slug}")
    assert response.status_code == 404
    assert second_therapist.feed_token not in response.content.decode()


def test_a_receptionist_gets_no_feed_page(client, clinic, therapist, receptionist):
    client.force_login(receptionist)
    response = client.get(reverse("schedule:feed_settings") + f"?therapist={therapist.slug}")
    assert response.status_code == 403
    assert therapist.feed_token not in response.content.decode()


# --- cost ------------------------------------------------------------------------------------------------

# The clinic's settings (loaded once per request by the middleware), the therapist by token, the appointments.
FEED_QUERIES = 3


@pytest.mark.parametrize("count", [1, 30])
def test_the_feed_costs_the_same_few_queries_for_any_number_of_appointments(
    client, clinic, therapist, service, count, django_assert_num_queries
):
    for number in range(count):
        # Five a day, 90 minutes apart: never overlapping with the buffer (PostgreSQL's constraint checks).
        start = at(TUESDAY + timedelta(days=number // 5), 9) + timedelta(minutes=90 * (number % 5))
        AppointmentFactory(therapist=therapist, service=service, start=start)
    with django_assert_num_queries(FEED_QUERIES):
        response = client.get(feed_url(therapist))
    assert len(Calendar.from_ical(response.content).events) == count


# --- small pieces ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "full, short",
    [
        ("Jordan Lee", "Jordan L."),
        ("Cher", "Cher"),
        ("  Mary  Anne   van der berg ", "Mary B."),
        ("Jean-Luc Picard", "Jean-Luc P."),
        ("", "Patient"),
    ],
)
def test_short_name(full, short):
    assert feed.short_name(full) == short


def test_the_window_is_on_the_clinics_calendar_days():
    clinic = ClinicSettings(time_zone="America/Toronto", horizon_days=60)
    first, last = feed.feed_window(NOW, clinic)
    assert first == at(date(2026, 11, 30), 0)
    assert last == at(date(2027, 2, 6), 0)
