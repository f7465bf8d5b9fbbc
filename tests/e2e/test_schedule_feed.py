"""The calendar subscription page in Chromium on a phone: a therapist finds their private link and replaces it."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import staff_user
from tests.e2e.conftest import PHONE

pytestmark = pytest.mark.e2e


def log_in(page: Page, username: str, next_path: str) -> None:
    page.goto(f"/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()


def test_a_therapist_sees_their_calendar_link_and_replaces_it_after_confirming(
    open_page, screenshot, clinic_data, live_server
):
    alex = clinic_data["therapists"][0]
    alex.user = staff_user("alex", "Therapist")
    alex.save()
    old_url = f"{live_server.url}/schedule/feed/{alex.feed_token}.ics"
    page = open_page(**PHONE)
    log_in(page, "alex", "/schedule/calendar-feed/")
    expect(page).to_have_url(re.compile(r"/schedule/calendar-feed/$"))

    expect(page.get_by_role("heading", level=1)).to_have_text("Your schedule in your phone's calendar")
    link = page.get_by_role("textbox", name="Calendar link")
    expect(link).to_have_value(old_url)
    expect(page.get_by_role("button", name="Copy the link")).to_be_visible()
    webcal = old_url.replace("http://", "webcal://", 1)
    expect(page.get_by_role("link", name="Open in my calendar app")).to_have_attribute("href", webcal)
    screenshot(page, "01-link")
    feed = page.request.get(old_url)
    assert feed.status == 200 and feed.headers["content-type"].startswith("text/calendar")

    page.get_by_text("Replace the link…").click()
    replace = page.get_by_role("button", name="Replace the link now")
    expect(replace).to_be_visible()
    # Without the box ticked the browser keeps the form, and nothing changes.
    replace.click()
    expect(page).to_have_url(re.compile(r"/schedule/calendar-feed/$"))
    alex.refresh_from_db()
    assert old_url.endswith(f"/{alex.feed_token}.ics")
    page.get_by_label(re.compile("the current link stops working")).check()
    screenshot(page, "02-confirm")
    replace.click()

    expect(page.get_by_role("alert")).to_contain_text("The calendar link was replaced")
    alex.refresh_from_db()
    new_url = f"{live_server.url}/schedule/feed/{alex.feed_token}.ics"
    assert new_url != old_url
    expect(link).to_have_value(new_url)
    screenshot(page, "03-replaced")
    assert page.request.get(old_url).status == 404
    assert page.request.get(new_url).status == 200
