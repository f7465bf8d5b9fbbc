"""Every page under /frontdesk/, present and future: anonymous visitors log in first; therapists, staff without
a role and patients' private links get nothing. Read from the URL configuration, so a new page is covered."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import URLPattern, reverse

from frontdesk import urls as frontdesk_urls
from tests.conftest import staff_user
from tests.factories import AppointmentFactory, TimeOffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(therapist, service):
    appointment = AppointmentFactory(
        therapist=therapist, service=service, start=datetime(2026, 12, 8, 10, tzinfo=ZoneInfo("America/Toronto"))
    )
    time_off = TimeOffFactory(therapist=therapist, start=appointment.start, end=appointment.end)
    return {"appointment": appointment, "patient": appointment.patient, "time_off": time_off}


def every_url(objects) -> list[str]:
    """Each front desk URL, with a real object's id where the pattern takes one."""
    found = []
    for pattern in frontdesk_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        name = pattern.name or ""
        args = []
        if "<int:pk>" in str(pattern.pattern):
            owner = (
                "time_off"
                if name.startswith("time_off")
                else "patient"
                if name.startswith("patient")
                else "appointment"
            )
            args = [objects[owner].pk]
        found.append(reverse(f"frontdesk:{name}", args=args))
    return found


def test_every_front_desk_url_is_checked(objects):
    assert len(every_url(objects)) == len(frontdesk_urls.urlpatterns) >= 19


def test_anonymous_visitors_go_to_the_login_page_for_every_front_desk_url(client, objects):
    for url in every_url(objects):
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("login") + "?next="), url


@pytest.mark.parametrize("who", ["therapist", "staff without a role", "inactive receptionist"])
def test_only_receptionists_and_managers_get_in(client, objects, therapist, who):
    if who == "therapist":
        user = staff_user("alex", "Therapist")
        therapist.user = user
        therapist.save()
    elif who == "inactive receptionist":
        user = staff_user("gone", "Receptionist")
        user.is_active = False
        user.save()
    else:
        user = UserFactory(username="temp")
    client.force_login(user)
    for url in every_url(objects):
        for method in (client.get, client.post):
            status = method(url).status_code
            # An inactive login is logged out by the session check and sent to log in again.
            assert status in ((302,) if who == "inactive receptionist" else (403,)), (url, status)


def test_a_patients_private_token_opens_nothing_under_the_front_desk(client, objects):
    token = objects["appointment"].manage_token
    for url in (f"/frontdesk/appointments/{token}/", f"/frontdesk/patients/{token}/", f"/frontdesk/{token}/"):
        assert client.get(url).status_code == 404
