"""The waitlist at the front desk: who may see it, the list in order of joining, removing an entry, and offering
a free time to a patient by hand.

The clock is Monday 7 Dec 2026, 08:00 in Toronto; Alex works weekdays 9–12 and 13–17.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking import waitlist, waitlist_services
from booking.actors import Actor
from booking.models import WaitlistEntry, WaitlistOffer
from booking.services import PatientDetails
from booking.waitlist import Part
from notifications.models import OutboundMessage
from tests.conftest import NOW, staff_user

TORONTO = ZoneInfo("America/Toronto")
PAGE = "/frontdesk/waitlist/"
THURSDAY = date(2026, 12, 10)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TORONTO)


def join(option, name: str, *, minutes_ago: int, suits: int = waitlist.ANY_TIME, therapist=None) -> WaitlistEntry:
    return waitlist_services.waitlist_join(
        option=option,
        therapist=therapist,
        patient=PatientDetails(name=name, email=f"{name.split()[0].lower()}@example.com", phone="416-555-0100"),
        suits=suits,
        note="",
        now=NOW - timedelta(minutes=minutes_ago),
    ).entry


@pytest.fixture
def entries(option, therapist):
    """Ben joined after Ana, but his record was written first."""
    ben = join(option, "Ben Carter", minutes_ago=10, therapist=therapist)
    ana = join(option, "Ana Silva", minutes_ago=60, suits=waitlist.mask_of([(d, Part.MORNING) for d in range(5)]))
    return ana, ben


def test_the_page_has_its_url_name():
    assert reverse("frontdesk:waitlist") == PAGE


# Who may come in


def test_anonymous_visitors_are_sent_to_log_in(client, entries):
    ana, _ = entries
    for response in (
        client.get(PAGE),
        client.post(f"{PAGE}{ana.pk}/remove/"),
        client.get(f"{PAGE}{ana.pk}/offer/"),
        client.post(f"{PAGE}{ana.pk}/offer/", {}),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_therapists_are_refused(client, entries):
    ana, _ = entries
    client.force_login(staff_user("alex", "Therapist"))

    assert client.get(PAGE).status_code == 403
    assert client.post(f"{PAGE}{ana.pk}/remove/").status_code == 403
    assert client.get(f"{PAGE}{ana.pk}/offer/").status_code == 403
    assert (
        client.post(
            f"{PAGE}{ana.pk}/offer/", {"start": "2026-12-10T14:00-05:00", "therapist": "alex-moreau"}
        ).status_code
        == 403
    )
    ana.refresh_from_db()
    assert ana.status == "waiting"
    assert not WaitlistOffer.objects.exists()


def test_managers_see_it_too(client, entries):
    client.force_login(staff_user("mo", "Manager"))
    assert client.get(PAGE).status_code == 200


# The list


def test_the_list_is_in_order_of_joining_with_what_suits_each_patient(desk_client, entries):
    ana, ben = entries

    response = desk_client.get(PAGE)

    assert response.status_code == 200
    assert [row["entry"] for row in response.context["rows"]] == [ana, ben]
    body = response.content.decode()
    assert body.index("Ana Silva") < body.index("Ben Carter")
    assert "Mon–Fri: mornings" in body
    assert "Any day, any time" in body
    assert "Alex Moreau only" in body
    assert "Myofascial release, 60 min" in body
    assert 'href="/frontdesk/waitlist/"' in body and "Waitlist</a>" in body
    # Staff pages never link to a patient's own waitlist page.
    assert ana.token not in body


def test_offers_and_their_status_are_listed_under_each_patient(desk_client, entries, therapist):
    ana, _ = entries
    waitlist_services.offer_by_hand(
        entry=ana, therapist=therapist, start=at(THURSDAY, 9), now=NOW, actor=Actor.system("tests")
    )

    body = desk_client.get(PAGE).content.decode()

    assert "Offered a time" in body
    assert "Thu 10 Dec, 09:00 with Alex Moreau" in body
    assert "held until 10:00" in body
    assert WaitlistOffer.objects.get().token not in body


def test_the_page_reads_a_fixed_number_of_queries_whatever_the_size_of_the_list(desk_client, option, therapist):
    join(option, "First Patient", minutes_ago=500)
    with CaptureQueriesContext(connection) as small:
        assert desk_client.get(PAGE).status_code == 200

    for number in range(15):
        entry = join(option, f"Patient{number} Waiting", minutes_ago=400 - number)
        if number % 3 == 0:
            waitlist_services.offer_by_hand(
                entry=entry,
                therapist=therapist,
                start=at(THURSDAY, 9) + timedelta(days=number // 3 * 7),
                now=NOW,
                actor=Actor.system("tests"),
            )
    with CaptureQueriesContext(connection) as large:
        response = desk_client.get(PAGE)

    assert len(response.context["rows"]) == 16
    assert len(large.captured_queries) == len(small.captured_queries)
    # Session, user, permissions (2), clinic, the menu's counts, the entries and their offers: two for the list.
    assert len(large.captured_queries) <= 9


# Removing an entry


def test_removing_an_entry_takes_it_off_and_says_so(desk_client, entries, receptionist):
    ana, ben = entries

    response = desk_client.post(f"{PAGE}{ana.pk}/remove/")

    assert response.status_code == 302
    assert response["Location"] == PAGE
    ana.refresh_from_db()
    assert (ana.status, ana.removed_by, ana.ended_at) == ("removed", receptionist, NOW)
    page = desk_client.get(PAGE)
    assert [row["entry"] for row in page.context["rows"]] == [ben]
    assert [row["entry"] for row in page.context["closed"]] == [ana]
    assert [str(m) for m in page.context["messages"]] == ["Took Ana Silva off the waitlist for Myofascial release."]


def test_removing_an_unknown_entry_is_a_404(desk_client, db):
    assert desk_client.post(f"{PAGE}999999/remove/").status_code == 404
    assert desk_client.get(f"{PAGE}999999/offer/").status_code == 404


def test_removing_needs_a_post(desk_client, entries):
    ana, _ = entries
    assert desk_client.get(f"{PAGE}{ana.pk}/remove/").status_code == 405


# Offering a time by hand


def test_the_offer_page_lists_free_times_that_suit_the_patient_first(desk_client, entries):
    ana, _ = entries

    response = desk_client.get(f"{PAGE}{ana.pk}/offer/")

    assert response.status_code == 200
    rows = response.context["rows"]
    # Ana's weekday mornings come first: Monday's first is the first a patient could book online (two hours'
    # notice from 08:00); her afternoons are listed too, marked as outside what suits her.
    first = rows[0]["times"]
    assert (first[0].slot.start, first[0].suits) == (at(date(2026, 12, 7), 10), True)
    assert not first[-1].suits
    assert "outside what suits them" in response.content.decode()


def test_offering_a_listed_time_emails_the_patient(desk_client, entries, receptionist):
    ana, _ = entries

    response = desk_client.post(
        f"{PAGE}{ana.pk}/offer/", {"start": "2026-12-10T14:00-05:00", "therapist": "alex-moreau"}
    )

    assert response.status_code == 302
    offer = WaitlistOffer.objects.get()
    assert (offer.entry, offer.start, offer.offered_by) == (ana, at(THURSDAY, 14), receptionist)
    assert OutboundMessage.objects.filter(recipient="ana@example.com", subject__startswith="A time opened up").exists()
    messages = [str(m) for m in desk_client.get(PAGE).context["messages"]]
    assert messages == ["Offered Thu 10 Dec, 2:00 PM with Alex Moreau to Ana Silva; we've emailed them the link."]


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({}, 400),
        ({"start": "tomorrow", "therapist": "alex-moreau"}, 400),
        ({"start": "2026-12-10T14:00", "therapist": "alex-moreau"}, 400),  # no offset
        ({"start": "2026-12-10T14:00-05:00", "therapist": "nobody"}, 400),
        ({"start": "2026-12-10T14:00-05:00", "therapist": "<b>"}, 400),
        ({"start": "2026-12-10T12:15-05:00", "therapist": "alex-moreau"}, 409),  # lunch
        ({"start": "2026-12-07T08:30-05:00", "therapist": "alex-moreau"}, 409),  # too soon
    ],
)
def test_a_bad_or_unfree_time_is_refused_with_a_reason(desk_client, entries, data, status):
    ana, _ = entries
    response = desk_client.post(f"{PAGE}{ana.pk}/offer/", data)
    assert response.status_code == status
    assert response.context["error"]
    assert not WaitlistOffer.objects.exists()


def test_a_patient_holding_an_offer_cannot_be_offered_another(desk_client, entries, therapist):
    ana, _ = entries
    desk_client.post(f"{PAGE}{ana.pk}/offer/", {"start": "2026-12-10T14:00-05:00", "therapist": "alex-moreau"})

    response = desk_client.post(
        f"{PAGE}{ana.pk}/offer/", {"start": "2026-12-10T15:30-05:00", "therapist": "alex-moreau"}
    )

    assert response.status_code == 409
    assert "already holds an offered time" in response.content.decode()
    assert WaitlistOffer.objects.count() == 1
