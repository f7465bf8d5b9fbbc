"""Forms of the patient pages: the search box, a patient's contact details, and the choice of a record to merge."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils import timezone
from phonenumber_field.formfields import PhoneNumberField

from booking.models import Patient
from booking.services import PatientDetails

# Longer than any name, email or phone number anyone types; patient_search reads no further either.
MAX_QUERY = 100
OLDEST_BIRTH_YEAR = 1900


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        label="Find a patient",
        required=False,
        max_length=MAX_QUERY,
        error_messages={"max_length": f"Search with at most {MAX_QUERY} characters."},
    )
    page = forms.IntegerField(required=False, min_value=1)

    def clean_q(self) -> str:
        return " ".join(self.cleaned_data["q"].split())


class PatientForm(forms.ModelForm):
    """A patient's contact details as the front desk edits them; the phone in any usual format."""

    phone = PhoneNumberField(
        label="Phone",
        help_text="Any usual format, e.g. 416-555-0108 or (416) 555-0108.",
        error_messages={"invalid": "Enter a phone number that can be dialled, e.g. 416-555-0134."},
        widget=forms.TextInput({"type": "tel", "autocomplete": "off"}),
    )

    class Meta:
        model = Patient
        fields = ["name", "email", "phone", "date_of_birth"]
        labels = {"name": "Full name", "date_of_birth": "Date of birth"}
        help_texts = {"date_of_birth": "Optional."}
        widgets = {
            "name": forms.TextInput({"autocomplete": "off"}),
            "email": forms.EmailInput({"autocomplete": "off"}),
            "date_of_birth": forms.DateInput({"type": "date"}, format="%Y-%m-%d"),
        }

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Enter the patient's name.")
        return name

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip()

    def clean_date_of_birth(self) -> date | None:
        born = self.cleaned_data.get("date_of_birth")
        if born is None:
            return None
        if born > timezone.localdate():
            raise forms.ValidationError("The date of birth cannot be in the future.")
        if born.year < OLDEST_BIRTH_YEAR:
            raise forms.ValidationError(f"Check the year: it is before {OLDEST_BIRTH_YEAR}.")
        return born

    def details(self) -> PatientDetails:
        data = self.cleaned_data
        return PatientDetails(
            name=data["name"], email=data["email"], phone=data["phone"], date_of_birth=data["date_of_birth"]
        )


class MergeForm(forms.Form):
    """The record to fold into the one whose page this is."""

    duplicate = forms.ModelChoiceField(
        queryset=Patient.objects.all(),
        widget=forms.HiddenInput,
        error_messages={
            "required": "Choose the duplicate record first.",
            "invalid_choice": "That record no longer exists; it may have been merged already.",
        },
    )
