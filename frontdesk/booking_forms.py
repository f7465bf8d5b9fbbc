"""Forms of the front desk's booking dialog and its "next free" search.

Times are the clinic's wall clock, read in the clinic's zone (the active one on
every request). The dialog checks what it can (the therapist gives the service,
the patient exists, a new patient's details are valid) so that booking.services
only ever says no about the calendar itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from django import forms
from django.utils import timezone
from phonenumber_field.formfields import PhoneNumberField

from booking.forms import validate_in_calendar
from booking.models import Appointment, Patient, ServiceOption
from booking.series import MAX_SESSIONS
from frontdesk.appointment_forms import WALL_CLOCK_FORMATS
from therapists.models import Therapist

NEW_PATIENT = "new"
SKIP = "skip"
REPEAT_CHOICES = [("", "No"), ("1", "Every week"), ("2", "Every 2 weeks")]
CHANNEL_CHOICES = [
    (Appointment.Channel.PHONE.value, "By phone"),
    (Appointment.Channel.FRONT_DESK.value, "In person"),
]


def option_label(option: ServiceOption) -> str:
    """How a receptionist reads a service length: "Myofascial release, 60 min – $125"."""
    price = f"{option.price:.2f}".removesuffix(".00")
    return f"{option.service.name}, {option.duration_minutes} min – ${price}"


def wall_clock(moment: datetime) -> str:
    """A time as the dialog's fields and links carry it: the clinic's wall clock, to the minute."""
    return f"{timezone.localtime(moment):%Y-%m-%dT%H:%M}"


def gives(therapist: Therapist, option: ServiceOption) -> bool:
    """Whether the therapist gives the option's service (their services prefetched, so no query)."""
    return option.service_id in {service.pk for service in therapist.services.all()}


def start_field(label: str = "Start", required: bool = True) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=WALL_CLOCK_FORMATS,
        validators=[validate_in_calendar],
        widget=forms.DateTimeInput({"type": "datetime-local", "step": 60}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": "Enter a date and time, e.g. 2026-12-08 10:30."},
    )


