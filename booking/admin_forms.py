"""Forms of the admin panel that write appointments, and the checks on a service's lengths.

The admin saves a ModelForm by calling `save()` on it, which for appointments
would bypass the booking rules. Instead the appointment form hands the
validated data to `booking.services` once all field and model validation has
passed, and turns a refused booking into an error on the form, so the
receptionist sees why and keeps what they typed.
"""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.utils import timezone

from booking import selectors, services
from booking.errors import BookingError
from booking.models import Appointment, Service, ServiceOption


class AppointmentAdminForm(forms.ModelForm):
    """Books (on add) or moves, cancels and changes the status of (on change) an appointment through the services.

    The admin sets `actor` on the form class it builds for each request (see
    `AppointmentAdmin.get_form`); it is recorded as who booked or cancelled.
    After a successful write, `instance` is the saved appointment and `save()`
    has nothing left to do.
    """

    actor = None

    class Meta:
        model = Appointment
        fields = ["patient", "therapist", "service", "duration_minutes", "start", "patient_note"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.adding = self.instance.pk is None
        # What the appointment was before this form touched it: `_post_clean`
        # copies the submitted values onto the instance.
        self.original_therapist_id = self.instance.therapist_id
        self.original_start = self.instance.start
        self.original_status = self.instance.status
        if "duration_minutes" in self.fields:
            field = self.fields["duration_minutes"]
            field.required = False
            field.help_text = "Leave empty for the service's default length."
        if "cancellation_reason" in self.fields:
            self.fields["cancellation_reason"].help_text = "Only used when the status is set to Cancelled."

    def clean_start(self) -> datetime | None:
        start = self.cleaned_data.get("start")
        if start is not None and (start.second or start.microsecond):
            raise forms.ValidationError("Choose a start time on the minute, without seconds.")
        return start

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.adding:
            self._clean_option(cleaned)
        else:
            self._clean_change(cleaned)
        return cleaned

    def _clean_option(self, cleaned: dict) -> None:
        """Find the bookable length of the chosen service: the one typed, or the service's default."""
        service: Service | None = cleaned.get("service")
        if service is None or "duration_minutes" in self.errors:
            return
        options = list(
            ServiceOption.objects.select_related("service")
            .filter(service=service, active=True)
            .order_by("duration_minutes")
        )
        if not options:
            self.add_error("service", f"{service} has no bookable lengths. Add one on the service first.")
            return
        minutes = cleaned.get("duration_minutes")
        option = selectors.option_of_length(options, minutes)
        if option is None:
            self.add_error(
                "duration_minutes",
                f"{service} can be booked for {selectors.lengths_text(options)} minutes, not {minutes}.",
            )
            return
        cleaned["duration_minutes"] = option.duration_minutes
        self.option = option

    def _clean_change(self, cleaned: dict) -> None:
        status = cleaned.get("status", self.original_status)
        reason = (cleaned.get("cancellation_reason") or "").strip()
        cancelling = status == Appointment.Status.CANCELLED and status != self.original_status
        if reason and not cancelling:
            self.add_error("cancellation_reason", "Set the status to Cancelled to cancel with this reason.")
        if cancelling and self._moved(cleaned):
            self.add_error(
                None, "An appointment is either moved or cancelled: change the time or the status, not both."
            )

    def _moved(self, cleaned: dict) -> bool:
        therapist = cleaned.get("therapist")
        start = cleaned.get("start")
        return (therapist is not None and therapist.pk != self.original_therapist_id) or (
            start is not None and start != self.original_start
        )

    def _post_clean(self) -> None:
        # Write only once every field, form and model check has passed, so a
        # form that fails validation never leaves a booking behind. Django's
        # own UserCreationForm extends `_post_clean` the same way.
        super()._post_clean()
        if self.errors:
            return
        if self.actor is None:
            raise RuntimeError("AppointmentAdminForm needs the acting user: set `actor` on the form class.")
        now = timezone.now()
        try:
            if self.adding:
                self.instance = self._book(now)
            else:
                self.instance = self._change(now)
        except BookingError as error:
            self.add_error(None, error.message)

    def _book(self, now: datetime) -> Appointment:
        data = self.cleaned_data
        return services.appointment_book(
            option=self.option,
            therapist=data["therapist"],
            start=data["start"],
            patient=data["patient"],
            now=now,
            channel=Appointment.Channel.ADMIN,
            actor=self.actor,
            note=data.get("patient_note", ""),
        )

    def _change(self, now: datetime) -> Appointment:
        data = self.cleaned_data
        appointment = self.instance
        status = data.get("status", self.original_status)
        if status != self.original_status and status == Appointment.Status.CANCELLED:
            return services.appointment_cancel(
                appointment=appointment, now=now, actor=self.actor, reason=data.get("cancellation_reason", "")
            )
        if self._moved(data):
            appointment = services.appointment_move(
                appointment=appointment,
                start=data.get("start") or appointment.start,
                therapist=data.get("therapist"),
                now=now,
                actor=self.actor,
            )
        if status != self.original_status:
            appointment = services.appointment_set_status(
                appointment=appointment, status=status, now=now, actor=self.actor
            )
        return appointment


class ServiceOptionInlineFormSet(forms.BaseInlineFormSet):
    """A service has at most one default length, and at least one length once it is offered."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        kept = [form for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")]
        defaults = [form for form in kept if form.cleaned_data.get("is_default")]
        if len(defaults) > 1:
            raise forms.ValidationError("Mark only one length as the default.")
        if self.instance.active and not any(form.cleaned_data.get("active") for form in kept):
            raise forms.ValidationError(
                "An active service needs at least one active length, or patients cannot book it."
            )
