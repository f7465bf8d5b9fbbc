"""The patient's side of the waitlist: joining it (/waitlist/join/), their place on it (/waitlist/<token>/, where
they can leave), and an offered time (/waitlist/offers/<token>/, where they book it).

Views parse input with the forms and call booking.waitlist_services; the links are the patient's only keys.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from booking import selectors, services, waitlist, waitlist_selectors, waitlist_services
from booking.errors import BookingError
from booking.forms import ANY_THERAPIST
from booking.models import WaitlistEntry, WaitlistOffer
from booking.views.day_strip import clinic_and_clock
from booking.waitlist_forms import WaitlistJoinForm, initial_choice
from clinic import honeypot, ratelimit
from therapists.models import Therapist

REFUSED = 409


def _join_form(request: HttpRequest, data=None) -> WaitlistJoinForm:
    options = selectors.bookable_options()
    therapists = list(selectors.active_therapists().order_by("order", "name", "pk"))
    initial = {"request_key": secrets.token_urlsafe(24), **initial_choice(request.GET, options, therapists)}
    return WaitlistJoinForm(
        data,
        initial=initial,
        options=options,
        therapists=therapists,
        open_parts=waitlist_selectors.open_parts(),
    )


@never_cache
@require_http_methods(["GET", "POST"])
def waitlist_join(request: HttpRequest) -> HttpResponse:
    _, now, _ = clinic_and_clock(request)
    if request.method != "POST":
        return render(request, "booking/waitlist_join.html", {"form": _join_form(request)})
    if honeypot.filled(request.POST):
        return honeypot.refuse(request)
    form = _join_form(request, request.POST)
    if not form.is_valid():
        context: dict = {"form": form}
        if "request_key" in form.errors:
            # A damaged form key: a fresh one, what was typed kept, and a word to send it again.
            resent = request.POST.copy()
            resent["request_key"] = secrets.token_urlsafe(24)
            context["form"] = form = _join_form(request, resent)
            form.is_valid()
            context["error"] = "Something went wrong with the form. Please check it and send it again."
        return render(request, "booking/waitlist_join.html", context, status=400)
    data = form.cleaned_data
    if refused := ratelimit.guard(
        request, address="waitlist_address", per="waitlist_contact", values=[data["email"], data["phone"]]
    ):
        return refused
    try:
        outcome = waitlist_services.waitlist_join(
            option=data["option"],
            therapist=data["therapist"],
            patient=services.PatientDetails(name=data["name"], email=data["email"], phone=data["phone"]),
            suits=data["suits"],
            note=data["note"],
            now=now,
            request_key=data["request_key"],
        )
    except BookingError as error:
        return render(request, "booking/waitlist_join.html", {"form": form, "error": error.message}, status=REFUSED)
    if not outcome.created:
        # Their place is not shown here: whoever typed a name and an email must not see someone else's link.
        return render(request, "booking/waitlist_already.html", {"email": outcome.entry.patient.email})
    return redirect(outcome.entry.private_link_path() + "?joined=1")


def _entry_or_404(token: str) -> WaitlistEntry:
    entry = waitlist_selectors.entry_by_token(token)
    if entry is None:
        raise Http404("No place on the waitlist matches this link.")
    return entry


def _book_url(service_slug: str, minutes: int, therapist: Therapist | None) -> str:
    query = {"service": service_slug, "duration": minutes, "therapist": therapist.slug if therapist else ANY_THERAPIST}
    return reverse("book") + "?" + urlencode(query)


@never_cache
@require_http_methods(["GET"])
def waitlist_entry(request: HttpRequest, token: str) -> HttpResponse:
    clinic, now, _ = clinic_and_clock(request)
    entry = _entry_or_404(token)
    open_offer = entry.offers.filter(status=WaitlistOffer.Status.OPEN, expires_at__gt=now).first()
    return render(
        request,
        "booking/waitlist_entry.html",
        {
            "entry": entry,
            "suits_text": waitlist.describe(entry.suits),
            "open_offer": open_offer,
            "just_joined": request.GET.get("joined") == "1",
            "book_url": _book_url(entry.service.slug, entry.duration_minutes, entry.therapist),
            "entry_url": request.build_absolute_uri(entry.private_link_path()),
        },
    )


@never_cache
@require_POST
def waitlist_leave(request: HttpRequest, token: str) -> HttpResponse:
    _, now, _ = clinic_and_clock(request)
    entry = _entry_or_404(token)
    if refused := ratelimit.guard(request, address="link_address", per="link_token", values=[token]):
        return refused
    try:
        waitlist_services.waitlist_leave(entry=entry, now=now)
    except BookingError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "You've left the waitlist. We won't email you about new times.")
    return redirect(entry.private_link_path())


def _offer_or_404(token: str) -> WaitlistOffer:
    offer = waitlist_selectors.offer_by_token(token)
    if offer is None:
        raise Http404("No offer matches this link.")
    return offer


def _offer_page(request: HttpRequest, offer: WaitlistOffer, *, error: BookingError | None = None, status: int = 200):
    _, now, _ = clinic_and_clock(request)
    entry = offer.entry
    state = offer.status
    if state == WaitlistOffer.Status.OPEN and offer.expires_at <= now:
        state = WaitlistOffer.Status.EXPIRED
    return render(
        request,
        "booking/waitlist_offer.html",
        {
            "offer": offer,
            "entry": entry,
            "state": state,
            "error": error,
            "book_url": _book_url(entry.service.slug, entry.duration_minutes, entry.therapist),
            "price": getattr(
                waitlist_selectors.option_for_length(entry.service_id, entry.duration_minutes), "price", None
            ),
        },
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def waitlist_offer(request: HttpRequest, token: str) -> HttpResponse:
    offer = _offer_or_404(token)
    if request.method != "POST":
        return _offer_page(request, offer)
    _, now, _ = clinic_and_clock(request)
    if refused := ratelimit.guard(request, address="link_address", per="link_token", values=[token]):
        return refused
    try:
        appointment = waitlist_services.offer_claim(offer=offer, now=now)
    except BookingError as error:
        offer.refresh_from_db(fields=["status", "closed_at"])
        status = 503 if error.code == "busy" else REFUSED
        return _offer_page(request, offer, error=error, status=status)
    return redirect(reverse("appointment_manage", args=[appointment.manage_token]) + "?booked=1")
