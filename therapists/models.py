import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


class TherapistQuerySet(models.QuerySet):
    def active(self) -> "TherapistQuerySet":
        return self.filter(active=True)

    def offering(self, service) -> "TherapistQuerySet":
        return self.filter(services=service)


class Therapist(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="therapist",
        help_text="The staff login this therapist uses to see their schedule.",
    )
    name = models.CharField(max_length=120)
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=120, default="Registered Massage Therapist")
    bio = models.TextField(blank=True)
    registration_number = models.CharField("professional registration number", max_length=40, blank=True)
    services = models.ManyToManyField("booking.Service", related_name="therapists", blank=True)
    active = models.BooleanField(default=True, help_text="Inactive therapists cannot be booked.")
    order = models.PositiveSmallIntegerField(default=0)
    feed_token = models.CharField(max_length=64, unique=True, default=new_feed_token, editable=False)

    objects = TherapistQuerySet.as_manager()

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("therapist_detail", args=[self.slug])

    @property
    def initials(self) -> str:
        """First and last initials, for the avatar shown where there is no photo."""
        parts = self.name.split()
        return "".join(part[0] for part in (parts[:1] + parts[1:][-1:])).upper()


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class WorkingHours(models.Model):
    """One working interval on a weekday, in the clinic's wall-clock time; several make a split shift."""

    therapist = models.ForeignKey(Therapist, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["therapist", "weekday", "start"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=F("end")), name="working_hours_start_before_end"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="working_hours_valid_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


class TimeOffQuerySet(models.QuerySet):
    def approved(self) -> "TimeOffQuerySet":
        """Time off that counts: it blocks free times and strands what is booked inside it."""
        return self.filter(status=TimeOff.Status.APPROVED)

    def requested(self) -> "TimeOffQuerySet":
        """A therapist's requests still waiting for the front desk; they block nothing yet."""
        return self.filter(status=TimeOff.Status.REQUESTED)


class TimeOff(models.Model):
    class Status(models.TextChoices):
        APPROVED = "approved", "Approved"
        REQUESTED = "requested", "Waiting for approval"
        DECLINED = "declined", "Declined"

    therapist = models.ForeignKey(Therapist, on_delete=models.CASCADE, related_name="time_off")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    # Only approved time off is time off; a request (booked patients fall inside it) waits for the front desk.
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.APPROVED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(
        max_length=200, blank=True, help_text="Why a request was declined, shown to the therapist."
    )

    objects = TimeOffQuerySet.as_manager()

    class Meta:
        ordering = ["start"]
        verbose_name = "time off"
        verbose_name_plural = "time off"
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=F("end")), name="time_off_start_before_end"),
            models.CheckConstraint(
                condition=Q(status__in=["approved", "requested", "declined"]), name="time_off_valid_status"
            ),
        ]

    def __str__(self) -> str:
        start, end = timezone.localtime(self.start), timezone.localtime(self.end)
        return f"{self.therapist}: {start:%a %-d %b %Y %H:%M} – {end:%a %-d %b %Y %H:%M}"
