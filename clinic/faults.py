"""What visitors get when the database cannot be reached: a short 503 that needs no database, never a traceback.

`DatabaseFaultMiddleware` answers for errors raised in views and templates; `server_error` (the site's handler500)
answers for those raised anywhere else, such as the clinic's time zone middleware or the session being saved.
Pages get 503.html, which reads the clinic's name and phone from settings (CLINIC_NAME, CLINIC_PHONE) instead of
the database; the API and the JSON feeds get `{"errors": ...}`. Both say when to try again (Retry-After).

Nothing here holds on to a connection: Django closes a connection that had an error once its request ends
(`close_if_unusable_or_obsolete`) and checks a kept one before reusing it (CONN_HEALTH_CHECKS), so the first
request after the database comes back is served normally. A lock that cannot be had in time is not a fault:
booking.locks turns it into "busy, try again" before it gets here.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30
JSON_MESSAGE = "The clinic's calendar is unavailable for a moment. Please try again in a minute."

# Addresses that answer JSON whatever the client asks for: the API and the calendars' feeds.
JSON_PATHS = ("/api/", "/frontdesk/events/", "/frontdesk/resources/", "/schedule/events/")


def wants_json(request: HttpRequest, *, htmx: bool = False) -> bool:
    """Whether an error should be JSON: the API and JSON feeds, a client that asks for JSON, and (with `htmx`)
    htmx's own requests from inside a page; a boosted link or form is a page and gets a page."""
    path = request.path_info
    if path.startswith(JSON_PATHS) or path.endswith(".json"):
        return True
    if "application/json" in request.headers.get("Accept", ""):
        return True
    return htmx and request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """503, rendered without touching the database: no session, no user, no clinic settings row."""
    response: HttpResponse
    if wants_json(request):
        response = JsonResponse({"errors": {"__all__": [JSON_MESSAGE]}}, status=503)
    else:
        context = {"clinic_name": settings.CLINIC_NAME, "clinic_phone": settings.CLINIC_PHONE}
        response = HttpResponse(render_to_string("503.html", context), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _log(request: HttpRequest, error: BaseException) -> None:
    logger.error("Database unavailable for %s %s: %s", request.method, request.path, error, exc_info=error)


class DatabaseFaultMiddleware:
    """Turns a database that cannot be reached (OperationalError, InterfaceError) in a view into a 503."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DATABASE_ERRORS):
            return None
        _log(request, exception)
        return database_unavailable(request)


def server_error(request: HttpRequest) -> HttpResponse:
    """The site's 500 handler: a database fault outside a view (in a middleware) still gets the 503."""
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_ERRORS):
        return database_unavailable(request)
    return defaults.server_error(request)
