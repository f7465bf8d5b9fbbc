import secrets
from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField


def new_manage_token() -> str:
    """192 random bits: the patient's only key to their appointment."""
    return secrets.token_urlsafe(24)


class ServiceQuerySet(models.QuerySet):
    def active(self) -> "ServiceQuerySet":
        return self.filter(active=True)


class Service(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(unique=True)
    summary = models.CharField(max_length=250, blank=True)
    description = models.TextField(blank=True)
    buffer_minutes = models.PositiveSmallIntegerField(
        "buffer after each session (minutes)",
        default=10,
        validators=[MaxValueValidator(120)],
        help_text="Time kept free after a session to clean up and write notes.",
    )
    active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)

    objects = ServiceQuerySet.as_manager()

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("service_detail", args=[self.slug])

    @property
    def buffer(self) -> timedelta:
        return timedelta(minutes=self.buffer_minutes)


class ServiceOption(models.Model):
    """A length a service can be booked for, with its price."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="options")
    duration_minutes = models.PositiveSmallIntegerField(
        "length (minutes)", validators=[MinValueValidator(5), MaxValueValidator(480)]
    )
    price = models.DecimalField(max_digits=8, decimal_places=2, validators=[MinValueValidator(0)])
    is_default = models.BooleanField(
        "default length", default=False, help_text="Offered first; used when no length is given."
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["service", "duration_minutes"]
        constraints = [
            models.UniqueConstraint(fields=["service", "duration_minutes"], name="unique_service_length"),
        ]

    def __str__(self) -> str:
        return f"{self.service.name}, {self.duration_minutes} min"

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)


class Patient(models.Model):
    name = models.CharField(max_length=120)
    email = models.EmailField(db_index=True)
    phone = PhoneNumberField(help_text="Any usual format; stored as +14165550108.")
    date_of_birth = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    text_reminders = models.BooleanField(
        "text me reminders", default=False, help_text="The patient asked for reminders by text message too."
    )
    reminders_stopped_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the patient asked for no more reminders (by the link in a message, or STOP by text).",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AppointmentQuerySet(models.QuerySet):
    def active(self) -> "AppointmentQuerySet":
        return self.exclude(status=Appointment.Status.CANCELLED)

    def overlapping(self, start, end) -> "AppointmentQuerySet":
        """Appointments whose blocked time (session plus buffer) meets [start, end)."""
        return self.filter(start__lt=end, blocked_until__gt=start)


class Appointment(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CHECKED_IN = "checked_in", "Checked in"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No-show"

    class Channel(models.TextChoices):
        ONLINE = "online", "Online"
        PHONE = "phone", "Phone"
        FRONT_DESK = "front_desk", "Front desk"
        ADMIN = "admin", "Admin panel"

    class CancelledBy(models.TextChoices):
        PATIENT = "patient", "Patient"
        STAFF = "staff", "Staff"
        SYSTEM = "system", "System"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    therapist = models.ForeignKey("therapists.Therapist", on_delete=models.PROTECT, related_name="appointments")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="appointments")
    duration_minutes = models.PositiveSmallIntegerField("length (minutes)")
    price = models.DecimalField(max_digits=8, decimal_places=2)
    start = models.DateTimeField(db_index=True)
    end = models.DateTimeField()
    blocked_until = models.DateTimeField(
        help_text="End of the session plus the service's buffer; nothing else may start before it."
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.BOOKED)
    sequence = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Rises each time the appointment is moved, cancelled or restored: the SEQUENCE calendar apps "
        "compare to know that a copy they hold is out of date.",
    )
    patient_note = models.TextField("note from the patient", blank=True, max_length=1000)

    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.ONLINE)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The staff member who booked it; empty when the patient booked online.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by_role = models.CharField(max_length=20, choices=CancelledBy.choices, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cancellation_reason = models.CharField(max_length=500, blank=True)
    late_cancellation = models.BooleanField(
        default=False, help_text="Cancelled inside the clinic's cancellation window."
    )
    staff_note = models.TextField(
        "staff note", blank=True, max_length=2000, help_text="Seen by staff only, never by the patient."
    )

    manage_token = models.CharField(max_length=64, unique=True, default=new_manage_token, editable=False)
    request_key = models.CharField(
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        editable=False,
        help_text="Key of the form submission that made it, so a resubmitted form books once.",
    )

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["therapist", "start"], name="appointment_therapist_start")]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=F("end")), name="appointment_start_before_end"),
            models.CheckConstraint(condition=Q(end__lte=F("blocked_until")), name="appointment_end_within_blocked"),
        ]
        # The PostgreSQL exclusion constraint against overlaps is added by
        # migration 0003, since SQLite has no equivalent.

    def __str__(self) -> str:
        # The active time zone is the clinic's on every request (ClinicTimeZoneMiddleware).
        return f"{self.patient} with {self.therapist}, {timezone.localtime(self.start):%a %-d %b %Y %H:%M}"

    def private_link_path(self) -> str:
        """The patient's own page. Deliberately not get_absolute_url: staff pages must never link to it."""
        return reverse("appointment_manage", args=[self.manage_token])

    @property
    def is_active(self) -> bool:
        return self.status != self.Status.CANCELLED