class ServiceAndTherapist(forms.Form):
    """A service length (one select) and a therapist who gives it, or anyone."""

    option = forms.TypedChoiceField(
        label="Treatment and length",
        coerce=int,
        error_messages={"invalid_choice": "Choose a treatment and length from the list."},
    )
    therapist = forms.TypedChoiceField(
        label="Therapist",
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={"invalid_choice": "Choose a therapist from the list, or any therapist."},
    )

    def __init__(
        self, *args, options: Sequence[ServiceOption] = (), therapists: Sequence[Therapist] = (), **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.options = {option.pk: option for option in options}
        self.therapists = {therapist.pk: therapist for therapist in therapists}
        self.fields["option"].choices = [(option.pk, option_label(option)) for option in options]  # type: ignore[attr-defined]
        self.fields["therapist"].choices = [("", "Any therapist")] + [  # type: ignore[attr-defined]
            (therapist.pk, therapist.name) for therapist in therapists
        ]

    def clean_option(self) -> ServiceOption | None:
        pk = self.cleaned_data.get("option")
        return None if pk is None else self.options[pk]

    def clean_therapist(self) -> Therapist | None:
        pk = self.cleaned_data.get("therapist")
        return None if pk is None else self.therapists[pk]

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        option, therapist = cleaned.get("option"), cleaned.get("therapist")
        if option is not None and therapist is not None and not gives(therapist, option):
            self.add_error("therapist", f"{therapist.name} does not give {option.service.name}.")
        return cleaned


class BookingForm(ServiceAndTherapist):
    """The booking dialog: what, who, when (once or repeated), for which patient, and how it was booked."""

    start = start_field()
    repeat = forms.ChoiceField(label="Repeat", choices=REPEAT_CHOICES, required=False)
    sessions = forms.IntegerField(
        label="Sessions in all",
        min_value=2,
        max_value=MAX_SESSIONS,
        required=False,
        initial=6,
        error_messages={
            "min_value": "A repeat booking has at least 2 sessions.",
            "max_value": f"Book at most {MAX_SESSIONS} sessions at once.",
        },
    )
    q = forms.CharField(
        label="Find the patient",
        required=False,
        max_length=100,
        widget=forms.TextInput({"type": "search", "placeholder": "Name, email or phone", "autocomplete": "off"}),
    )
    patient = forms.CharField(required=False, max_length=20)
    name = forms.CharField(label="Full name", max_length=120, required=False)
    email = forms.EmailField(label="Email", required=False)
    phone = PhoneNumberField(
        label="Phone",
        required=False,
        error_messages={"invalid": "Enter a valid phone number, e.g. 416-555-0108."},
    )
    date_of_birth = forms.DateField(
        label="Date of birth (optional)", required=False, widget=forms.DateInput({"type": "date"})
    )
    channel = forms.ChoiceField(
        label="How they booked", choices=CHANNEL_CHOICES, initial=CHANNEL_CHOICES[0][0], widget=forms.RadioSelect
    )
    note = forms.CharField(
        label="Note from the patient",
        required=False,
        max_length=1000,
        widget=forms.Textarea({"rows": 2}),
        help_text="What the patient said about their pain or the visit; their therapist sees it.",
    )
    notify = forms.BooleanField(label="Email a confirmation to the patient", required=False, initial=True)
    request_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=40)
    plan = forms.CharField(widget=forms.HiddenInput, required=False, max_length=200)

    def clean_start(self) -> datetime:
        start = self.cleaned_data["start"]
        if start.second or start.microsecond:
            raise forms.ValidationError("Choose a start time on the minute.")
        return start

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean_date_of_birth(self) -> date | None:
        born = self.cleaned_data["date_of_birth"]
        if born is not None and not (date(1900, 1, 1) <= born <= timezone.localdate()):
            raise forms.ValidationError("Check the date of birth: it cannot be in the future.")
        return born

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        if not cleaned.get("repeat"):
            # The count only matters for a repeat booking: a stray value is no reason to refuse a single one.
            self.errors.pop("sessions", None)
            cleaned["sessions"] = None
        elif cleaned.get("sessions") is None and "sessions" not in self.errors:
            self.add_error("sessions", f"Say how many sessions in all (2 to {MAX_SESSIONS}).")
        choice = cleaned.get("patient") or ""
        cleaned["patient_record"] = None
        if choice == NEW_PATIENT:
            for field, message in (
                ("name", "Enter the patient's full name."),
                ("email", "Enter the patient's email."),
                ("phone", "Enter the patient's phone number."),
            ):
                if not cleaned.get(field) and field not in self.errors:
                    self.add_error(field, message)
        elif choice.isdigit():
            cleaned["patient_record"] = Patient.objects.filter(pk=int(choice)).first()
            if cleaned["patient_record"] is None:
                self.add_error(
                    "patient", "That patient record no longer exists (it may have been merged). Search again."
                )
        else:
            self.add_error("patient", "Find the patient and choose them, or add a new patient.")
        return cleaned

    @property
    def every_weeks(self) -> int:
        return int(self.cleaned_data.get("repeat") or 0)

    def plan_key(self) -> str:
        """What a list of repeat sessions was worked out from: a choice made for one plan never applies to another."""
        data = self.cleaned_data
        therapist = data["therapist"].pk if data.get("therapist") else "any"
        return f"{data['option'].pk}/{therapist}/{wall_clock(data['start'])}/{data['repeat']}/{data['sessions']}"


class BookingPrefill(ServiceAndTherapist):
    """What a click on the calendar, a "next free" pick or a patient's page fills the dialog with."""

    option = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={"invalid_choice": "That treatment or length is not offered."},
    )
    start = start_field(required=False)
    patient = forms.IntegerField(required=False, min_value=1)

    def clean_patient(self) -> Patient | None:
        pk = self.cleaned_data.get("patient")
        if pk is None:
            return None
        patient = Patient.objects.filter(pk=pk).first()
        if patient is None:
            raise forms.ValidationError("That patient record no longer exists.")
        return patient


class NextFreeForm(ServiceAndTherapist):
    """The next free times for a service length and a therapist (or anyone), from a day."""

    date = forms.DateField(
        label="From",
        required=False,
        input_formats=["%Y-%m-%d"],
        validators=[validate_in_calendar],
        widget=forms.DateInput({"type": "date"}),
    )


def settle_choice(value: str) -> tuple[str, int] | str | None:
    """A choice for a session that does not fit: SKIP, ("YYYY-MM-DDTHH:MM", therapist id), or None if unreadable."""
    if value == SKIP:
        return SKIP
    wall, _, pk = value.partition("@")
    if len(wall) != 16 or not pk.isdigit():
        return None
    try:
        datetime.strptime(wall, "%Y-%m-%dT%H:%M")  # noqa: DTZ007 - a wall-clock label, compared as text
    except ValueError:
        return None
    return wall, int(pk)
