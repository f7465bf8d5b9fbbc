"""Staff accounts in Chromium: a manager adds a receptionist and emails her a link to set a password; the email goes
through the outbox; she opens the link, chooses a password and logs in to the front desk.
"""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.conftest import staff_user
from tests.e2e.conftest import DESKTOP, PHONE, pass_second_step

pytestmark = pytest.mark.e2e

LINK = re.compile(r"https?://[^\s/]+(/accounts/reset/\S+/)")
NEW_PASSWORD = "quiet-cedar-harbour-31"


def test_a_manager_adds_a_receptionist_who_sets_her_password_from_the_emailed_link_and_logs_in(
    open_page, screenshot, clinic_data, deliver_outbox
):
    manager = staff_user("morgan", "Manager")
    manager.first_name, manager.last_name = "Morgan", "Reid"
    manager.save()
    page = open_page(**DESKTOP)
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("morgan")
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    pass_second_step(page, "morgan")

    page.get_by_role("link", name="Staff", exact=True).click()
    expect(page.get_by_role("heading", name="Staff accounts")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Morgan Reid"))).to_contain_text("Manager")
    screenshot(page, "01-staff-list")

    page.get_by_role("link", name="Add a staff account").click()
    page.get_by_label("Username").fill("nadia")
    page.get_by_label("First name").fill("Nadia")
    page.get_by_label("Last name").fill("Haddad")
    page.get_by_label("Email address").fill("nadia@example.com")
    page.get_by_label(re.compile(r"^\s*Receptionist:")).check()
    page.get_by_label("Email them a link to set their password").uncheck()
    expect(page.get_by_label(re.compile("superuser|staff status|permission", re.I))).to_have_count(0)
    expect(page.locator("input[type=password]")).to_have_count(0)
    screenshot(page, "02-new-account-form")
    page.get_by_role("button", name="Add the account").click()

    expect(page.get_by_role("alert")).to_contain_text(
        "Account nadia added. It has no password until you send them a link."
    )
    expect(page.get_by_role("heading", name="Nadia Haddad")).to_be_visible()
    page.get_by_role("button", name="Email a link to set a password").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "A link to set a new password is on its way to nadia@example.com."
    )
    screenshot(page, "03-link-sent")

    [mail] = deliver_outbox()
    assert mail.to == ["nadia@example.com"]
    assert "Morgan Reid made a staff login for you" in mail.body
    path = LINK.search(mail.body).group(1)
    email_page = open_page(**PHONE)
    email_page.set_content(mail.alternatives[0][0])
    screenshot(email_page, "04-the-email-on-a-phone")

    nadia = open_page(**DESKTOP)
    nadia.goto(path)
    expect(nadia.get_by_role("heading", name="Choose a password")).to_be_visible()
    expect(nadia.get_by_text("nadia", exact=True)).to_be_visible()
    expect(nadia.get_by_label(re.compile("New password confirmation"))).to_be_visible()  # labelled fields
    nadia.locator("#id_new_password1").fill("12345678")
    nadia.locator("#id_new_password2").fill("12345678")
    nadia.get_by_role("button", name="Save my password").click()
    expect(nadia.locator(".invalid-feedback, .errorlist").first).to_be_visible()
    screenshot(nadia, "05-password-too-weak")
    nadia.locator("#id_new_password1").fill(NEW_PASSWORD)
    nadia.locator("#id_new_password2").fill(NEW_PASSWORD)
    nadia.get_by_role("button", name="Save my password").click()
    expect(nadia.get_by_role("heading", name="Your password is saved")).to_be_visible()
    screenshot(nadia, "06-password-saved")

    nadia.get_by_role("link", name="Go to the staff login").click()
    nadia.get_by_label("Username").fill("nadia")
    nadia.get_by_label("Password").fill(NEW_PASSWORD)
    nadia.get_by_role("button", name="Log in").click()
    pass_second_step(nadia, "nadia")
    expect(nadia).to_have_url(re.compile(r"/frontdesk/"))
    expect(nadia.get_by_role("link", name="Staff", exact=True)).to_have_count(0)
    screenshot(nadia, "07-receptionist-at-the-front-desk")

    account = get_user_model().objects.get(username="nadia")
    assert account.groups.get().name == "Receptionist" and not account.is_superuser
    nadia.goto(path)
    expect(nadia.get_by_role("heading", name="This link no longer works")).to_be_visible()

    page.get_by_role("link", name="Staff", exact=True).click()
    expect(page.get_by_role("row", name=re.compile("Nadia Haddad"))).to_contain_text("Receptionist")
    screenshot(page, "08-staff-list-with-nadia")

    # Her page keeps what was done to the account, and by whom.
    page.get_by_role("link", name="Nadia Haddad").click()
    history = page.get_by_role("list", name="History")
    expect(history.get_by_role("listitem")).to_have_count(2)
    expect(history).to_contain_text("Added as Receptionist.")
    expect(history).to_contain_text("Sent a link to set a password to nadia@example.com.")
    expect(history).to_contain_text("Morgan Reid")
    screenshot(page, "09-account-history")
