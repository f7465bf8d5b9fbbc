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
    if getattr(request, "clinic_settings", None) is None:
        request.clinic_settings = ClinicSettings.load()
    return request.clinic_settings
