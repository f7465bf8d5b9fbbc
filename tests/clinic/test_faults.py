"""A database that cannot be reached: a friendly 503 page (JSON for the API and feeds), never a traceback, and the
site serves again by itself as soon as the database is back."""

import json
import urllib.error
import urllib.request

import pytest
from django.db import InterfaceError, OperationalError, connection

from clinic import faults

pytestmark = pytest.mark.django_db


def _broken(*args, **kwargs):
    raise OperationalError("could not connect to server: Connection refused")


def assert_friendly_503(response, body: str) -> None:
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert "Traceback" not in body
    assert "will be back in a moment" in body
    assert "Mo Therapy" in body
    assert "416-555-0134" in body


def test_a_database_error_in_a_view_gives_the_503_page(client, monkeypatch, clinic):
    monkeypatch.setattr("booking.selectors.active_services", _broken)

    response = client.get("/")

    assert_friendly_503(response, response.content.decode())


def test_a_database_error_before_the_view_gives_the_503_page(monkeypatch, clinic):
    from django.test import Client

    monkeypatch.setattr("clinic.middleware.clinic_for", _broken)
    client = Client(raise_request_exception=False)

    response = client.get("/book/")

    assert_friendly_503(response, response.content.decode())


@pytest.mark.parametrize("url", ["/api/availability/?service=x&date=2026-12-08", "/frontdesk/events/"])
def test_the_api_and_the_feeds_get_json(monkeypatch, url):
    from django.test import Client

    monkeypatch.setattr("clinic.middleware.clinic_for", _broken)

    response = Client(raise_request_exception=False).get(url)

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert list(json.loads(response.content)["errors"]) == ["__all__"]


def test_a_lost_connection_interface_error_is_a_503_too(client, monkeypatch, clinic):
    def closed(*args, **kwargs):
        raise InterfaceError("connection already closed")

    monkeypatch.setattr("booking.selectors.active_services", closed)

    assert client.get("/").status_code == 503


def test_other_errors_still_get_the_500_page(monkeypatch, clinic):
    from django.test import Client

    def bug(*args, **kwargs):
        raise ZeroDivisionError

    monkeypatch.setattr("booking.selectors.active_services", bug)

    response = Client(raise_request_exception=False).get("/")

    assert response.status_code == 500
    assert "Sorry, something went wrong" in response.content.decode()


def test_the_503_page_itself_asks_nothing_of_the_database(rf, django_assert_num_queries, settings):
    settings.CLINIC_NAME, settings.CLINIC_PHONE = "Harbord Massage", "647-555-0101"
    with django_assert_num_queries(0):
        response = faults.database_unavailable(rf.get("/book/"))
    body = response.content.decode()
    assert "Harbord Massage will be back in a moment" in body
    assert "647-555-0101" in body
    assert "<style" not in body and "<script" not in body  # nothing inline, for the Content Security Policy


# --- a real outage: the running app pointed at a database that is not there, then back ---------------------------


def fetch(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - the test's own live server
            return response.status, response.read().decode(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), error.headers.get("Content-Type", "")


@pytest.fixture
def outage(transactional_db):
    """Switch the database's address to one where nothing answers (PostgreSQL: a closed port; SQLite: a folder that
    does not exist), for every thread's next connection; `outage.end()` puts it back."""
    shared = connection.settings_dict  # the dict every thread's connection is made from
    saved = dict(shared)

    class Outage:
        def start(self) -> None:
            if connection.vendor == "postgresql":
                shared["HOST"], shared["PORT"] = "127.0.0.1", "9"
            else:
                shared["NAME"] = "/nonexistent-folder/clinic.sqlite3"

        def end(self) -> None:
            shared.update(saved)

    yield Outage()
    shared.update(saved)


def test_the_running_site_answers_503_while_the_database_is_away_and_recovers_by_itself(live_server, outage, clinic):
    assert fetch(live_server.url + "/")[0] == 200

    outage.start()
    status, body, _ = fetch(live_server.url + "/book/")
    api_status, api_body, api_type = fetch(live_server.url + "/api/availability/?service=x&date=2026-12-08")
    outage.end()

    assert status == 503
    assert "will be back in a moment" in body
    assert "Traceback" not in body
    assert (api_status, api_type) == (503, "application/json")
    assert "errors" in json.loads(api_body)
    # No restart: the next requests are served as usual.
    assert fetch(live_server.url + "/")[0] == 200
    assert fetch(live_server.url + "/services/")[0] == 200


def serve(path: str) -> int:
    """One request through Django's own WSGI handler in this thread, as a production server makes it: the
    connection is checked, kept or closed at the start and end of the request (the test client skips that)."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.client import RequestFactory

    statuses = []
    response = WSGIHandler()(
        RequestFactory()._base_environ(PATH_INFO=path), lambda status, headers: statuses.append(status)
    )
    b"".join(response)
    response.close()
    return int(statuses[0].split()[0])


@pytest.fixture
def kept_connections(postgres_only, transactional_db):
    """Connections kept between requests, as DJANGO_CONN_MAX_AGE sets them in production."""
    shared = connection.settings_dict
    saved = dict(shared)
    shared["CONN_MAX_AGE"] = 60
    connection.close()
    yield shared
    shared.update(saved)
    connection.close()


def _drop_the_apps_connection() -> None:
    """What a database restart does to a kept connection: the server ends it."""
    import psycopg2

    pid = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    with psycopg2.connect(**{**params, "dbname": "postgres"}) as admin, admin.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone()[0]


def test_a_kept_connection_the_database_dropped_is_replaced_without_an_error(kept_connections, clinic):
    kept_connections["CONN_HEALTH_CHECKS"] = True
    connection.close()  # a connection reads the flag when it opens
    assert serve("/") == 200
    kept = connection.connection
    assert kept is not None  # kept after the request

    _drop_the_apps_connection()

    assert serve("/") == 200
    assert connection.connection is not kept


def test_without_health_checks_one_request_gets_the_503_and_the_next_is_served(kept_connections, clinic):
    """The control: the dropped connection is real and is noticed; Django closes it after that request."""
    kept_connections["CONN_HEALTH_CHECKS"] = False
    connection.close()  # a connection reads the flag when it opens
    assert serve("/") == 200

    _drop_the_apps_connection()

    assert serve("/") == 503
    assert serve("/") == 200


def test_kept_connections_are_checked_before_a_request_uses_them(settings):
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
