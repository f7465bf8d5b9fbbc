"""Every page under /schedule/, present and future: anonymous visitors log in first; receptionists and staff
without a role get nothing; a therapist gets 404 for a colleague's objects; the feed opens by its token alone.
Read from the URL configuration, so a new page is covered."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import URLPattern, reverse

from tests.conftest import staff_user
from tests.factories import AppointmentFactory, TimeOffFactory, UserFactory
from therapists import schedule_urls

pytestmark = pytest.mark.django_db
TORONTO = ZoneInfo("America/Toronto")


@pytest.fixture
def colleagues(therapist, second_therapist, service):
    """Alex and Sam, each with a login, an appointment and a time off request of their own."""
    for who, name in ((therapist, "alex"), (second_therapist, "sam")):
        who.user = staff_user(name, "Therapist")
        who.save()
    objects = {}
    for who, hour in ((therapist, 10), (second_therapist, 14)):
        start = datetime(2026, 12, 8, hour, tzinfo=TORONTO)
        objects[who.slug] = {
            "appointment": AppointmentFactory(therapist=who, service=service, start=start),
            "time_off": TimeOffFactory(
                therapist=who,
                start=datetime(2026, 12, 9, hour, tzinfo=TORONTO),
                end=datetime(2026, 12, 9, hour + 1, tzinfo=TORONTO),
            ),
            "therapist": who,
        }
    return objects


def urls_of(owned: dict) -> list[str]:
    found = []
    for pattern in schedule_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        route = str(pattern.pattern)
        if "<str:token>" in route:
            continue  # the feed: tested on its own below
        args = []
        if "<int:pk>" in route:
            args = [owned["time_off" if (pattern.name or "").startswith("time_off") else "appointment"].pk]
        found.append(reverse(f"schedule:{pattern.name}", args=args))
    return found


def test_every_schedule_url_is_checked(colleagues):
    assert len(urls_of(colleagues["alex-moreau"])) == len(schedule_urls.urlpatterns) - 1 >= 9


def test_anonymous_visitors_go_to_the_login_page(client, colleagues):
    for url in urls_of(colleagues["alex-moreau"]):
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("login") + "?next="), url


@pytest.mark.parametrize("group", ["Receptionist", None])
def test_receptionists_and_staff_without_a_role_get_nothing(client, colleagues, group):
    client.force_login(staff_user("rosa", group) if group else UserFactory(username="temp"))
    for url in urls_of(colleagues["alex-moreau"]):
        for method in (client.get, client.post):
            assert method(url).status_code == 403, url


def test_a_therapist_gets_404_for_a_colleagues_objects_and_schedule(client, colleagues):
    client.force_login(colleagues["alex-moreau"]["therapist"].user)
    sams = [url for url in urls_of(colleagues["sam-okafor"]) if "/appointments/" in url or "/withdraw/" in url]
    assert sams
    for url in sams:
        # A GET-only page answers a POST with 405 whoever owns it, which tells nothing either.
        assert client.get(url).status_code in (404, 405), url
        assert client.post(url).status_code in (404, 405), url
        assert 404 in (client.get(url).status_code, client.post(url).status_code), url
    for url in urls_of(colleagues["alex-moreau"]):
        if "/appointments/" not in url and "/withdraw/" not in url and "/replace/" not in url:
            assert client.get(url, {"therapist": "sam-okafor"}).status_code == 404, url
    appointment = colleagues["sam-okafor"]["appointment"]
    appointment.refresh_from_db()
    assert appointment.status == "booked"


def test_the_feed_opens_by_its_token_alone_and_never_by_a_patients_link(client, colleagues):
    alex = colleagues["alex-moreau"]
    assert client.get(reverse("schedule:feed", args=[alex["therapist"].feed_token])).status_code == 200
    for token in (alex["appointment"].manage_token, "nothing-here", alex["therapist"].slug):
        assert client.get(reverse("schedule:feed", args=[token])).status_code == 404
    assert client.get(f"/schedule/appointments/{alex['appointment'].manage_token}/").status_code == 404
