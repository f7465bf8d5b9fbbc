"""The public pages: each renders with its key content, hides what is inactive, and costs a fixed number of queries."""

import re
from decimal import Decimal

import pytest
from django.contrib import messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.template import loader
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.views.defaults import server_error

from clinic.views import bad_request
from tests.factories import ServiceFactory, ServiceOptionFactory, TherapistFactory

# Upper bounds per page, with room for one or two queries the views may add; the point of the
# tests below is that the count does not grow with the number of services or therapists.
MAX_QUERIES = {
    "home": 7,
    "service_list": 5,
    "service_detail": 6,
    "therapist_list": 5,
    "therapist_detail": 5,
    "sciatica": 5,
    "login": 3,
}


@pytest.fixture
def inactive_service(db):
    service = ServiceFactory(name="Hot stone retired", slug="hot-stone", active=False)
    ServiceOptionFactory(service=service, duration_minutes=60, price=Decimal("99.00"))
    return service


@pytest.fixture
def inactive_therapist(service):
    return TherapistFactory(name="Robin Gone", slug="robin-gone", active=False, services=[service])


def populate(count: int) -> None:
    """At least `count` active services, each with two lengths, and `count` therapists who offer all of them."""
    services = []
    for n in range(count):
        service = ServiceFactory(slug=f"bulk-service-{n}", name=f"Bulk service {n}")
        ServiceOptionFactory(service=service, duration_minutes=30, price=Decimal("60.00"), is_default=False)
        ServiceOptionFactory(service=service, duration_minutes=60, price=Decimal("110.00"), is_default=True)
        services.append(service)
    for n in range(count):
        TherapistFactory(slug=f"bulk-therapist-{n}", name=f"Bulk Therapist{n}", services=services)


def page_url(page: str) -> str:
    args = {"service_detail": ["bulk-service-0"], "therapist_detail": ["bulk-therapist-0"]}.get(page, [])
    return reverse(page, args=args)


def text(response) -> str:
    return response.content.decode()


def test_home_shows_hero_services_therapists_and_contact(client, clinic, service, therapist):
    response = client.get("/")

    assert response.status_code == 200
    body = text(response)
    assert "sciatica" in body.lower()
    assert "Book a session" in body
    assert service.name in body
    assert "30 min" in body and "90 min" in body
    assert 'From <span class="price-from">$70</span>' in body
    assert therapist.name in body
    assert reverse("sciatica") in body
    assert clinic.address in body
    assert f">{clinic.phone}</a>" in body
    assert 'href="tel:4165550134"' in body


def test_base_layout_has_navigation_skip_link_and_local_assets_only(client, clinic):
    body = text(client.get("/"))

    assert '<html lang="en">' in body
    assert 'name="viewport"' in body
    assert 'hx-boost="true"' in body
    assert 'href="#main"' in body and 'id="main"' in body
    for name in ("service_list", "sciatica", "therapist_list", "book", "login"):
        assert f'href="{reverse(name)}"' in body
    assert "Book now" in body
    assert "Staff login" in body
    assert f"mailto:{clinic.email}" in body
    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', body)
    assert any(a.endswith("bootstrap.min.css") for a in assets)
    assert any(a.endswith("htmx.min.js") for a in assets)
    assert all(a.startswith("/static/") for a in assets), assets


def test_messages_are_shown_as_alerts(rf, clinic, admin_user):
    request = rf.get("/")
    request.user = admin_user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    messages.error(request, "That time was just taken.")

    html = loader.render_to_string("base.html", request=request)

    assert '<div class="alert alert-danger alert-dismissible fade show" role="alert">' in html
    assert "That time was just taken." in html
    assert f"Signed in as {admin_user.username}" in html


def test_service_list_shows_each_length_with_price_and_book_links(client, clinic, service):
    ServiceOptionFactory(service=service, duration_minutes=120, price=Decimal("230.50"), is_default=False)

    response = client.get(reverse("service_list"))

    assert response.status_code == 200
    body = text(response)
    assert service.name in body
    assert service.summary in body
    for minutes, price in (("30", "$70"), ("60", "$125"), ("90", "$175"), ("120", "$230.50")):
        assert f"{minutes} min" in body
        assert price in body
    assert f'href="{service.get_absolute_url()}"' in body
    assert f'href="/book/?service={service.slug}"' in body


def test_service_detail_shows_description_lengths_therapists_and_book_links(client, clinic, service, therapist):
    service.description = "First paragraph.\n\nSecond paragraph."
    service.save()
    ServiceOptionFactory(service=service, duration_minutes=45, price=Decimal("95.00"), is_default=False, active=False)

    response = client.get(service.get_absolute_url())

    assert response.status_code == 200
    body = text(response)
    assert f"<h1>{service.name}</h1>" in body
    assert "<p>First paragraph.</p>" in body and "<p>Second paragraph.</p>" in body
    for minutes in (30, 60, 90):
        assert f'href="/book/?service={service.slug}&amp;duration={minutes}"' in body
    assert "$125" in body
    assert "45 min" not in body and "duration=45" not in body
    assert therapist.name in body
    assert f'href="{therapist.get_absolute_url()}"' in body
    assert f'href="/book/?service={service.slug}&amp;therapist={therapist.slug}"' in body


