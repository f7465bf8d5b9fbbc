import zoneinfo
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"“{value}” is not a known time zone, for example America/Toronto.")


class ClinicSettings(models.Model):
    """The clinic's name, contact details and booking policies: one row, edited in the admin."""

    SINGLETON_PK = 1

    name = models.CharField(max_length=120, default="Mo Therapy")
    tagline = models.CharField(
        max_length=200, blank=True, default="Registered massage therapy for sciatica and back pain"
    )
    phone = models.CharField(max_length=40, blank=True, default="416-555-0134")
    email = models.EmailField(blank=True, default="hello@motherapy.example")
    address = models.CharField(max_length=200, blank=True, default="120 Harbord Street, Toronto, ON")
    time_zone = models.CharField(max_length=64, default="America/Toronto", validators=[validate_time_zone])
    min_notice_minutes = models.PositiveIntegerField(
        "minimum notice (minutes)",
        default=120,
        validators=[MaxValueValidator(60 * 24 * 30)],
        help_text="How long before a session starts it can still be booked online.",
    )
    horizon_days = models.PositiveSmallIntegerField(
        "booking horizon (days)",
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(366)],
        help_text="How many days ahead patients may book.",
    )
    slot_step_minutes = models.PositiveSmallIntegerField(
        "slot step (minutes)",
        default=15,
        validators=[MinValueValidator(5), MaxValueValidator(120)],
        help_text="Offered start times fall on this grid of the clock, e.g. 15 gives :00, :15, :30, :45.",
    )
    cancellation_window_hours = models.PositiveSmallIntegerField(
        "online cancellation limit (hours)",
        default=24,
        validators=[MaxValueValidator(24 * 14)],
        help_text="Patients may cancel or reschedule online up to this many hours before the session.",
    )

    first_reminder_hours = models.PositiveSmallIntegerField(
        "first reminder (hours before)",
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 14)],
        help_text="Patients are reminded this long before their session.",
    )
    second_reminder_hours = models.PositiveSmallIntegerField(
        "second reminder (hours before)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 14)],
        help_text="Optional: a second, shorter reminder, e.g. 2 hours before. Leave empty for none.",
    )
    waitlist_offer_minutes = models.PositiveSmallIntegerField(
        "waitlist offer lasts (minutes)",
        default=120,
        validators=[MinValueValidator(10), MaxValueValidator(60 * 24 * 2)],
        help_text="How long a patient on the waitlist has to claim a time offered to them.",
    )
    therapist_notice_hours = models.PositiveSmallIntegerField(
        "tell therapists of changes within (hours)",
        default=48,
        validators=[MaxValueValidator(24 * 14)],
        help_text="A therapist gets a short notice when their schedule changes this close to the session.",
    )

    online_booking_cap = models.PositiveSmallIntegerField(
        "upcoming online bookings per patient",
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="How many upcoming appointments one patient may book online; the front desk can book more.",
    )
    staff_session_minutes = models.PositiveSmallIntegerField(
        "staff logged out after (minutes idle)",
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(12 * 60)],
        help_text="Staff are logged out after this long without using the site, and when the browser closes.",
    )

    class Meta:
        verbose_name = "clinic settings"
        verbose_name_plural = "clinic settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="clinic_settings_singleton"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.pk = self.SINGLETON_PK
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> "ClinicSettings":
        settings_row, _ = cls.objects.get_or_create(pk=cls.SINGLETON_PK)
        return settings_row

    @property
    def phone_uri(self) -> str:
        """The phone number as a tel: link, digits only (and a leading +)."""
        return "tel:" + "".join(char for char in self.phone if char.isdigit() or char == "+")

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def min_notice(self) -> timedelta:
        return timedelta(minutes=self.min_notice_minutes)

    @property
    def slot_step(self) -> timedelta:
        return timedelta(minutes=self.slot_step_minutes)

    @property
    def cancellation_window(self) -> timedelta:
        return timedelta(hours=self.cancellation_window_hours)

    @property
    def reminder_offsets(self) -> list[timedelta]:
        """How long before a session each reminder goes, longest first."""
        hours = {value for value in (self.first_reminder_hours, self.second_reminder_hours) if value}
        return [timedelta(hours=value) for value in sorted(hours, reverse=True)]

    @property
    def waitlist_offer_lifetime(self) -> timedelta:
        return timedelta(minutes=self.waitlist_offer_minutes)

    @property
    def therapist_notice_window(self) -> timedelta:
        return timedelta(hours=self.therapist_notice_hours)
