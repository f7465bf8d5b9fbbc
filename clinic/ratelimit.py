"""Abuse limits on the public doors: booking, the private links, the waitlist, the reminder links and the API.

Each limit has a name and a rate ("10/h": ten tries an hour) in settings.RATE_LIMITS; a view counts a try with
`guard` against a limit per client address (clinic.client_address) and, where it has one, per email, phone or
private-link token, and answers 429 (a page, or JSON for the API and htmx) with Retry-After once any is over.

The counting is django-ratelimit's `get_usage`: a fixed window per key, incremented atomically in the configured
cache (CACHES, from CLINIC_CACHE_URL: Redis in production, so every app server sees the same counts), with the
key hashed, so no email, phone or token is written to the cache, and IPv6 addresses counted per /64 network, as
one household or phone holds a whole one. This module only names the limits and turns "over" into an answer.

A cache that cannot be reached lets the request through (and logs it): a Redis outage must not stop patients
from booking; the booking cap and the database's own rules still hold.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django_ratelimit.core import get_usage  # type: ignore[import-untyped]

from clinic.faults import wants_json

logger = logging.getLogger(__name__)

JSON_MESSAGE = "Too many tries in a short time. Please wait {wait} and try again, or call the clinic."


@dataclass(frozen=True)
class Over:
    """A limit that this try went over, and how long until its window ends."""

    name: str
    retry_after: int


def _count(request: HttpRequest, name: str, value: str | None) -> Over | None:
    rate = settings.RATE_LIMITS.get(name)
    if not rate or rate == "off":
        return None
    # "ip" is django-ratelimit's address key: clinic.client_address (through RATELIMIT_IP_META_KEY), IPv6 per /64.
    key = "ip" if value is None else (lambda group, request: value)
    try:
        usage = get_usage(request, group=f"clinic:{name}", key=key, rate=rate, increment=True)
    except Exception:
        # A cache outage (Redis down) must not turn a booking into an error page: count nothing, say so in the log.
        logger.warning("Rate limit %s not counted: the cache could not be reached", name, exc_info=True)
        return None
    if usage is None or not usage["should_limit"]:
        return None
    if usage["limit"] == 0:  # django-ratelimit's answer when the cache lost the count: let the request through
        logger.warning("Rate limit %s not counted: the cache lost its count", name)
        return None
    return Over(name, max(1, int(usage["time_left"])))


def _normal(value: object) -> str:
    """Emails in any case, phone numbers in any format and tokens as they are: one key per person or link."""
    as_e164 = getattr(value, "as_e164", None)
    text = str(as_e164 or value).strip()
    return text.lower() if "@" in text else text


def guard(
    request: HttpRequest, *, address: str, per: str | None = None, values: Iterable[object] = ()
) -> HttpResponse | None:
    """Count one try against the limit `address` for the client's address and against `per` for each of `values`
    (emails, phones or tokens); return the 429 answer when any of them is over, else None.

    Every limit is counted even once one is over, so a client that keeps trying stays over all of them.
    """
    over = [_count(request, address, None)]
    if per is not None:
        over += [_count(request, per, f"{per}:{_normal(value)}") for value in values if value]
    refused = [item for item in over if item is not None]
    if not refused:
        return None
    return too_many_tries(request, max(item.retry_after for item in refused))


def _wait_text(seconds: int) -> str:
    if seconds < 90:
        return "a minute"
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return f"{minutes} minutes"
    return f"{math.ceil(minutes / 60)} hours"


def too_many_tries(request: HttpRequest, retry_after: int) -> HttpResponse:
    """429 with Retry-After: a page people read, or `{"errors": ...}` for the API and htmx requests."""
    wait = _wait_text(retry_after)
    response: HttpResponse
    if wants_json(request, htmx=True):
        response = JsonResponse({"errors": {"__all__": [JSON_MESSAGE.format(wait=wait)]}}, status=429)
    else:
        response = render(request, "429.html", {"wait": wait}, status=429)
    response["Retry-After"] = str(retry_after)
    return response
