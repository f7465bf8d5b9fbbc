"""Lockout after repeated failed logins, with django-axes.

Axes counts failed logins in the database (so every app server sees the same count) by account and, separately,
by client address: five failures on one account lock that account from anywhere, and five failures from one
address lock every login from there, whichever accounts were tried. The lock lifts by itself after the cool-off
(`CLINIC_LOGIN_COOLOFF_MINUTES`) or when a manager unlocks the account (`account_unlock`). A successful login clears
that account's own failures, so a colleague's typos earlier in the day never add up to a lockout.

Settings: `AXES_*` in clinic/settings.py. The client's address is the one the rate limits count
(clinic/client_address.py: the proxy's header when `DJANGO_TRUSTED_PROXY_HEADER` names one); this module holds the
page a locked-out person sees and the unlocking.
"""

from __future__ import annotations

from typing import Any

from axes.helpers import get_cool_off
from axes.utils import reset
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def lockout_response(request: HttpRequest, original_response: HttpResponse | None, credentials: Any) -> HttpResponse:
    """What a locked-out login attempt gets: a page saying why and what to do, with 429 Too Many Requests."""
    cool_off = get_cool_off(request)
    minutes = int(cool_off.total_seconds() // 60) if cool_off else None
    response = render(request, "registration/lockout.html", {"cool_off_minutes": minutes}, status=429)
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response


def account_unlock(*, username: str) -> int:
    """Forget the failed logins of this account, from every address; returns how many records went.

    This is what a manager's "Unlock" does. Failures from one address on other accounts stay counted against
    that address.
    """
    return reset(username=username)


@receiver(user_logged_in, dispatch_uid="clinic.login_protection.forget_failures")
def forget_failures_on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """The right password clears the account's own failures (not the address's: logging in to one account must not
    wipe the count of guesses made at another from the same place)."""
    account_unlock(username=user.get_username())
