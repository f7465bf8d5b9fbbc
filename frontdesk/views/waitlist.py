"""The waitlist at the front desk: everyone waiting in order of joining, with what suits them and the times offered
to them; taking an entry off, and offering a free time to one patient by hand.

The writes are booking.waitlist_services'; staff pages never link to a patient's own waitlist or offer page.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from booking import waitlist, waitlist_selectors, waitlist_services
from booking.errors import BookingError
from booking.models import WaitlistEntry
from booking.waitlist_forms import HandOfferForm
from clinic.context_processors import clinic_for
from frontdesk.access import actor_for, front_desk_required

REFUSED = 409
BUSY = 503
# How far ahead the hand offer page looks for free times.
OFFER_DAYS = 14


def _row(entry: WaitlistEntry) -> dict:
    return {"entry": entry, "suits": waitlist.describe(entry.suits), "offers": list(entry.offers.all())}


@front_desk_required
@require_http_methods(["GET", "HEAD"])
def waitlist_page(request: HttpRequest) -> HttpResponse:
    active, closed = waitlist_selectors.waitlist_for_front_desk(timezone.now())
    return render(
        request,
        "frontdesk/waitlist.html",
        {"rows": [_row(entry) for entry in active], "closed": [_row(entry) for entry in closed]},
    )


def _entry_or_404(pk: int) -> WaitlistEntry:
    entry = waitlist_selectors.entry_for_front_desk(pk)
    if entry is None:
        raise Http404("No such waitlist entry.")
    return entry


@front_desk_required
@require_POST
def waitlist_remove(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _entry_or_404(pk)
    try:
        waitlist_services.waitlist_remove(entry=entry, now=timezone.now(), actor=actor_for(request))
    except BookingError as error:
        messages.error(request, f"{entry.patient.name}: {error.message}")
    else:
        messages.success(request, f"Took {entry.patient.name} off the waitlist for {entry.service.name}.")
    return redirect("frontdesk:waitlist")


@front_desk_required
@require_http_methods(["GET", "HEAD", "POST"])
def waitlist_offer(request: HttpRequest, pk: int) -> HttpResponse:
    """GET lists the free times the patient could be offered; POST offers one of them by email."""
    entry = _entry_or_404(pk)
    clinic = clinic_for(request)
    now = timezone.now()
    status = 200
    error = ""
    if request.method == "POST":
        form = HandOfferForm(request.POST)
        therapist = waitlist_selectors.therapist_for_offer(form.cleaned_data["therapist"]) if form.is_valid() else None
        if therapist is None:
            error, status = "Choose one of the free times listed.", 400
        else:
            try:
                start = form.cleaned_data["start"]
                actor = actor_for(request)
                offer = waitlist_services.offer_by_hand(
                    entry=entry, therapist=therapist, start=start, now=now, actor=actor
                )
            except BookingError as refusal:
                error, status = refusal.message, BUSY if refusal.code == "busy" else REFUSED
            else:
                when = timezone.localtime(offer.start, clinic.tz)
                messages.success(
                    request,
                    f"Offered {when:%a %-d %b, %-I:%M %p} with {offer.therapist.name} to {entry.patient.name}; "
                    "we've emailed them the link.",
                )
                return redirect("frontdesk:waitlist")
    option = waitlist_selectors.option_for_length(entry.service_id, entry.duration_minutes)
    by_day: dict[tuple, dict] = {}
    if option is not None and entry.is_active:
        today = timezone.localdate(now, clinic.tz)
        for found in waitlist_selectors.times_to_offer(entry, option, today, OFFER_DAYS, clinic, now):
            day = timezone.localtime(found.slot.start, clinic.tz).date()
            row = by_day.setdefault((day, found.slot.therapist.pk), {"day": day, "therapist": found.slot.therapist})
            row.setdefault("times", []).append(found)
    # A row a day and therapist, soonest first; a day with nothing that suits the patient after those that do.
    rows = sorted(
        by_day.values(),
        key=lambda row: (not any(time.suits for time in row["times"]), row["day"], row["therapist"].order),
    )
    return render(
        request,
        "frontdesk/waitlist_offer.html",
        {
            "entry": entry,
            "suits": waitlist.describe(entry.suits),
            "rows": rows,
            "error": error,
            "days": OFFER_DAYS,
        },
        status=status,
    )