class AppointmentEvent(models.Model):
    """One entry in an appointment's history, written by booking.services in the same transaction as the change.

    `changes` holds what moved from what to what, e.g. {"status": ["booked", "cancelled"],
    "start": [iso, iso], "therapist": [name, name], "reason": "..."}; times are ISO 8601 in UTC.
    """

    class Kind(models.TextChoices):
        BOOKED = "booked", "Booked"
        MOVED = "moved", "Moved"
        CANCELLED = "cancelled", "Cancelled"
        STATUS = "status", "Status changed"
        UNDONE = "undone", "Undone"
        NOTE = "note", "Staff note changed"
        PATIENT_MERGED = "patient_merged", "Patient records merged"

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor_role = models.CharField(max_length=20)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(
        max_length=150, blank=True, help_text="Who it was at the time, kept if the login goes."
    )
    via = models.CharField(max_length=20)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["appointment", "at"], name="appointment_event_when")]

    def __str__(self) -> str:
        when = timezone.localtime(self.at)
        return f"{self.get_kind_display()} by {self.actor_name or self.actor_role}, {when:%a %-d %b %Y %H:%M}"


def new_waitlist_token() -> str:
    """192 random bits: the key to a patient's place on the waitlist, or to one offer of a time."""
    return secrets.token_urlsafe(24)


class WaitlistEntry(models.Model):
    """A patient waiting for a time: a service and length, optionally a therapist, and the times that suit them.

    Written only by booking.waitlist_services. `suits` holds (weekday, part of day) pairs as bits
    (booking.waitlist); every bit set means any time.
    """

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        OFFERED = "offered", "Offered a time"
        BOOKED = "booked", "Booked"
        LEFT = "left", "Left the waitlist"
        REMOVED = "removed", "Removed by staff"

    ACTIVE_STATUSES = (Status.WAITING, Status.OFFERED)

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="waitlist_entries")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="waitlist_entries")
    duration_minutes = models.PositiveSmallIntegerField("length (minutes)")
    therapist = models.ForeignKey(
        "therapists.Therapist",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="waitlist_entries",
        help_text="Empty: any therapist who gives the service.",
    )
    suits = models.PositiveIntegerField(
        "times that suit", help_text="Weekdays and parts of the day, as bits: weekday × 3 + part (0 morning)."
    )
    note = models.TextField(blank=True, max_length=500)
    joined_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    ended_at = models.DateTimeField(null=True, blank=True, help_text="When it was booked, left or removed.")
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    token = models.CharField(max_length=64, unique=True, default=new_waitlist_token, editable=False)
    request_key = models.CharField(
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        editable=False,
        help_text="Key of the form submission that made it, so a resubmitted form joins once.",
    )

    class Meta:
        ordering = ["joined_at", "pk"]
        verbose_name_plural = "waitlist entries"
        indexes = [models.Index(fields=["status", "joined_at"], name="waitlist_entry_waiting")]
        constraints = [
            models.CheckConstraint(condition=Q(suits__gte=1, suits__lt=1 << 21), name="waitlist_entry_suits_range"),
            models.CheckConstraint(
                condition=Q(status__in=["waiting", "offered", "booked", "left", "removed"]),
                name="waitlist_entry_valid_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} waiting for {self.service}, {self.duration_minutes} min"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    def private_link_path(self) -> str:
        """The patient's own page for this entry (see it, leave the waitlist); staff pages never link to it."""
        return reverse("waitlist_entry", args=[self.token])


class WaitlistOffer(models.Model):
    """One freed time offered to one waiting patient, until it is claimed or lapses."""

    class Status(models.TextChoices):
        OPEN = "open", "Awaiting answer"
        CLAIMED = "claimed", "Booked"
        EXPIRED = "expired", "Expired"
        TAKEN = "taken", "Taken by someone else"
        WITHDRAWN = "withdrawn", "Withdrawn"

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    therapist = models.ForeignKey("therapists.Therapist", on_delete=models.PROTECT, related_name="waitlist_offers")
    start = models.DateTimeField()
    end = models.DateTimeField()
    blocked_until = models.DateTimeField(help_text="End of the session plus the service's buffer.")
    token = models.CharField(max_length=64, unique=True, default=new_waitlist_token, editable=False)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    appointment = models.ForeignKey(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The staff member who offered it by hand; empty when offered as the time freed up.",
    )

    class Meta:
        ordering = ["-sent_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="waitlist_offer_due"),
            models.Index(fields=["therapist", "start"], name="waitlist_offer_time"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=F("end")), name="waitlist_offer_start_before_end"),
            models.CheckConstraint(condition=Q(end__lte=F("blocked_until")), name="waitlist_offer_end_within_blocked"),
            models.CheckConstraint(
                condition=Q(status__in=["open", "claimed", "expired", "taken", "withdrawn"]),
                name="waitlist_offer_valid_status",
            ),
            # One time at a time per patient's entry; the services keep offers of one therapist from overlapping.
            models.UniqueConstraint(
                fields=["entry"], condition=Q(status="open"), name="waitlist_one_open_offer_per_entry"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.therapist}, {timezone.localtime(self.start):%a %-d %b %Y %H:%M} ({self.get_status_display()})"

    def private_link_path(self) -> str:
        """The patient's link to claim it; staff pages never link to it."""
        return reverse("waitlist_offer", args=[self.token])
