"""Patients choose their reminders: text reminders asked for when booking, stopped from the link in every
reminder email or by replying STOP to a text (Twilio's webhook, signed), and turned back on."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from twilio.request_validator import RequestValidator

from booking.models import Patient
from notifications import reminders
from tests.conftest import NOW
from tests.factories import AppointmentFactory, PatientFactory

START = "2026-12-08T10:00-05:00"
INBOUND = "/reminders/sms/inbound/"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


# --- "Text me a reminder" on the booking form ------------------------------------------------------------------


def details(**overrides) -> dict:
    data = {
        "service": "myofascial-release",
        "duration": "60",
        "therapist": "alex-moreau",
        "start": START,
        "name": "Jordan Lee",
        "email": "jordan@example.com",
        "phone": "416-555-0199",
        "request_key": "key-123",
        "intent": "confirm",
    }
    data.update(overrides)
    return data


def test_the_details_step_offers_text_reminders_unticked_beside_the_phone(client, therapist, service):
    params = {"service": "myofascial-release", "duration": "60", "therapist": "alex-moreau", "start": START}
    response = client.get("/book/", params)

    form = response.context["form"]
    fields = list(form.fields)
    assert fields.index("text_reminders") == fields.index("phone") + 1
    html = response.content.decode()
    assert 'name="text_reminders"' in html
    assert "Text me a reminder" in html
    checkbox = html[html.index('name="text_reminders"') - 200 : html.index('name="text_reminders"') + 200]
    assert "checked" not in checkbox


def test_ticking_text_reminders_saves_it_on_the_new_patient(client, therapist, service):
    assert client.post("/book/", details(text_reminders="on")).status_code == 302

    patient = Patient.objects.get()
    assert patient.text_reminders is True
    assert patient.phone.as_e164 == "+14165550199"


def test_leaving_it_unticked_asks_for_email_reminders_only(client, therapist, service):
    client.post("/book/", details())

    assert Patient.objects.get().text_reminders is False


def test_the_choice_survives_the_review_step(client, therapist, service):
    review = client.post("/book/", details(intent="review", text_reminders="on"))
    assert review.context["step"] == "review"
    assert b'Text reminder</dt><dd class="col-sm-8">Yes' in review.content
    hidden = {field.html_name: field.value() for field in review.context["form"]}
    assert hidden["text_reminders"] is True

    client.post("/book/", details(text_reminders="True"))
    assert Patient.objects.get().text_reminders is True


def test_a_returning_patient_ticking_it_turns_texts_on_and_unticked_changes_nothing(client, therapist, service):
    returning = PatientFactory(name="Jordan Lee", email="jordan@example.com", reminders_stopped_at=NOW)

    client.post("/book/", details(request_key="first"))
    returning.refresh_from_db()
    assert (returning.text_reminders, returning.reminders_stopped_at) == (False, NOW)

    client.post("/book/", details(request_key="second", start="2026-12-08T14:00-05:00", text_reminders="on"))
    returning.refresh_from_db()
    assert (returning.text_reminders, returning.reminders_stopped_at) == (True, None)
    assert Patient.objects.count() == 1


# --- the stop link in reminder emails ----------------------------------------------------------------------------


def stop_path(patient) -> str:
    return f"/reminders/stop/{reminders.stop_token(patient)}/"


def test_opening_the_stop_link_changes_nothing_until_the_button_is_pressed(client):
    patient = PatientFactory(name="Jordan Lee")

    page = client.get(stop_path(patient))

    assert page.status_code == 200
    assert b"Stop appointment reminders?" in page.content
    assert b"Stop my reminders" in page.content
    assert b"Jordan Lee" in page.content
    assert "no-cache" in page["Cache-Control"]
    patient.refresh_from_db()
    assert patient.reminders_stopped_at is None


def test_pressing_stop_stops_reminders_once_and_says_so(client):
    patient = PatientFactory()
    path = stop_path(patient)

    first = client.post(path)
    assert first.status_code == 200
    assert b"we won't send you any more appointment reminders" in first.content
    assert b"Turn reminders back on" in first.content
    patient.refresh_from_db()
    assert patient.reminders_stopped_at == NOW

    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        assert client.post(path).status_code == 200
    patient.refresh_from_db()
    assert patient.reminders_stopped_at == NOW  # the first request's moment is kept
    assert b"Reminders are off" in client.get(path).content


def test_reminders_can_be_turned_back_on_from_the_same_link(client):
    patient = PatientFactory(reminders_stopped_at=NOW)
    token = reminders.stop_token(patient)

    assert client.get(f"/reminders/resume/{token}/")["Location"] == f"/reminders/stop/{token}/"
    page = client.post(f"/reminders/resume/{token}/")

    assert page.status_code == 200
    assert b"Reminders are back on" in page.content
    patient.refresh_from_db()
    assert patient.reminders_stopped_at is None


def test_an_old_stop_link_still_works(client):
    patient = PatientFactory()
    with time_machine.travel(NOW - timedelta(days=800), tick=False):
        path = stop_path(patient)

    assert client.post(path).status_code == 200
    patient.refresh_from_db()
    assert patient.reminders_stopped_at is not None


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        "MQ:1vKxyz:tampered-signature",
        "::::",
        "x" * 300,
    ],
)
def test_a_damaged_stop_link_is_not_found_not_an_error(client, token):
    PatientFactory()

    for method in (client.get, client.post):
        response = method(f"/reminders/stop/{token}/")
        assert response.status_code == 404
        assert b"We don't recognise this link" in response.content


def test_a_stop_link_cannot_be_forged_for_another_patient(client):
    patient, other = PatientFactory(), PatientFactory()
    token = reminders.stop_token(patient)
    payload, timestamp, signature = token.split(":")
    forged_payload = signing.b64_encode(str(other.pk).encode()).decode()
    unsalted = signing.dumps(other.pk)  # signed by this site, but for another purpose

    for forged in (f"{forged_payload}:{timestamp}:{signature}", unsalted):
        assert client.post(f"/reminders/stop/{forged}/").status_code == 404
    other.refresh_from_db()
    assert other.reminders_stopped_at is None


def test_a_link_for_a_patient_record_merged_away_is_not_found(client):
    patient = PatientFactory()
    path = stop_path(patient)
    patient.delete()

    assert client.get(path).status_code == 404


# --- STOP by text: Twilio's webhook ----------------------------------------------------------------------------


@pytest.fixture
def twilio_token(monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    return AUTH_TOKEN


def signed_post(client, settings, data: dict, token: str = AUTH_TOKEN):
    """Post as Twilio does: to the site's public address, signed with the account's auth token."""
    signature = RequestValidator(token).compute_signature(settings.SITE_URL + INBOUND, data)
    return client.post(INBOUND, data, HTTP_X_TWILIO_SIGNATURE=signature)


def text_from(number: str, body: str) -> dict:
    return {"From": number, "To": "+14165550100", "Body": body, "MessageSid": "SM" + "0" * 32}


def test_stop_by_text_stops_reminders_for_patients_with_that_phone(client, settings, twilio_token):
    mine = PatientFactory(phone="+14165550199", text_reminders=True)
    family = PatientFactory(phone="416-555-0199")
    other = PatientFactory(phone="+14165550142", text_reminders=True)

    response = signed_post(client, settings, text_from("+14165550199", "STOP"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert b"<Response" in response.content
    for patient in (mine, family, other):
        patient.refresh_from_db()
    assert mine.reminders_stopped_at == NOW and family.reminders_stopped_at == NOW
    assert mine.text_reminders is False
    assert (other.reminders_stopped_at, other.text_reminders) == (None, True)


@pytest.mark.parametrize("body", ["stop", " Stop. ", "STOPALL", "unsubscribe", "Cancel", "END", "quit"])
def test_every_stop_word_stops_reminders(client, settings, twilio_token, body):
    patient = PatientFactory(phone="+14165550199")

    assert signed_post(client, settings, text_from("+14165550199", body)).status_code == 200

    patient.refresh_from_db()
    assert patient.reminders_stopped_at == NOW


@pytest.mark.parametrize("body", ["Please stop by the desk", "Thanks!", "", "See you then"])
def test_other_texts_change_nothing(client, settings, twilio_token, body):
    patient = PatientFactory(phone="+14165550199")

    assert signed_post(client, settings, text_from("+14165550199", body)).status_code == 200

    patient.refresh_from_db()
    assert patient.reminders_stopped_at is None


def test_start_by_text_brings_reminders_and_texts_back(client, settings, twilio_token):
    patient = PatientFactory(phone="+14165550199", reminders_stopped_at=NOW, text_reminders=False)

    signed_post(client, settings, text_from("+14165550199", "START"))

    patient.refresh_from_db()
    assert (patient.reminders_stopped_at, patient.text_reminders) == (None, True)


def test_a_bad_signature_is_refused(client, settings, twilio_token):
    patient = PatientFactory(phone="+14165550199")

    forged = signed_post(client, settings, text_from("+14165550199", "STOP"), token="not-the-auth-token")
    unsigned = client.post(INBOUND, text_from("+14165550199", "STOP"))
    data = text_from("+14165550199", "START")
    signature = RequestValidator(AUTH_TOKEN).compute_signature(settings.SITE_URL + INBOUND, data)
    altered = client.post(INBOUND, text_from("+14165550199", "STOP"), HTTP_X_TWILIO_SIGNATURE=signature)

    assert (forged.status_code, unsigned.status_code, altered.status_code) == (403, 403, 403)
    patient.refresh_from_db()
    assert patient.reminders_stopped_at is None


def test_without_an_auth_token_requests_are_refused_outside_local_development(client, settings, monkeypatch):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    patient = PatientFactory(phone="+14165550199")
    settings.DEBUG, settings.SMS_BACKEND = False, "twilio"

    assert client.post(INBOUND, text_from("+14165550199", "STOP")).status_code == 403

    settings.DEBUG, settings.SMS_BACKEND = True, "console"
    assert client.post(INBOUND, text_from("+14165550199", "STOP")).status_code == 200
    patient.refresh_from_db()
    assert patient.reminders_stopped_at == NOW


def test_with_an_auth_token_unsigned_requests_are_refused_in_development_too(client, settings, twilio_token):
    settings.DEBUG, settings.SMS_BACKEND = True, "console"

    assert client.post(INBOUND, text_from("+14165550199", "STOP")).status_code == 403


@pytest.mark.parametrize("sender", ["", "not a number", "+1", "+999999999999999999999"])
def test_a_sender_that_is_not_a_phone_number_is_a_bad_request(client, settings, twilio_token, sender):
    assert signed_post(client, settings, text_from(sender, "STOP")).status_code == 400


def test_the_webhook_takes_posts_only(client, twilio_token):
    assert client.get(INBOUND).status_code == 405


def test_stop_by_text_is_honoured_by_the_next_reminder_run(client, settings, twilio_token, option, therapist):
    patient = PatientFactory(phone="+14165550199", text_reminders=True)
    AppointmentFactory(patient=patient, therapist=therapist, service=option.service, start=NOW + timedelta(hours=20))

    signed_post(client, settings, text_from("+14165550199", "STOP"))

    assert reminders.queue_due_reminders(NOW).queued == 0
