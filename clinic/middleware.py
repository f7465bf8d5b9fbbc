from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from clinic.context_processors import clinic_for


class ClinicTimeZoneMiddleware:
    """Show and read times in the clinic's own zone (a policy in the admin), on every page including the admin.

    The clinic row is loaded once per request and shared with the views and templates.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        timezone.activate(clinic_for(request).tz)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
