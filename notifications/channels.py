"""How a message leaves the clinic: by email (Django's mail backends, with a timeout) or by text message.

Only the worker calls these. Every send is bounded in time: SMTP by EMAIL_TIMEOUT, texts by their backend's
own timeout, so a mail server that accepts the connection and never answers costs one attempt, not a hang.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from clinic.models import ClinicSettings
from notifications import sms
from notifications.models import OutboundMessage


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
