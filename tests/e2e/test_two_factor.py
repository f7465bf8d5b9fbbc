"""Staff login protection in Chromium: a manager sets up an authenticator app at the first login and then enters
its code at the next; a receptionist who keeps typing the wrong password is locked out with a clear page; an idle
session ends with a message.

Codes are computed the way an authenticator app does, with django-otp's own TOTP from the key the setup page shows.
"""

import base64
import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from tests.conftest import staff_user
from tests.e2e.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.e2e

PASSWORD = "a-long-test-password"
CODE_FIELD = "Code from your authenticator app"


def type_password(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def next_code(device: TOTPDevice) -> str:
    """The app's code now, or the next one when this one was used already (each code works once)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.drift += max(0, device.last_t + 1 - totp.t())
    return f"{totp.token():06d}"


def test_a_manager_sets_up_an_authenticator_then_logs_in_with_its_code(open_page, screenshot):
    staff_user("morgan", "Manager")
    rosa = staff_user("rosa", "Receptionist")
    TOTPDevice.objects.create(user=rosa, name="Authenticator app", confirmed=True)
    page = open_page(**DESKTOP)

    type_password(page, "morgan")
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/setup/"))
    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    expect(page.get_by_role("img", name="QR code to scan with your authenticator app")).to_be_visible()
    screenshot(page, "01-setup")

    # The staff pages wait until the code is confirmed.
    page.goto("/frontdesk/")
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/setup/\?next=/frontdesk/"))

    page.get_by_text("Can't scan it? Type the key instead").click()
    secret = page.locator("#two-factor-secret")
    expect(secret).to_be_visible()
    screenshot(page, "02-setup-key")
    key = base64.b32decode("".join(secret.inner_text().split()))
    page.get_by_label(CODE_FIELD).fill("000000" if f"{TOTP(key).token():06d}" != "000000" else "111111")
    page.get_by_role("button", name="Confirm and turn on").click()
    expect(page.get_by_text("That code is not the right one")).to_be_visible()
    screenshot(page, "03-wrong-code")

    page.wait_for_timeout(1500)  # after a wrong code django-otp checks no code for a second
    page.get_by_label(CODE_FIELD).fill(f"{TOTP(key).token():06d}")
    page.get_by_role("button", name="Confirm and turn on").click()
    expect(page).to_have_url(re.compile(r"/frontdesk/(\?|$)"))
    expect(page.get_by_text("Two-factor authentication is on")).to_be_visible()
    screenshot(page, "04-front-desk")

    page.get_by_role("link", name="Two-factor").click()
    expect(page.get_by_role("heading", name="Two-factor authentication")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("rosa"))).to_contain_text("On")
    screenshot(page, "05-overview")

    page.get_by_role("button", name=re.compile("^Log out")).click()
    type_password(page, "morgan")
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/verify/"))
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    screenshot(page, "06-code")
    page.get_by_label(CODE_FIELD).fill(next_code(TOTPDevice.objects.get(user__username="morgan")))
    page.get_by_role("button", name="Check the code").click()
    expect(page).to_have_url(re.compile(r"/frontdesk/(\?|$)"))


def test_the_two_factor_pages_fit_a_phone(open_page, screenshot):
    staff_user("morgan", "Manager")
    page = open_page(**PHONE)

    type_password(page, "morgan")
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/setup/"))
    page.get_by_text("Can't scan it? Type the key instead").click()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    screenshot(page, "01-setup")
    key = base64.b32decode("".join(page.locator("#two-factor-secret").inner_text().split()))
    page.get_by_label(CODE_FIELD).fill(f"{TOTP(key).token():06d}")
    page.get_by_role("button", name="Confirm and turn on").click()
    expect(page).to_have_url(re.compile(r"/frontdesk/"))

    page.goto("/accounts/two-factor/")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    screenshot(page, "02-overview")


def test_a_receptionist_is_locked_out_after_five_wrong_passwords(open_page, screenshot):
    staff_user("rosa", "Receptionist")
    page = open_page(**DESKTOP)
    open_page.expect_refusal(429, r"/accounts/login/$")

    for _ in range(4):
        type_password(page, "rosa", "not-my-password")
        expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()
    screenshot(page, "01-wrong-password")
    type_password(page, "rosa", "not-my-password")

    expect(page.get_by_role("heading", name="Too many wrong passwords")).to_be_visible()
    expect(page.get_by_text("ask a clinic manager to unlock your login")).to_be_visible()
    screenshot(page, "02-locked-out")
    type_password(page, "rosa")
    expect(page.get_by_role("heading", name="Too many wrong passwords")).to_be_visible()
    page.goto("/frontdesk/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/frontdesk/"))


def test_an_idle_receptionist_is_logged_out_with_a_message(open_page, screenshot):
    staff_user("rosa", "Receptionist")
    page = open_page(**DESKTOP)
    type_password(page, "rosa")
    expect(page).to_have_url(re.compile(r"/frontdesk/"))

    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        page.goto("/frontdesk/patients/")
        expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/frontdesk/patients/"))
        expect(page.get_by_text("You were logged out after 30 minutes without using the site")).to_be_visible()
        screenshot(page, "01-logged-out")
