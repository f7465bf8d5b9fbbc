"""Two-factor authentication for staff: a six-digit code from an authenticator app (TOTP), with django-otp.

After the password, a login whose account has a confirmed authenticator is asked for its code; managers and
superusers must have one, so one of them without it is sent to set it up first. Until that second step is done the
session reaches nothing but the two-factor pages and "log out" (`TwoFactorMiddleware`): not the front desk, the
schedule, the admin panel, nor any other page, whatever later code forgets to check. Receptionists and therapists
may turn it on for themselves. Managers can remove a colleague's authenticator (a lost phone); superusers anyone's.

django-otp keeps the device (`TOTPDevice`: the secret, the last code used so no code works twice, and a growing
wait after each wrong code) and marks a verified session (`django_otp.login`); this module decides who must use it
and runs setup, verification and removal.
"""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET  # noqa: S405 - writes the SVG of a QR code; parses nothing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import django_otp
import qrcode
import qrcode.image.svg
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import policy
from clinic.sessions import redirect_with_next

# Set at login when the account needs its second step; cleared when the code is right.
SESSION_DUE = "clinic.two_factor_due"
DEVICE_NAME = "Authenticator app"
# A device being set up is unconfirmed until its first right code; it proves nothing before then.
SETUP_NAME = "Authenticator app (being set up)"

REQUIRED_ROLES = frozenset({policy.Role.MANAGER, policy.Role.SUPERUSER})


def required_for(user: Any) -> bool:
    """Managers and superusers cannot use the staff pages without an authenticator."""
    return policy.role_of(user) in REQUIRED_ROLES


def is_verified(user: Any) -> bool:
    """Whether this request's login has passed the second step (django-otp's OTPMiddleware tells)."""
    return bool(user.is_authenticated and user.is_verified())


def confirmed_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("-pk").first()


def may_remove_device(user: Any, account: Any) -> bool:
    """A manager may remove the authenticator of a staff account they manage; a superuser anyone's."""
    return policy.may_manage_superusers(user) or policy.may_manage_account(user, account)


# Which step a session still owes -----------------------------------------------------------------------------------

VERIFY, SET_UP = "verify", "setup"


def pending_step(request: HttpRequest) -> str | None:
    """`VERIFY` (enter a code), `SET_UP` (required but no authenticator yet), or None when nothing is owed."""
    user = request.user
    if not user.is_authenticated or is_verified(user):
        return None
    if not (request.session.get(SESSION_DUE) or required_for(user)):
        return None
    return VERIFY if confirmed_device(user) is not None else SET_UP


def _open_paths() -> set[str]:
    return {
        reverse("two_factor:verify"),
        reverse("two_factor:setup"),
        reverse("logout"),
        reverse("login"),
    }


class TwoFactorMiddleware:
    """Until the second step is done, every page but the two-factor ones and logging out sends the browser there.

    An allow-list rather than checks in each view: the front desk, the schedule, the admin panel and whatever is
    added later are all covered. Must come after django-otp's OTPMiddleware and the session timeout.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        step = pending_step(request)
        if step is not None and request.path_info not in _open_paths():
            return redirect_with_next(request, reverse(f"two_factor:{step}"))
        return self.get_response(request)


@receiver(user_logged_in, dispatch_uid="clinic.two_factor.ask_for_code")
def ask_for_code_after_password(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Remember, for this session, that the password was only the first step.

    Asked once at login, so a receptionist without an authenticator costs no query on each page; managers and
    superusers are checked on every request (by their role) anyway.
    """
    session = getattr(request, "session", None)
    if session is not None and (required_for(user) or confirmed_device(user) is not None):
        session[SESSION_DUE] = True


# Setting up, verifying, removing -----------------------------------------------------------------------------------


