"""Checks on a service's lengths in the admin panel."""

from __future__ import annotations

from django import forms


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
