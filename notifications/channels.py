"""How a message leaves the clinic: by email (Django's mail backends, with a timeout) or by text message.

Only the worker calls these. Every send is bounded in time: SMTP by EMAIL_TIMEOUT, texts by their backend's
own timeout, so a mail server that accepts the connection and never answers costs one attempt, not a hang.
"""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from twilio.base.exceptions import TwilioRestException

from clinic.models import ClinicSettings
from notifications import sms
from notifications.models import OutboundMessage

# Twilio's answers for a number that will never take this text: not a valid number (21211), the patient replied
# STOP (21610), not a mobile (21614).
TWILIO_REFUSED_FOR_GOOD = frozenset({21211, 21610, 21614})


def send_email(message: OutboundMessage) -> None:
    clinic = ClinicSettings.load()
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        to=[message.recipient],
        reply_to=[clinic.email] if clinic.email else None,
        connection=get_connection(timeout=settings.EMAIL_TIMEOUT),
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    if message.attachment:
        email.attach(message.attachment_name or "appointment.ics", message.attachment, "text/calendar")
    email.send()


def send(message: OutboundMessage) -> None:
    """Send one message by its channel; any failure is an exception for the worker to record."""
    if message.channel == OutboundMessage.Channel.EMAIL:
        send_email(message)
        return
    sms.backend().send(to=message.recipient, body=message.body_text)


def refused_for_good(error: BaseException) -> bool:
    """Whether the other side said no for good: a mail server's 5xx to the address or to the message itself, or a
    number that cannot take texts. Sending again would get the same answer, so the worker fails the message at once
    (staff see it in the message log) instead of five times over a quarter of an hour.

    A refused login or sender address is the clinic's own setting, not the patient's: those are tried again, so a
    corrected setting delivers them."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return error.smtp_code >= 500
    if isinstance(error, TwilioRestException):
        return error.code in TWILIO_REFUSED_FOR_GOOD
    return False
