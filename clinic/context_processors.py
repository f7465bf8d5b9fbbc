from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from clinic.models import ClinicSettings


def clinic(request: HttpRequest) -> dict:
    """The clinic's name, contact details and policies for every template.

    Lazy, and reusing the row a view already loaded (`request.clinic_settings`),
    so a page pays at most one query for it.
    """
    return {"clinic": SimpleLazyObject(lambda: clinic_for(request))}


def clinic_for(request: HttpRequest) -> ClinicSettings:
    """The clinic's settings row, loaded at most once per request."""
    loaded = getattr(request, "clinic_settings", None)
    if loaded is None:
        loaded = ClinicSettings.load()
        setattr(request, "clinic_settings", loaded)  # noqa: B010 - HttpRequest declares no such attribute
    return loaded
