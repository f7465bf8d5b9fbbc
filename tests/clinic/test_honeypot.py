"""The honeypot box on the public booking and waitlist forms: people never see it, robots fill it."""

import re
from pathlib import Path

import pytest
import time_machine

from booking.models import Appointment, Patient, WaitlistEntry
from tests.conftest import NOW

pytestmark = pytest.mark.django_db

CSS = Path(__file__).resolve().parents[2] / "clinic" / "static" / "clinic" / "site.css"
BOOKING = {
    "service": "myofascial-release",
    "duration": "60",
    "therapist": "alex-moreau",
    "start": "2026-12-08T10:00-05:00",
    "name": "Jordan Lee",
    "email": "jordan@example.com",
    "phone": "416-555-0199",
    "request_key": "honey-key",
    "intent": "confirm",
}


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def join(option):
    return {
        "option": str(option.pk),
        "name": "Jordan Lee",
        "email": "jordan@example.com",
        "phone": "416-555-0199",
        "request_key": "honey-join",
    }


def _honeypot(html: str) -> str:
    found = re.search(r'<div class="hp-field" aria-hidden="true">.*?</div>', html, re.S)
    assert found, "the honeypot box is missing"
    return found.group(0)


def test_the_booking_details_form_has_the_box_hidden_from_people(client, therapist, service):
    page = client.get("/book/", {key: BOOKING[key] for key in ("service", "duration", "therapist", "start")})

    box = _honeypot(page.content.decode())
    assert 'name="website"' in box
    assert 'tabindex="-1"' in box
    assert 'autocomplete="off"' in box
    assert "style=" not in box  # hidden by the stylesheet, so the Content Security Policy needs no inline styles


def test_the_waitlist_form_has_the_box(client, therapist, service):
    box = _honeypot(client.get("/waitlist/join/").content.decode())
    assert 'name="website"' in box


def test_the_stylesheet_moves_the_box_off_screen_without_display_none():
    rule = re.search(r"\.hp-field \{(.*?)\}", CSS.read_text(), re.S)
    assert rule
    assert "left: -10000px" in rule.group(1)
    assert "display: none" not in rule.group(1)


def test_a_filled_box_on_booking_gets_a_neutral_400_and_books_nothing(client, therapist, service, mailoutbox):
    response = client.post("/book/", {**BOOKING, "website": "http://spam.example"})

    assert response.status_code == 400
    text = response.content.decode().lower()
    assert "we couldn't understand that request" in text
    assert "website" not in text
    assert "robot" not in text and "spam" not in text
    assert Appointment.objects.count() == Patient.objects.count() == 0
    assert mailoutbox == []


def test_a_filled_box_on_the_waitlist_gets_a_400_and_joins_nothing(client, therapist, service, join):
    response = client.post("/waitlist/join/", {**join, "website": "cheap pills"})

    assert response.status_code == 400
    assert WaitlistEntry.objects.count() == Patient.objects.count() == 0


def test_an_empty_box_books_and_joins_as_usual(client, therapist, service, join):
    assert client.post("/book/", {**BOOKING, "website": ""}).status_code == 302
    assert client.post("/waitlist/join/", {**join, "website": "  "}).status_code == 302


def test_the_review_step_carries_the_empty_box_on(client, therapist, service):
    page = client.post("/book/", {**BOOKING, "intent": "review"})

    assert '<input type="hidden" name="website" value="">' in page.content.decode()
