"""The front desk is for receptionists and managers: anyone else is sent to log in, or refused."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from booking.actors import Actor, Via
from clinic import permissions


def front_desk_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous visitors go to the login page; logged-in staff without the front desk role get 403."""

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not permissions.works_front_desk(request.user):
            raise PermissionDenied("The front desk is for receptionists and managers.")
        return view(request, *args, **kwargs)

    return guarded


def actor_for(request: HttpRequest) -> Actor:
    return Actor.staff(request.user, Via.FRONT_DESK)
