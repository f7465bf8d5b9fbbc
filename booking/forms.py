"""Forms of the booking flow and the availability API: every parameter is checked here, never in the engine."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from phonenumber_field.formfields import PhoneNumberField

from booking import selectors
from booking.models import ServiceOption
from booking.selectors import SlotSearch
from clinic.honeypot import honeypot_field
from clinic.models import ClinicSettings
from therapists.models import Therapist

ANY_THERAPIST = "any"

name_validator = RegexValidator(r"^[^<>{}\[\]\\/@#$%^*=|~`]+$", "Enter your name without symbols.")


# Far beyond any booking, yet far enough from Python's first and last days (years 1 and 9999) that adding a
# session, a buffer or a fortnight of days to a time never overflows.
EARLIEST_TIME = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_TIME = datetime(3000, 1, 1, tzinfo=UTC)


def parse_aware_datetime(value: str) -> datetime:
    """An ISO 8601 date and time with a UTC offset, as in the API's slots; returned in UTC."""
    if not value or len(value) > 40:
        raise ValidationError("Enter a date and time such as 2026-12-08T09:00-05:00.", code="invalid")
    try:
        parsed = datetime.fromisoformat(value.replace(" ", "+"))
    except ValueError:
        raise ValidationError("Enter a date and time such as 2026-12-08T09:00-05:00.", code="invalid") from None
    if parsed.tzinfo is None:
        raise ValidationError("The time must include its UTC offset, e.g. -05:00.", code="naive")
    try:
        moment = parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is a time before the first day Python knows
        moment = EARLIEST_TIME - timedelta(days=1)
    if not (EARLIEST_TIME <= moment < LATEST_TIME):
        raise ValidationError("That date is outside the calendar. Choose one of the times shown.", code="out_of_range")
    return moment


def in_calendar(value: dt.date) -> bool:
    """Whether a day (or a date and time) lies in the years 1900 to 2999, which any real booking does."""
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST_TIME.date() <= day < LATEST_TIME.date()


def validate_in_calendar(value: dt.date) -> None:
    """A form field's validator for days and times: see `in_calendar`."""
    if not in_calendar(value):
        raise ValidationError("That date is outside the calendar.", code="out_of_range")


class SelectionForm(forms.Form):
    """What the patient has chosen so far; every field optional, each checked against the clinic's data.

    `service` resolves to its active lengths (one query) and `therapist` to the
    therapists who offer it (one query), so later steps pay nothing more.
    """

    service = forms.SlugField(max_length=100, required=False)
    duration = forms.IntegerField(required=False, min_value=1, max_value=24 * 60)
    therapist = forms.CharField(required=False, max_length=100)
    date = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    start = forms.CharField(required=False, max_length=40)

    default_therapist = ""
    always_default_length = False

    def __init__(self, data, *, clinic: ClinicSettings, today: dt.date, **kwargs) -> None:
        super().__init__(data, **kwargs)
        self.clinic = clinic
        self.today = today
        self.options: list[ServiceOption] = []
        self.option: ServiceOption | None = None
        self.offering: list[Therapist] = []
        self.therapists: list[Therapist] = []
        self.any_therapist = False
        self.start_at: datetime | None = None

    @property
    def last_bookable_day(self) -> dt.date:
        return self.today + timedelta(days=self.clinic.horizon_days)

    def clean_service(self) -> str:
        slug = self.cleaned_data.get("service") or ""
        if slug:
            self.options = selectors.service_options(slug)
            if not self.options:
                raise ValidationError("We don't offer that service. Please choose one from the list.", code="unknown")
        return slug

    def clean_date(self) -> dt.date | None:
        day = self.cleaned_data.get("date")
        if day is not None and not (self.today <= day <= self.last_bookable_day):
            raise ValidationError(
                f"Choose a day from today to {self.last_bookable_day:%B %-d, %Y}.", code="out_of_range"
            )
        return day

    def clean_start(self) -> str:
        value = self.cleaned_data.get("start") or ""
        if value:
            self.start_at = parse_aware_datetime(value)
        return value

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if not self.options:
            return cleaned
        service = self.chosen_service
        duration = cleaned.get("duration")
        slug = cleaned.get("therapist") or self.default_therapist
        if duration is None and "duration" not in self.errors:
            if self.always_default_length or len(self.options) == 1 or slug or self.start_at:
                self.option = selectors.default_option(self.options)
        elif duration is not None:
            self.option = selectors.option_of_length(self.options, duration)
            if self.option is None:
                lengths = selectors.lengths_text(self.options)
                self.add_error("duration", f"{service.name} is offered for {lengths} minutes.")
        if slug or self.option:
            self.offering = selectors.therapists_for(service)
        if slug == ANY_THERAPIST:
            self.any_therapist = True
            self.therapists = self.offering
        elif slug:
            self.therapists = [t for t in self.offering if t.slug == slug]
            if not self.therapists:
                self.add_error("therapist", f"That therapist does not offer {service.name}. Choose another.")
        return cleaned

    @property
    def chosen_service(self):
        return self.options[0].service if self.options else None

    @property
    def chosen_therapist(self) -> Therapist | None:
        """The chosen therapist, or None for no preference."""
        return None if self.any_therapist or not self.therapists else self.therapists[0]

    @property
    def therapist_chosen(self) -> bool:
        return bool(self.therapists) or self.any_therapist

    @property
    def therapist_param(self) -> str:
        """The therapist as the flow's links carry it: a slug, or "any"."""
        chosen = self.chosen_therapist
        return chosen.slug if chosen is not None else ANY_THERAPIST

    def chosen_option(self) -> ServiceOption:
        """The length chosen; only asked for once the flow is past that step."""
        if self.option is None:
            raise ValueError("No service length has been chosen yet.")
        return self.option

    def chosen_start(self) -> datetime:
        """The start chosen; only asked for once the flow is past that step."""
        if self.start_at is None:
            raise ValueError("No start time has been chosen yet.")
        return self.start_at

    def search(self, first_day: dt.date, days: int) -> SlotSearch:
        return SlotSearch(option=self.chosen_option(), therapists=self.therapists, first_day=first_day, days=days)


