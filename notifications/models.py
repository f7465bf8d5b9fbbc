from django.db import models
from django.utils import timezone


class OutboundMessage(models.Model):
    """One message to send, written in the same transaction as the change that causes it (the outbox).

    The worker sends it later; a rolled-back change leaves no row, a committed one is never forgotten. The row
    keeps what was sent, to whom, by which channel, each attempt's outcome and the final failure's reason.
    """

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", "Booking confirmation"
        SERIES_CONFIRMATION = "series_confirmation", "Confirmation of several sessions"
        CHANGE = "change", "Appointment moved"
        CANCELLATION = "cancellation", "Appointment cancelled"
        REMINDER = "reminder", "Reminder"
        WAITLIST_OFFER = "waitlist_offer", "Waitlist offer"
        STAFF_NOTICE = "staff_notice", "Notice to a therapist"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "Text message"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to send"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Not sent"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    recipient = models.CharField(max_length=254, help_text="An email address, or a phone number in E.164.")
    subject = models.CharField(max_length=200, blank=True)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    attachment_name = models.CharField(max_length=100, blank=True)
    attachment = models.TextField(blank=True, help_text="A calendar file (.ics) sent with the email.")

    appointment = models.ForeignKey(
        "booking.Appointment", on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    patient = models.ForeignKey(
        "booking.Patient", on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )

    created_at = models.DateTimeField(default=timezone.now)
    send_after = models.DateTimeField(default=timezone.now, help_text="Not sent before this moment.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    dedupe_key = models.CharField(
        max_length=200,
        unique=True,
        null=True,
        blank=True,
        help_text="Messages that must go at most once (a reminder for one appointment and time) share a key.",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "send_after"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient} ({self.get_status_display().lower()})"
