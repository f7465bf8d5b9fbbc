"""The message log's filters: status, kind, channel, a search for a recipient or a patient, and the page."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms

from notifications.models import OutboundMessage
from notifications.selectors import LogFilters

MAX_QUERY = 100


def _any(label: str, choices) -> list[tuple[str, str]]:
    return [("", label), *choices]


class MessageFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=_any("Any status", OutboundMessage.Status.choices),
        error_messages={"invalid_choice": "Choose a status from the list."},
    )
    kind = forms.ChoiceField(
        label="Kind",
        required=False,
        choices=_any("Any kind", OutboundMessage.Kind.choices),
        error_messages={"invalid_choice": "Choose a kind of message from the list."},
    )
    channel = forms.ChoiceField(
        label="Channel",
        required=False,
        choices=_any("Email or text", OutboundMessage.Channel.choices),
        error_messages={"invalid_choice": "Choose email or text message."},
    )
    q = forms.CharField(
        label="To or about",
        required=False,
        max_length=MAX_QUERY,
        error_messages={"max_length": f"Search with at most {MAX_QUERY} characters."},
        widget=forms.TextInput({"type": "search", "placeholder": "Email, phone or patient's name"}),
    )
    page = forms.IntegerField(
        required=False,
        min_value=1,
        error_messages={"invalid": "The page is a whole number.", "min_value": "Pages start at 1."},
    )

    def clean_q(self) -> str:
        return " ".join(self.cleaned_data["q"].split())

    def filters(self) -> LogFilters:
        data = self.cleaned_data
        return LogFilters(status=data["status"], kind=data["kind"], channel=data["channel"], q=data["q"])

    def query_without_page(self) -> str:
        """The filters as a query string for the page links (valid data only)."""
        data = self.cleaned_data
        return urlencode({key: data[key] for key in ("status", "kind", "channel", "q") if data.get(key)})