def test_therapist_list_shows_cards_with_initials_and_book_links(client, clinic, service, therapist):
    therapist.bio = "Treats sciatica every day."
    therapist.save()

    response = client.get(reverse("therapist_list"))

    assert response.status_code == 200
    body = text(response)
    assert therapist.name in body
    assert therapist.title in body
    assert "Treats sciatica every day." in body
    assert f"Registration no. {therapist.registration_number}" in body
    assert '<span class="avatar" aria-hidden="true">AM</span>' in body
    assert service.name in body
    assert f'href="{therapist.get_absolute_url()}"' in body
    assert "View profile" in body
    assert f'href="/book/?therapist={therapist.slug}"' in body
    assert f"Book with {therapist.name}" in body


def test_therapist_detail_shows_bio_registration_and_services_to_book(
    client, clinic, service, therapist, inactive_service
):
    therapist.bio = "Ten years in practice.\n\nLoves hiking."
    therapist.save()
    therapist.services.add(inactive_service)

    response = client.get(therapist.get_absolute_url())

    assert response.status_code == 200
    body = text(response)
    assert f'<h1 class="mb-1">{therapist.name}</h1>' in body
    assert "<p>Ten years in practice.</p>" in body and "<p>Loves hiking.</p>" in body
    assert f"Registration no. {therapist.registration_number}" in body
    assert f'href="/book/?service={service.slug}&amp;therapist={therapist.slug}"' in body
    assert inactive_service.name not in body


def test_sciatica_page_explains_treatment_red_flags_and_links_to_booking(client, clinic, service):
    response = client.get(reverse("sciatica"))

    assert response.status_code == 200
    body = text(response)
    for phrase in ("sciatic nerve", "piriformis", "disc", "Myofascial release", "Trigger point", "bladder", "saddle"):
        assert phrase in body
    # Honest about limits: the only mention of a cure is that we can't promise one.
    assert re.findall(r"\bcure[sd]?\b", body.lower()) == ["cure"]
    assert "can't promise a cure" in body
    assert f'href="/book/?service={service.slug}"' in body


def test_login_page_renders_staff_login_form(client, clinic):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    body = text(response)
    assert "Staff login" in body
    assert 'name="username"' in body and 'name="password"' in body
    assert "csrfmiddlewaretoken" in body


def test_login_with_valid_credentials_redirects(client, clinic, admin_user):
    response = client.post(reverse("login"), {"username": admin_user.username, "password": "password"})

    assert response.status_code == 302


def test_inactive_service_is_404_and_absent_from_lists(client, clinic, service, inactive_service):
    assert client.get(inactive_service.get_absolute_url()).status_code == 404
    for url in ("/", reverse("service_list"), reverse("sciatica")):
        body = text(client.get(url))
        assert service.name in body
        assert inactive_service.name not in body
        assert inactive_service.slug not in body


def test_inactive_therapist_is_404_and_absent_from_lists(client, clinic, service, therapist, inactive_therapist):
    assert client.get(inactive_therapist.get_absolute_url()).status_code == 404
    for url in ("/", reverse("therapist_list"), service.get_absolute_url()):
        body = text(client.get(url))
        assert therapist.name in body
        assert inactive_therapist.name not in body


@pytest.mark.parametrize(
    "url",
    [
        "/services/no-such-service/",
        "/therapists/no-such-therapist/",
        "/services/%E2%9C%93/",
        "/therapists/a%00b/",
        "/conditions/gout/",
        "/no/such/page/",
    ],
)
def test_unknown_address_is_a_friendly_404(client, clinic, url):
    response = client.get(url)

    assert response.status_code == 404
    body = text(response)
    assert "Page not found" in body
    assert clinic.name in body
    assert f'href="{reverse("home")}"' in body


def test_bad_request_page_uses_site_layout(rf, clinic):
    response = bad_request(rf.get("/"))

    assert response.status_code == 400
    assert clinic.name in response.content.decode()
    assert "Nothing was saved or booked" in response.content.decode()


def test_server_error_page_renders_without_context_or_database(rf):
    # No database fixture: any query while rendering would raise.
    response = server_error(rf.get("/"))

    assert response.status_code == 500
    html = response.content.decode()
    assert "something went wrong" in html.lower()
    assert 'href="/"' in html


# What each page shows once there are ten of everything, to prove the larger run rendered the new rows.
BULK_CONTENT = {
    "home": ["Bulk service 9", "Bulk Therapist9"],
    "service_list": ["Bulk service 9"],
    "service_detail": ["Bulk Therapist9"],
    "therapist_list": ["Bulk Therapist9", "Bulk service 9"],
    "therapist_detail": ["Bulk service 9"],
    "sciatica": ["Bulk service 9"],
    "login": [],
}


@pytest.mark.parametrize("page", list(MAX_QUERIES))
def test_page_query_count_does_not_grow_with_services_and_therapists(
    client, clinic, django_assert_max_num_queries, page
):
    populate(2)
    with django_assert_max_num_queries(MAX_QUERIES[page]), CaptureQueriesContext(connection) as few:
        assert client.get(page_url(page)).status_code == 200

    populate(10)
    with django_assert_max_num_queries(len(few)):
        response = client.get(page_url(page))

    assert response.status_code == 200
    for content in BULK_CONTENT[page]:
        assert content in text(response)
