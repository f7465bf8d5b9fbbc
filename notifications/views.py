"""Patients' own say over reminders: the stop link in every reminder email, and STOP by text through Twilio.

- `/reminders/stop/<token>/`: GET shows what the link does, with a button; POST stops reminders (a second POST
  changes nothing) and offers to turn them back on. Mail scanners open links, so a GET never changes anything.
- `/reminders/resume/<token>/`: POST turns reminders back on; GET shows the stop page in its current state.
- `/reminders/sms/inbound/`: Twilio's webhook for texts patients send to the clinic's number. STOP (and
  STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT) stops reminders for every patient with that phone; START or
  UNSTOP brings them back. Requests must carry Twilio's signature (X-Twilio-Signature, checked with
  TWILIO_AUTH_TOKEN by the official library's RequestValidator); unsigned ones are refused with 403, except
  when no token is set, DEBUG is on and texts go to the console: then a local `curl` may stand in for Twilio.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from phonenumber_field.phonenumber import PhoneNumber
from phonenumbers import NumberParseException
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from booking.models import Patient
from clinic import ratelimit
from notifications import outbox, reminders

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
# Twilio also takes YES as START; here it is too common a reply to mean "text me reminders again".
START_WORDS = frozenset({"START", "UNSTOP"})


def _page(request: HttpRequest, patient: Patient, token: str, changed: str = "") -> HttpResponse:
    return render(
        request,
        "notifications/reminders/preferences.html",
        {"patient": patient, "token": token, "changed": changed},
    )


def _link_not_valid(request: HttpRequest) -> HttpResponse:
    return render(request, "notifications/reminders/link_not_valid.html", status=404)


@never_cache
@require_http_methods(["GET", "POST"])
def reminders_stop(request: HttpRequest, token: str) -> HttpResponse:
    patient = reminders.patient_for_token(token)
    if patient is None:
        return _link_not_valid(request)
    if request.method == "POST":
        if refused := ratelimit.guard(request, address="link_address", per="link_token", values=[token]):
            return refused
        reminders.stop_reminders(patient=patient, now=timezone.now())
        return _page(request, patient, token, changed="stopped")
    return _page(request, patient, token)


@never_cache
@require_http_methods(["GET", "POST"])
def reminders_resume(request: HttpRequest, token: str) -> HttpResponse:
    patient = reminders.patient_for_token(token)
    if patient is None:
        return _link_not_valid(request)
    if request.method == "POST":
        if refused := ratelimit.guard(request, address="link_address", per="link_token", values=[token]):
            return refused
        reminders.resume_reminders(patient=patient)
        return _page(request, patient, token, changed="resumed")
    return redirect("reminders_stop", token=token)


def _from_twilio(request: HttpRequest) -> bool:
    token = os.environ.get("TWILIO_AUTH_TOKEN", "")
    if not token:
        return settings.DEBUG and settings.SMS_BACKEND == "console"
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    validator = RequestValidator(token)
    # Twilio signs the address it was given: the site's public one (SITE_URL), which behind a proxy may differ
    # from the one this server sees; either is accepted, and both need the secret token.
    addresses = {outbox.site_url(request.get_full_path()), request.build_absolute_uri()}
    return any(validator.validate(address, request.POST, signature) for address in addresses)


def _e164(value: str) -> str | None:
    try:
        number = PhoneNumber.from_string(value.strip())
    except NumberParseException:
        return None
    return number.as_e164 if number.is_valid() else None


def _keyword(body: str) -> str:
    """A text's keyword as carriers read it: the whole message, any case, trailing punctuation ignored."""
    return body.strip().rstrip(".!").strip().upper()


@csrf_exempt
@require_POST
def sms_inbound(request: HttpRequest) -> HttpResponse:
    if refused := ratelimit.guard(request, address="webhook_address"):
        return refused
    if not _from_twilio(request):
        return HttpResponseForbidden("This address only takes requests signed by the clinic's text provider.")
    phone = _e164(request.POST.get("From", ""))
    if phone is None:
        return HttpResponseBadRequest("From must be a phone number.")
    keyword = _keyword(request.POST.get("Body", ""))
    if keyword in STOP_WORDS:
        reminders.stop_reminders_for_phone(phone=phone, now=timezone.now())
    elif keyword in START_WORDS:
        reminders.resume_reminders_for_phone(phone=phone)
    # No reply of our own: the provider answers STOP and START itself, as carriers require.
    return HttpResponse(str(MessagingResponse()), content_type="text/xml")
