"""GET /api/availability/: free times as JSON, for the site's own pages and for integrations."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from booking import selectors
from booking.forms import AvailabilityQueryForm
from clinic import ratelimit
from clinic.context_processors import clinic_for


@require_GET
def availability(request: HttpRequest) -> HttpResponse:
    if refused := ratelimit.guard(request, address="api_address"):
        return refused
    now = timezone.now()
    clinic = clinic_for(request)
    tz = clinic.tz
    form = AvailabilityQueryForm(request.GET, clinic=clinic, today=now.astimezone(tz).date())
    if not form.is_valid():
        errors = {
            field: [error["message"] for error in errors] for field, errors in form.errors.get_json_data().items()
        }
        return JsonResponse({"errors": errors}, status=400)
    slots = selectors.free_slots(form.search(form.cleaned_data["date"], form.cleaned_data["days"]), clinic, now)
    return JsonResponse(
        {
            "timezone": clinic.time_zone,
            "service": form.chosen_option().service.slug,
            "duration": form.chosen_option().duration_minutes,
            "slots": [
                {
                    "start": slot.start.astimezone(tz).isoformat(),
                    "end": slot.end.astimezone(tz).isoformat(),
                    "therapist": slot.therapist.slug,
                }
                for slot in slots
            ],
        }
    )
