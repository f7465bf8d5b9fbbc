"""The therapist's calendar subscription: the feed itself (reached by its token, no login), the page that
shows its link, and replacing the link.

Nothing here logs the token: the page and the feed carry it only in their responses.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from booking import selectors
from clinic import permissions
from clinic.context_processors import clinic_for
from therapists import feed, services
from therapists.access import actor_for, query_string, schedule_query, schedule_view
from therapists.models import Therapist


@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """GET /schedule/feed/<token>.ics: the therapist's appointments from 7 days back to the horizon."""
    therapist = selectors.therapist_by_feed_token(token)
    if therapist is None:
        raise Http404("No such calendar.")
    clinic = clinic_for(request)
    window = feed.feed_window(timezone.now(), clinic)
    body = feed.therapist_calendar(
        therapist=therapist,
        appointments=selectors.feed_appointments(therapist, *window),
        clinic=clinic,
        window=window,
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="schedule.ics"'
    # The body names patients: no shared cache may keep it, and search engines must not list the link.
    response["Cache-Control"] = "private, no-store, max-age=0"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _render_settings(request: HttpRequest, therapist: Therapist, *, status: int = 200, error: str = "") -> HttpResponse:
    feed_url = request.build_absolute_uri(reverse("schedule:feed", args=[therapist.feed_token]))
    keep = schedule_query(request.user, therapist)
    return render(
        request,
        "therapists/schedule/feed_settings.html",
        {
            "therapist": therapist,
            "keep": keep,
            "own": permissions.therapist_of(request.user) == therapist,
            "feed_url": feed_url,
            "webcal_url": "webcal://" + feed_url.split("://", 1)[1],
            "replace_url": reverse("schedule:feed_replace") + query_string(keep),
            "days_back": feed.DAYS_BACK,
            "horizon_days": clinic_for(request).horizon_days,
            "error": error,
        },
        status=status,
    )


@never_cache
@schedule_view
@require_safe
def feed_settings(request: HttpRequest, therapist: Therapist) -> HttpResponse:
    """/schedule/calendar-feed/: the subscription link, how to use it, and the button that replaces it."""
    return _render_settings(request, therapist)


@never_cache
@schedule_view
@require_POST
def feed_replace(request: HttpRequest, therapist: Therapist) -> HttpResponse:
    """Replace the link once the box saying the old one will stop working is ticked; back to the page."""
    if request.POST.get("confirm") != "yes":
        error = "Nothing was changed: tick the box to confirm, then replace the link."
        return _render_settings(request, therapist, status=400, error=error)
    try:
        services.feed_token_replace(therapist=therapist, actor=actor_for(request))
    except services.FeedTokenError as error:
        if error.code == "not_allowed":
            raise PermissionDenied(error.message) from error
        messages.error(request, error.message)
    else:
        messages.success(request, "The calendar link was replaced. The old one no longer works.")
    return redirect(reverse("schedule:feed_settings") + query_string(schedule_query(request.user, therapist)))