def device_being_set_up(user: Any) -> TOTPDevice:
    """The authenticator this user is setting up: kept until confirmed, so reloading the page shows the same code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=SETUP_NAME, confirmed=False)
    return device


@dataclass(frozen=True)
class Outcome:
    ok: bool
    # After wrong codes each try must wait longer (1, 2, 4, 8... seconds: django-otp's throttling); a try made too
    # soon is not checked at all, and this says when the next one may be.
    wait_until: datetime | None = None


def _throttled(device: TOTPDevice) -> Outcome | None:
    allowed, details = device.verify_is_allowed()
    if allowed:
        return None
    return Outcome(ok=False, wait_until=(details or {}).get("locked_until"))


def device_confirm(request: HttpRequest, *, code: str) -> Outcome:
    """Confirm the authenticator being set up with its first code: it replaces any older one, and this session
    counts as verified."""
    user = request.user
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk").first()
        if device is None:
            return Outcome(ok=False)
        throttled = _throttled(device)
        if throttled is not None:
            return throttled
        if not device.verify_token(code):
            return Outcome(ok=False)
        device.confirmed = True
        device.name = DEVICE_NAME
        device.save(update_fields=["confirmed", "name"])
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    _verified(request, device)
    return Outcome(ok=True)


def device_verify(request: HttpRequest, *, code: str) -> Outcome:
    """Check a code against the account's authenticator; when right, this session counts as verified."""
    device = confirmed_device(request.user)
    if device is None:
        return Outcome(ok=False)
    throttled = _throttled(device)
    if throttled is not None:
        return throttled
    verified = django_otp.verify_token(request.user, device.persistent_id, code)
    if verified is None:
        return Outcome(ok=False)
    _verified(request, verified)
    return Outcome(ok=True)


def _verified(request: HttpRequest, device: TOTPDevice) -> None:
    django_otp.login(request, device)
    request.session.pop(SESSION_DUE, None)
    # A new session key once the login is complete, as Django does after the password.
    request.session.cycle_key()


def device_remove(*, account: Any) -> int:
    """Remove every authenticator of `account` (lost phone, new phone); returns how many went.

    Their sessions stop counting as verified at once. A manager or superuser must then set up a new one at the next
    page they open; anyone else simply logs in with the password until they turn it on again.
    """
    deleted, _ = TOTPDevice.objects.filter(user=account).delete()
    return deleted


# What the setup page shows -----------------------------------------------------------------------------------------


def secret_of(device: TOTPDevice) -> str:
    """The key as people type it into an authenticator app: base32, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def otpauth_url(device: TOTPDevice, issuer: str) -> str:
    """The otpauth:// link an authenticator app reads from the QR code, labelled with the clinic and the login."""
    issuer = issuer.replace(":", "")
    label = quote(f"{issuer}:{device.user.get_username()}")
    params = {
        "secret": base64.b32encode(device.bin_key).decode().rstrip("="),
        "issuer": issuer,
        "algorithm": "SHA1",
        "digits": device.digits,
        "period": device.step,
    }
    return f"otpauth://totp/{label}?{urlencode(params, quote_via=quote)}"


def qr_code_svg(data: str, *, label: str) -> str:
    """`data` as a QR code in SVG markup, drawn on the server: no image library, no script, nothing external."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=10, border=2)
    svg = image.get_image()
    svg.set("width", "220")
    svg.set("height", "220")
    svg.set("role", "img")
    svg.set("aria-label", label)
    return ET.tostring(svg, encoding="unicode")


# The demo clinic ---------------------------------------------------------------------------------------------------

# The demo manager's authenticator secret, printed by seed_demo like the demo password. Only made with debug on.
DEMO_SECRET = "MOTHERAPYDEMO234MOTHERAPYDEMO234"  # noqa: S105 - published on purpose: it is the demo's
DEMO_DEVICE_NAME = "Demo authenticator"


def demo_authenticator_for(usernames: list[str], *, debug: bool) -> list[str]:
    """Give the demo managers an authenticator with the published secret, so `make run` works with any
    authenticator app or `manage.py demo_code`; returns what seed_demo prints about it.

    Only on a development machine (debug on): the demo database of a load test gets none, and a manager there sets up
    their own. Like the demo password, a login's authenticator set up since is kept.
    """
    if not debug:
        return [f"{', '.join(usernames)}: set up an authenticator app at the first login (no demo key without debug)."]
    lines = []
    for user in get_user_model().objects.filter(username__in=usernames).order_by("username"):
        if confirmed_device(user) is None:
            TOTPDevice.objects.filter(user=user).delete()
            TOTPDevice.objects.create(user=user, name=DEMO_DEVICE_NAME, key=_demo_key(), confirmed=True)
        demo = demo_device()
        if demo is not None and demo.user_id == user.pk:
            lines.append(
                f"{user.username}: run `make demo-code` for the current code, or add the key "
                f"{DEMO_SECRET} to an authenticator app."
            )
        else:
            lines.append(
                f"{user.username}: uses the authenticator app set up since (remove it in /accounts/two-factor/)."
            )
    return lines


def demo_device() -> TOTPDevice | None:
    """The authenticator with the published demo secret, if one exists."""
    return TOTPDevice.objects.filter(key=_demo_key(), confirmed=True).select_related("user").first()


def _demo_key() -> str:
    return base64.b32decode(DEMO_SECRET).hex()
