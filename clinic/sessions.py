"""Staff sessions end after a while without use (`ClinicSettings.staff_session_minutes`, 30 by default) and when the
browser closes (`SESSION_EXPIRE_AT_BROWSER_CLOSE`).

The time of the last request is kept in the session, rewritten at most once a minute so a busy front desk does
not write its session row on every click; a staff member is therefore logged out between N and N + 1 minutes after
their last request. Patients have no login, so none of this touches them: a visitor without one costs nothing here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from clinic.context_processors import clinic_for

LAST_SEEN = "clinic.last_seen"
# Seconds between two writes of LAST_SEEN.
RESOLUTION = 60


def _now() -> int:
    return int(timezone.now().timestamp())


class StaffSessionTimeoutMiddleware:
    """Log out a staff member idle for longer than the clinic's policy, and send them to log in again with a message
    and `next=` the page they asked for. Goes after the authentication and message middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = _now()
            last_seen = request.session.get(LAST_SEEN)
            minutes = clinic_for(request).staff_session_minutes
            # No time at all: a session from before this rule, which may be two weeks old.
            if not isinstance(last_seen, int) or now - last_seen > minutes * 60:
                logout(request)
                messages.info(
                    request,
                    f"You were logged out after {minutes} minutes without using the site. "
                    "Log in again to carry on where you were.",
                )
                return redirect_with_next(request, reverse("login"))
            # Never moved back: with several app servers whose clocks differ by a second, the latest time wins.
            if now - last_seen >= RESOLUTION:
                request.session[LAST_SEEN] = now
        return self.get_response(request)


@receiver(user_logged_in, dispatch_uid="clinic.sessions.start_the_clock")
def start_the_clock(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    if session is not None:
        session[LAST_SEEN] = _now()


def redirect_with_next(request: HttpRequest, url: str) -> HttpResponse:
    """Send the browser to `url` (the login page, a two-factor step) with `next=` the page to come back to.

    That is the page asked for; for an htmx request, the page it was made from (not the fragment); for a form sent
    with POST, nothing (the landing page follows), since coming back means a GET the form's address may refuse.
    """
    htmx = request.headers.get("HX-Request") == "true"
    back: str | None = None
    if htmx:
        current = request.headers.get("HX-Current-URL", "")
        if url_has_allowed_host_and_scheme(current, allowed_hosts={request.get_host()}):
            parts = urlsplit(current)
            back = parts.path + (f"?{parts.query}" if parts.query else "")
    elif request.method in ("GET", "HEAD"):
        back = request.get_full_path()
    target = redirect_to_login(back, url).url if back else url
    if htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return HttpResponseRedirect(target)
