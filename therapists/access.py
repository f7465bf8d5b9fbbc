"""The schedule is for therapists (each their own) and managers (any therapist, picked with ?therapist=<slug>)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict

from booking.actors import Actor, Via
from clinic import permissions
from therapists.models import Therapist

THERAPIST_PARAMETER = "therapist"


def schedule_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Call `view(request, therapist, ...)` with the therapist whose schedule this is.

    Anonymous visitors go to the login page; a therapist asking for a colleague's schedule gets 404 (as if
    it did not exist); anyone who is neither a therapist nor a manager gets 403.
    """

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if permissions.therapist_of(request.user) is None and not permissions.is_manager(request.user):
            raise PermissionDenied("The schedule is for therapists and the clinic's managers.")
        therapist = permissions.schedule_owner(request.user, request.GET.get(THERAPIST_PARAMETER))
        if therapist is None:
            raise Http404("No such schedule.")
        return view(request, therapist, *args, **kwargs)

    return guarded


def schedule_query(user: Any, therapist: Therapist | None) -> QueryDict:
    """What every schedule link carries: for a manager the therapist they picked; for a therapist nothing."""
    query = QueryDict(mutable=True)
    if therapist is not None and permissions.is_manager(user):
        query[THERAPIST_PARAMETER] = therapist.slug
    return query


def query_string(keep: QueryDict, **params: Any) -> str:
    """`?...` with the schedule's own parameters (`keep`) and these, or "" when there are none."""
    query = keep.copy()
    for key, value in params.items():
        query[key] = str(value)
    return f"?{query.urlencode()}" if query else ""


def actor_for(request: HttpRequest) -> Actor:
    return Actor.staff(request.user, Via.SCHEDULE)
