"""The schedule's navigation and, for managers, whose schedule it is: on every page under /schedule/.

Template tags rather than view context, so every schedule page gets them from therapists/schedule/base.html,
whoever wrote its view. Links to pages that are not there yet (their URL name does not resolve) are left out.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from booking import selectors
from clinic import permissions
from therapists.access import THERAPIST_PARAMETER, query_string, schedule_query
from therapists.models import Therapist

register = template.Library()

# URL name, label, and the URL names (by prefix) under which the link is the current page.
NAV = (
    ("schedule:today", "Today", ("today", "appointment")),
    ("schedule:week", "Week", ("week",)),
    ("schedule:time_off", "Time off", ("time_off",)),
    ("schedule:feed_settings", "Calendar feed", ("feed_settings", "feed_replace")),
)


def _therapist(context: template.Context) -> Therapist | None:
    """The schedule's therapist: as the view passed it, or as the schedule's access rule picks it."""
    found = context.get("therapist")
    if isinstance(found, Therapist):
        return found
    request: HttpRequest = context["request"]
    return permissions.schedule_owner(request.user, request.GET.get(THERAPIST_PARAMETER))


@register.inclusion_tag("therapists/schedule/_nav.html", takes_context=True)
def schedule_nav(context: template.Context) -> dict[str, Any]:
    request: HttpRequest = context["request"]
    keep = context.get("keep")
    if keep is None:
        keep = schedule_query(request.user, _therapist(context))
    match = request.resolver_match
    current = match.url_name if match and match.namespace == "schedule" else ""
    links = []
    for name, label, pages in NAV:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        links.append(
            {
                "url": url + query_string(keep),
                "label": label,
                "current": any((current or "").startswith(page) for page in pages),
            }
        )
    return {"links": links}


@register.inclusion_tag("therapists/schedule/_picker.html", takes_context=True)
def schedule_picker(context: template.Context) -> dict[str, Any]:
    """For managers only: a select of every therapist, on the same page (the agenda for an appointment's page)."""
    request: HttpRequest = context["request"]
    if not permissions.is_manager(request.user):
        return {"show": False}
    match = request.resolver_match
    same_page = match is not None and match.namespace == "schedule" and match.url_name in ("today", "week")
    day = request.GET.get("date", "") if same_page else ""
    return {
        "show": True,
        "action": request.path if same_page else reverse("schedule:today"),
        "day": day[:10],
        "chosen": _therapist(context),
        "therapists": selectors.schedule_therapists(),
    }
