"""A honeypot on the public forms: a text box people never see or reach, which form-filling robots fill in.

The box is moved off screen by a class in site.css (not `display: none`, which many robots skip), taken out of
the tab order and hidden from screen readers, and its label asks to leave it empty in case anyone meets it. A
form sent with it filled gets a neutral 400 and nothing is written; it gives no hint of what gave it away.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

FIELD_NAME = "website"


class HoneypotInput(forms.TextInput):
    template_name = "clinic/widgets/honeypot.html"

    def __init__(self) -> None:
        super().__init__({"autocomplete": "off", "tabindex": "-1"})

    @property
    def is_hidden(self) -> bool:
        # Rendered without a label or wrapper of its own by crispy and Django's form layouts: the template has both.
        return True


def honeypot_field() -> forms.CharField:
    return forms.CharField(required=False, max_length=200, widget=HoneypotInput(), label="Leave this empty")


def filled(data: Mapping[str, Any]) -> bool:
    """Whether the submitted form (request.POST) has anything in the honeypot."""
    return bool(str(data.get(FIELD_NAME, "")).strip())


def refuse(request: HttpRequest) -> HttpResponse:
    """The same 400 page as any request we cannot read."""
    return render(request, "400.html", status=400)
