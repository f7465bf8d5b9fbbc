"""Staff login protection: lockout after failed logins, two-factor authentication, and sessions that end.

Every login here goes through the real forms (the login page, the two-factor pages), not `force_login`, which
stands for a whole login in the rest of the suite. Codes come from the authenticator's key with django-otp's own
TOTP, at a clock the test holds still.
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import login_protection, two_factor
from clinic.models import ClinicSettings
from tests.conftest import staff_user
from tests.factories import UserFactory

PASSWORD = "a-long-test-password"
HOME = "198.51.100.7"
ELSEWHERE = "203.0.113.20"
# A whole minute, so the first 30-second step of codes starts here.
START = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def log_in(client, username: str, password: str = PASSWORD, address: str = HOME, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address, **extra)


def logged_in(client) -> bool:
    return SESSION_KEY in client.session


def code_of(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, steps_ahead):06d}"


def wrong_code_for(device: TOTPDevice) -> str:
    right = {code_of(device, steps_ahead=step) for step in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in right)


# Lockout -----------------------------------------------------------------------------------------------------------


@pytest.fixture
def rosa(db):
    return staff_user("rosa", "Receptionist")


@pytest.fixture
def manager(db):
    return staff_user("morgan", "Manager")


def test_settings_lock_after_five_failures_per_account_and_per_address():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60


def test_five_wrong_passwords_lock_the_account_and_then_even_the_right_one_is_refused(client, rosa, clock):
    for _ in range(4):
        response = log_in(client, "rosa", "not-the-password")
        assert response.status_code == 200
        assert "correct username and password" in response.content.decode()

    fifth = log_in(client, "rosa", "not-the-password")
    right = log_in(client, "rosa")

    for response in (fifth, right):
        assert response.status_code == 429
        page = response.content.decode()
        assert "Too many wrong passwords" in page
        assert "Try again in <strong>15 minutes</strong>" in page
        assert "ask a clinic manager to unlock your login" in page
        assert response["Retry-After"] == str(15 * 60)
    assert not logged_in(client)


def test_a_locked_account_is_locked_from_every_address(client, rosa, clock):
    for _ in range(5):
        log_in(client, "rosa", "guess", address=ELSEWHERE)

    assert log_in(client, "rosa", address=HOME).status_code == 429
    assert not logged_in(client)


def test_five_failures_from_one_address_lock_every_account_from_there(client, rosa, clock):
    for name in ["ana", "bo", "cy", "dee", "ed"]:
        log_in(client, name, "guess", address=ELSEWHERE)

    assert log_in(client, "rosa", address=ELSEWHERE).status_code == 429
    assert not logged_in(client)
    # Rosa's own account is not locked: from her desk she gets in.
    assert log_in(client, "rosa", address=HOME).status_code == 302
    assert logged_in(client)


def test_the_admin_login_is_locked_out_too(client, manager, clock):
    for _ in range(5):
        client.post("/admin/login/", {"username": "morgan", "password": "guess"}, REMOTE_ADDR=HOME)

    response = client.post("/admin/login/", {"username": "morgan", "password": PASSWORD}, REMOTE_ADDR=HOME)

    assert response.status_code == 429
    assert not logged_in(client)


def test_the_lock_lifts_after_the_cool_off(client, rosa, clock):
    for _ in range(5):
        log_in(client, "rosa", "guess")

    clock.shift(timedelta(minutes=14))
    assert log_in(client, "rosa").status_code == 429
    clock.shift(timedelta(minutes=1, seconds=1))
    assert log_in(client, "rosa").status_code == 302
    assert logged_in(client)


def test_tries_while_locked_out_do_not_restart_the_wait(client, rosa, clock):
    for _ in range(5):
        log_in(client, "rosa", "guess")
    clock.shift(timedelta(minutes=10))
    log_in(client, "rosa", "another guess")

    clock.shift(timedelta(minutes=5, seconds=1))
    assert log_in(client, "rosa").status_code == 302


def test_a_manager_unlocks_an_account(client, rosa, clock):
    for _ in range(5):
        log_in(client, "rosa", "guess", address=ELSEWHERE)

    assert login_protection.account_unlock(username="rosa") == 1

    assert log_in(client, "rosa", address=ELSEWHERE).status_code == 302


def test_the_staff_pages_unlock_call_works_as_axes_documents_it(client, rosa, clock):
    for _ in range(5):
        log_in(client, "rosa", "guess")

    reset(username="rosa")

    assert log_in(client, "rosa").status_code == 302


def test_a_manager_unlocks_an_account_in_the_admin(client, rosa, manager, clock):
    for _ in range(5):
        log_in(client, "rosa", "guess")
    attempt = AccessAttempt.objects.get(username="rosa")
    desk = client.__class__()
    desk.force_login(manager)

    listing = desk.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert "rosa" in listing.content.decode()
    deleted = desk.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})

    assert deleted.status_code == 302
    assert log_in(client, "rosa").status_code == 302


def test_a_receptionist_cannot_unlock_in_the_admin(client, rosa, clock):
    client.force_login(staff_user("rita", "Receptionist"))

    assert client.get("/admin/axes/accessattempt/").status_code == 403


def test_the_right_password_forgets_the_accounts_own_failures_only(client, rosa, clock):
    staff_user("sam", "Receptionist")
    for _ in range(4):
        log_in(client, "rosa", "typo")
    log_in(client, "rosa")
    client.logout()
    for _ in range(4):
        log_in(client, "rosa", "typo")
    assert log_in(client, "rosa").status_code == 302
    client.logout()

    # Four guesses at Sam, then a colleague's good login from the same place: Sam's count stands.
    for _ in range(4):
        log_in(client, "sam", "guess")
    log_in(client, "rosa")
    client.logout()
    assert log_in(client, "sam", "guess").status_code == 429


def test_behind_a_proxy_the_address_comes_from_its_header(client, rosa, clock, settings):
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    proxy = "10.0.0.2"
    for name in ["ana", "bo", "cy", "dee", "ed"]:
        # A visitor's own X-Forwarded-For entries come first; the proxy adds the address it saw last.
        log_in(client, name, "guess", address=proxy, HTTP_X_FORWARDED_FOR=f"1.2.3.4, {ELSEWHERE}")

    assert log_in(client, "rosa", address=proxy, HTTP_X_FORWARDED_FOR=ELSEWHERE).status_code == 429
    assert log_in(client, "rosa", address=proxy, HTTP_X_FORWARDED_FOR=HOME).status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ELSEWHERE}


def test_a_malformed_address_header_is_not_an_error(client, rosa, clock, settings):
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"

    response = log_in(client, "rosa", "guess", HTTP_X_FORWARDED_FOR="not an address\x00")

    assert response.status_code == 200
    assert AccessAttempt.objects.get().ip_address == HOME


# Two-factor authentication -----------------------------------------------------------------------------------------

STAFF_PAGES = [
    "/accounts/home/",
    "/frontdesk/",
    "/frontdesk/events/?start=2026-12-07&end=2026-12-08",
    "/frontdesk/patients/",
    "/frontdesk/staff/",
    "/schedule/",
    "/admin/",
    "/admin/clinic/clinicsettings/",
    "/admin/axes/accessattempt/",
    "/accounts/two-factor/",
    "/",
]


def test_a_manager_without_an_authenticator_is_sent_to_set_one_up_and_reaches_nothing_else(client, manager, clock):
    response = log_in(client, "morgan")
    assert response.status_code == 302
    assert logged_in(client)

    for path in STAFF_PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/two-factor/setup/?next="), path
    posted = client.post("/frontdesk/book/", {"anything": "1"})
    assert (posted.status_code, posted["Location"]) == (302, "/accounts/two-factor/setup/")
    fragment = client.get(
        "/frontdesk/patients/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/frontdesk/"
    )
    assert fragment["HX-Redirect"] == "/accounts/two-factor/setup/?next=/frontdesk/"


def test_a_superuser_needs_an_authenticator_too(client, db, clock):
    UserFactory(username="root", is_superuser=True, password=PASSWORD)
    log_in(client, "root")

    assert client.get("/admin/")["Location"] == "/accounts/two-factor/setup/?next=/admin/"


def test_the_setup_page_shows_a_qr_code_and_the_key_and_keeps_them_until_confirmed(client, manager, clock):
    log_in(client, "morgan")

    first = client.get("/accounts/two-factor/setup/?next=/frontdesk/")
    again = client.get("/accounts/two-factor/setup/")

    device = TOTPDevice.objects.get(user=manager)
    assert not device.confirmed
    page = first.content.decode()
    assert first.status_code == 200
    assert first["Cache-Control"] == "no-store"
    assert "<svg" in page and 'aria-label="QR code to scan with your authenticator app"' in page
    assert two_factor.secret_of(device) in page
    assert "otpauth://totp/" in page
    assert "<script" not in page.split("</head>", 1)[1]  # nothing inline (the Content Security Policy)
    assert two_factor.secret_of(device) in again.content.decode()
    assert TOTPDevice.objects.filter(user=manager).count() == 1


def test_a_wrong_code_is_refused_with_a_message_and_the_right_one_lets_the_manager_in(client, manager, clock):
    log_in(client, "morgan")
    client.get("/accounts/two-factor/setup/")
    device = TOTPDevice.objects.get(user=manager)

    wrong = client.post("/accounts/two-factor/setup/", {"code": wrong_code_for(device), "next": "/frontdesk/"})
    assert wrong.status_code == 200
    assert "That code is not the right one" in wrong.content.decode()
    assert client.get("/frontdesk/").status_code == 302

    clock.shift(timedelta(seconds=5))  # a wrong code makes the next try wait a second
    right = client.post("/accounts/two-factor/setup/", {"code": code_of(device), "next": "/frontdesk/"})

    assert (right.status_code, right["Location"]) == (302, "/frontdesk/")
    device.refresh_from_db()
    assert device.confirmed
    for path in ["/frontdesk/", "/admin/", "/frontdesk/patients/", "/accounts/two-factor/"]:
        assert client.get(path).status_code == 200, path


def test_a_code_that_is_not_six_digits_is_refused_with_a_message(client, manager, clock):
    log_in(client, "morgan")
    client.get("/accounts/two-factor/setup/")

    for code in ["12345", "abcdef", "１２３４５６", "1234567", ""]:
        response = client.post("/accounts/two-factor/setup/", {"code": code})
        assert response.status_code == 200
        body = response.content.decode()
        assert "Enter the 6 digits" in body or "This field is required" in body
    assert not TOTPDevice.objects.get(user=manager).confirmed


def confirmed_authenticator(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name=two_factor.DEVICE_NAME, confirmed=True)


def test_with_an_authenticator_the_password_is_followed_by_its_code(client, manager, clock):
    device = confirmed_authenticator(manager)
    log_in(client, "morgan")

    asked = client.get("/accounts/home/")
    assert asked["Location"] == "/accounts/two-factor/verify/?next=/accounts/home/"
    page = client.get(asked["Location"])
    assert "Enter your code" in page.content.decode()
    wrong = client.post("/accounts/two-factor/verify/", {"code": wrong_code_for(device), "next": "/accounts/home/"})
    assert wrong.status_code == 200
    assert "That code is not the right one" in wrong.content.decode()
    assert client.get("/frontdesk/").status_code == 302

    clock.shift(timedelta(seconds=5))
    right = client.post("/accounts/two-factor/verify/", {"code": code_of(device), "next": "/accounts/home/"})

    assert right["Location"] == "/accounts/home/"
    assert client.get("/accounts/home/")["Location"] == "/frontdesk/"
    assert client.get("/frontdesk/").status_code == 200


def test_each_code_works_once(client, manager, clock):
    device = confirmed_authenticator(manager)
    log_in(client, "morgan")
    client.post("/accounts/two-factor/verify/", {"code": code_of(device)})
    client.post(reverse("logout"))

    log_in(client, "morgan")
    replay = client.post("/accounts/two-factor/verify/", {"code": code_of(device)})

    assert replay.status_code == 200
    assert client.get("/frontdesk/").status_code == 302


def test_many_wrong_codes_make_the_next_try_wait(client, manager, clock):
    device = confirmed_authenticator(manager)
    log_in(client, "morgan")
    client.post("/accounts/two-factor/verify/", {"code": wrong_code_for(device)})
    clock.shift(timedelta(seconds=2))
    client.post("/accounts/two-factor/verify/", {"code": wrong_code_for(device)})

    # Even the right code is not checked before the wait (2 seconds after the second wrong one) is over.
    waiting = client.post("/accounts/two-factor/verify/", {"code": code_of(device)})

    assert waiting.status_code == 429
    assert "Too many wrong codes in a row. Wait 2 seconds" in waiting.content.decode()
    clock.shift(timedelta(seconds=3))
    assert client.post("/accounts/two-factor/verify/", {"code": code_of(device)}).status_code == 302


def test_a_receptionist_without_an_authenticator_gets_in_with_the_password(client, rosa, clock):
    response = log_in(client, "rosa")

    assert client.get(response["Location"])["Location"] == "/frontdesk/"
    assert client.get("/frontdesk/").status_code == 200


def test_a_receptionist_who_turned_it_on_is_asked_for_the_code(client, rosa, clock):
    confirmed_authenticator(rosa)
    log_in(client, "rosa")

    assert client.get("/frontdesk/")["Location"] == "/accounts/two-factor/verify/?next=/frontdesk/"


def test_a_receptionist_sets_it_up_and_turns_it_off_but_a_manager_cannot_turn_it_off(client, rosa, manager, clock):
    log_in(client, "rosa")
    assert "Set up an authenticator app" in client.get("/accounts/two-factor/").content.decode()
    client.get("/accounts/two-factor/setup/")
    client.post("/accounts/two-factor/setup/", {"code": code_of(TOTPDevice.objects.get(user=rosa))})
    assert two_factor.confirmed_device(rosa) is not None

    client.post("/accounts/two-factor/turn-off/")
    assert not TOTPDevice.objects.filter(user=rosa).exists()

    client.post(reverse("logout"))
    device = confirmed_authenticator(manager)
    log_in(client, "morgan")
    client.post("/accounts/two-factor/verify/", {"code": code_of(device)})
    refused = client.post("/accounts/two-factor/turn-off/", follow=True)
    assert "cannot" in refused.content.decode() or "not turn it off" in refused.content.decode()
    assert TOTPDevice.objects.filter(user=manager).exists()


def test_the_password_alone_cannot_replace_an_authenticator(client, manager, clock):
    confirmed_authenticator(manager)
    log_in(client, "morgan")

    response = client.get("/accounts/two-factor/setup/")

    assert response["Location"] == "/accounts/two-factor/verify/"
    assert TOTPDevice.objects.filter(user=manager).count() == 1


def test_moving_to_a_new_phone_replaces_the_old_authenticator(client, manager, clock):
    old = confirmed_authenticator(manager)
    log_in(client, "morgan")
    client.post("/accounts/two-factor/verify/", {"code": code_of(old)})

    client.get("/accounts/two-factor/setup/")
    new = TOTPDevice.objects.get(user=manager, confirmed=False)
    clock.shift(timedelta(seconds=30))
    client.post("/accounts/two-factor/setup/", {"code": code_of(new)})

    assert list(TOTPDevice.objects.filter(user=manager)) == [new]
    assert client.get("/frontdesk/").status_code == 200


def test_a_manager_removes_a_colleagues_authenticator(client, rosa, manager, clock):
    rosas = confirmed_authenticator(rosa)
    client.force_login(manager)
    listed = client.get("/accounts/two-factor/").content.decode()
    assert "Remove authenticator" in listed and "rosa" in listed

    response = client.post(f"/accounts/two-factor/staff/{rosa.pk}/remove/", {"next": "/frontdesk/staff/"})

    assert response["Location"] == "/frontdesk/staff/"
    assert not TOTPDevice.objects.filter(pk=rosas.pk).exists()
    client.post(reverse("logout"))
    log_in(client, "rosa")
    assert client.get("/frontdesk/").status_code == 200


def test_a_manager_whose_authenticator_was_removed_must_set_up_a_new_one_at_once(client, manager, clock):
    client.force_login(manager)
    assert client.get("/frontdesk/").status_code == 200

    two_factor.device_remove(account=manager)

    assert client.get("/frontdesk/")["Location"] == "/accounts/two-factor/setup/?next=/frontdesk/"


def test_only_managers_remove_authenticators_and_never_a_superusers(client, rosa, manager, clock):
    root = UserFactory(username="root", is_superuser=True)
    roots = confirmed_authenticator(root)
    confirmed_authenticator(manager)
    client.force_login(rosa)
    assert client.post(f"/accounts/two-factor/staff/{manager.pk}/remove/").status_code == 403

    client.force_login(manager)
    assert client.post(f"/accounts/two-factor/staff/{root.pk}/remove/").status_code == 403
    assert "root" not in client.get("/accounts/two-factor/").content.decode()
    assert TOTPDevice.objects.filter(pk=roots.pk).exists()
    assert client.get(f"/accounts/two-factor/staff/{rosa.pk}/remove/").status_code == 405

    client.force_login(root)
    assert client.post(f"/accounts/two-factor/staff/{manager.pk}/remove/").status_code == 302
    assert not TOTPDevice.objects.filter(user=manager).exists()


def test_the_admin_shows_no_authenticator_secrets():
    assert settings.OTP_ADMIN_HIDE_SENSITIVE_DATA is True


# Sessions ----------------------------------------------------------------------------------------------------------


def test_staff_sessions_end_when_the_browser_closes(client, rosa, clock):
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True

    response = log_in(client, "rosa")

    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert (cookie["expires"], cookie["max-age"]) == ("", "")


def test_thirty_idle_minutes_log_a_receptionist_out_with_a_message_and_the_way_back(client, rosa, clock):
    log_in(client, "rosa")
    clock.shift(timedelta(minutes=29))
    assert client.get("/frontdesk/").status_code == 200

    clock.shift(timedelta(minutes=29, seconds=59))
    assert client.get("/frontdesk/patients/").status_code == 200
    clock.shift(timedelta(minutes=31))
    response = client.get("/frontdesk/?date=2026-12-08")

    assert response["Location"] == "/accounts/login/?next=/frontdesk/%3Fdate%3D2026-12-08"
    assert not logged_in(client)
    page = client.get(response["Location"]).content.decode()
    assert "You were logged out after 30 minutes without using the site" in page


def test_the_clinics_policy_sets_the_idle_time(client, rosa, clock):
    clinic = ClinicSettings.load()
    clinic.staff_session_minutes = 10
    clinic.save()
    log_in(client, "rosa")

    clock.shift(timedelta(minutes=9))
    assert client.get("/frontdesk/").status_code == 200
    clock.shift(timedelta(minutes=11))
    response = client.get("/frontdesk/")

    assert response["Location"] == "/accounts/login/?next=/frontdesk/"
    assert "after 10 minutes" in client.get(response["Location"]).content.decode()


def test_an_htmx_request_after_the_idle_time_sends_the_whole_page_to_log_in(client, rosa, clock):
    log_in(client, "rosa")
    clock.shift(timedelta(minutes=31))

    response = client.get(
        "/frontdesk/patients/search/?q=ana",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/frontdesk/patients/",
    )

    assert response["HX-Redirect"] == "/accounts/login/?next=/frontdesk/patients/"


def test_a_form_sent_after_the_idle_time_does_nothing_and_asks_to_log_in(client, rosa, clock):
    log_in(client, "rosa")
    clock.shift(timedelta(minutes=31))

    response = client.post("/frontdesk/book/", {"patient": "1"})

    assert response["Location"] == "/accounts/login/"
    assert not logged_in(client)


def test_an_idle_manager_logs_in_again_with_both_steps(client, manager, clock):
    device = confirmed_authenticator(manager)
    log_in(client, "morgan")
    client.post("/accounts/two-factor/verify/", {"code": code_of(device)})
    clock.shift(timedelta(minutes=31))

    assert client.get("/admin/")["Location"] == "/accounts/login/?next=/admin/"
    log_in(client, "morgan")
    assert client.get("/admin/")["Location"] == "/accounts/two-factor/verify/?next=/admin/"


def test_patients_have_no_staff_session_and_book_as_before(client, db, clock):
    response = client.get("/book/")

    assert response.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in response.cookies


# The demo clinic ---------------------------------------------------------------------------------------------------


def test_the_demo_manager_gets_the_published_key_only_on_a_development_machine(db, capsys, settings):
    staff_user("manager", "Manager")

    assert "first login" in two_factor.demo_authenticator_for(["manager"], debug=False)[0]
    assert not TOTPDevice.objects.exists()
    [line] = two_factor.demo_authenticator_for(["manager"], debug=True)
    assert two_factor.DEMO_SECRET in line and "make demo-code" in line
    device = two_factor.demo_device()
    assert device is not None and device.user.username == "manager"

    settings.DEBUG = True
    with time_machine.travel(START, tick=False):
        call_command("demo_code")
        assert capsys.readouterr().out.startswith(code_of(device))
        TOTPDevice.objects.all().delete()
        with pytest.raises(CommandError, match="start the demo clinic with `make run` first"):
            call_command("demo_code")
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG=true"):
        call_command("demo_code")


def test_a_demo_manager_who_set_up_their_own_authenticator_keeps_it(db):
    manager = staff_user("manager", "Manager")
    own = confirmed_authenticator(manager)

    [line] = two_factor.demo_authenticator_for(["manager"], debug=True)

    assert "set up since" in line
    assert list(TOTPDevice.objects.all()) == [own]