class AvailabilityQueryForm(SelectionForm):
    """GET /api/availability/: service and date required; duration, therapist and days optional."""

    service = forms.SlugField(max_length=100)
    date = forms.DateField(input_formats=["%Y-%m-%d"])
    days = forms.IntegerField(required=False, min_value=1)
    start = None  # type: ignore[assignment]  # the API takes no start time

    default_therapist = ANY_THERAPIST
    always_default_length = True

    def clean_days(self) -> int:
        days = self.cleaned_data.get("days") or 1
        if days > self.clinic.horizon_days:
            raise ValidationError(f"Ask for at most {self.clinic.horizon_days} days.", code="max_value")
        return days


# A patient's name, phone and the form's one-time key, asked the same way when booking and joining the waitlist.


def full_name_field() -> forms.CharField:
    return forms.CharField(
        label="Full name", max_length=120, validators=[name_validator], widget=forms.TextInput({"autocomplete": "name"})
    )


def contact_phone_field() -> PhoneNumberField:
    return PhoneNumberField(
        max_length=25,
        widget=forms.TextInput({"autocomplete": "tel", "type": "tel"}),
        error_messages={"invalid": "Enter a phone number we can reach you at, e.g. 416-555-0134."},
    )


def request_key_field() -> forms.CharField:
    """A key the page makes once, so a form sent twice does its work once."""
    return forms.CharField(max_length=64, widget=forms.HiddenInput, validators=[RegexValidator(r"^[\w-]+$")])


def clean_full_name(value: str) -> str:
    """The name with its spaces tidied; a single letter is not a full name."""
    name = " ".join(value.split())
    if len(name) < 2:
        raise ValidationError("Enter your full name.", code="short")
    return name


class PatientDetailsForm(forms.Form):
    name = full_name_field()
    email = forms.EmailField(
        max_length=254,
        help_text="We send your confirmation and private link here.",
        widget=forms.EmailInput({"autocomplete": "email"}),
    )
    phone = contact_phone_field()
    text_reminders = forms.BooleanField(
        label="Text me a reminder",
        required=False,
        help_text="Optional. A short text to this number before your session; reply STOP at any time to stop.",
    )
    date_of_birth = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        help_text="Optional.",
        widget=forms.DateInput({"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
    )
    note = forms.CharField(
        label="Anything your therapist should know?",
        required=False,
        max_length=1000,
        widget=forms.Textarea({"rows": 3}),
        help_text="Optional. You will fill the full health form before your first visit.",
    )
    request_key = request_key_field()
    website = honeypot_field()

    def __init__(self, *args, today: dt.date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_name(self) -> str:
        return clean_full_name(self.cleaned_data["name"])

    def clean_date_of_birth(self) -> dt.date | None:
        born = self.cleaned_data.get("date_of_birth")
        if born is not None and not (self.today - timedelta(days=365 * 120) <= born <= self.today):
            raise ValidationError("Enter a real date of birth.", code="out_of_range")
        return born


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Reason (optional)", required=False, max_length=500, widget=forms.Textarea({"rows": 2})
    )
