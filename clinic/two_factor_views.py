"""The two-factor pages under /accounts/two-factor/: the overview, setting up an authenticator, entering a code,
turning it off, and a manager removing a colleague's. The rules are in clinic/two_factor.py."""

from __future__ import annotations

import math
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import change_log, permissions, policy, two_factor
from clinic.context_processors import clinic_for


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "size": 8}
        ),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not (code.isascii() and code.isdigit() and len(code) == 6):
            raise forms.ValidationError("Enter the 6 digits your authenticator app shows now, without letters.")
        return code


def _safe_next(request: HttpRequest) -> str:
    """The `next` page asked for, when it is on this site; else empty."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    ok = url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return wanted if ok else ""


def _next_or_landing(request: HttpRequest) -> str:
    return _safe_next(request) or permissions.landing_url(request.user)


def _with_next(name: str, request: HttpRequest) -> str:
    wanted = _safe_next(request)
    return reverse(name) + (f"?{urlencode({'next': wanted})}" if wanted else "")


def _wrong_code(form: CodeForm, outcome: two_factor.Outcome) -> int:
    """Add the reason to the form; the status to answer with."""
    if outcome.wait_until is not None:
        seconds = max(1, math.ceil((outcome.wait_until - timezone.now()).total_seconds()))
        form.add_error(
            "code",
            f"Too many wrong codes in a row. Wait {seconds} seconds, then enter the code your app shows at that "
            "time: each wrong code makes the wait longer.",
        )
        return 429
    form.add_error(
        "code",
        "That code is not the right one. Check that the app shows this clinic and your login, and enter its "
        "current code (each code works once).",
    )
    return 200


@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of logging in: the code from the account's authenticator app."""
    if two_factor.is_verified(request.user):
        return redirect(_next_or_landing(request))
    if two_factor.confirmed_device(request.user) is None:
        if two_factor.required_for(request.user):
            return redirect(_with_next("two_factor:setup", request))
        return redirect(_next_or_landing(request))
    status = 200
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = two_factor.device_verify(request, code=form.cleaned_data["code"])
        if outcome.ok:
            return redirect(_next_or_landing(request))
        status = _wrong_code(form, outcome)
    return render(
        request, "registration/two_factor_verify.html", {"form": form, "next": _safe_next(request)}, status=status
    )


@login_required
def setup(request: HttpRequest) -> HttpResponse:
    """Show a new authenticator's QR code and secret; its first right code confirms it.

    Replacing an authenticator needs the old one's code first: with only the password nobody can swap in their own.
    """
    user = request.user
    if not two_factor.is_verified(user) and two_factor.confirmed_device(user) is not None:
        return redirect(_with_next("two_factor:verify", request))
    status = 200
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = two_factor.device_confirm(request, code=form.cleaned_data["code"])
        if outcome.ok:
            messages.success(request, "Two-factor authentication is on. Each login now asks for a code from the app.")
            return redirect(_next_or_landing(request))
        status = _wrong_code(form, outcome)
    device = two_factor.device_being_set_up(user)
    link = two_factor.otpauth_url(device, clinic_for(request).name)
    context = {
        "form": form,
        "next": _safe_next(request),
        "secret": two_factor.secret_of(device),
        "otpauth_url": link,
        "qr_code": two_factor.qr_code_svg(link, label="QR code to scan with your authenticator app"),
        "required": two_factor.required_for(user),
        "replacing": two_factor.confirmed_device(user) is not None,
    }
    response = render(request, "registration/two_factor_setup.html", context, status=status)
    # The secret is on this page: never keep it in a cache.
    response["Cache-Control"] = "no-store"
    return response


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """Your own two-factor state, and for managers and superusers their colleagues', with "Remove"."""
    user = request.user
    context = {
        "device": two_factor.confirmed_device(user),
        "required": two_factor.required_for(user),
        "colleagues": _colleagues_for(user),
    }
    return render(request, "registration/two_factor.html", context)


def _colleagues_for(user) -> list[dict]:
    if policy.may_manage_superusers(user):
        accounts = get_user_model().objects.all()
    elif policy.may_manage_staff(user):
        accounts = policy.manageable_accounts(get_user_model().objects.all())
    else:
        return []
    accounts = (
        accounts.filter(is_active=True)
        .exclude(pk=user.pk)
        .order_by("first_name", "last_name", "username")
        .prefetch_related(
            "groups", Prefetch("totpdevice_set", queryset=TOTPDevice.objects.filter(confirmed=True), to_attr="devices")
        )
    )
    rows = []
    for account in accounts:
        role = "Superuser" if account.is_superuser else ", ".join(group.name for group in account.groups.all())
        rows.append({"account": account, "role": role or "No role", "device": next(iter(account.devices), None)})
    return rows


@require_POST
@login_required
def turn_off(request: HttpRequest) -> HttpResponse:
    """Receptionists and therapists may stop using an authenticator; managers and superusers may only replace it."""
    if two_factor.required_for(request.user):
        messages.error(
            request, "Your role needs two-factor authentication: you can set up a new phone, not turn it off."
        )
    else:
        two_factor.device_remove(account=request.user)
        messages.success(request, "Two-factor authentication is off. Logging in now needs only your password.")
    return redirect("two_factor:overview")


@require_POST
@login_required
def remove_for(request: HttpRequest, user_id: int) -> HttpResponse:
    """A manager removes a colleague's authenticator (a lost or new phone); a superuser anyone's."""
    account = get_object_or_404(get_user_model(), pk=user_id)
    if not two_factor.may_remove_device(request.user, account):
        raise PermissionDenied(
            "Only a manager can remove a colleague's authenticator, and only a superuser one of a superuser."
        )
    with transaction.atomic():
        removed = two_factor.device_remove(account=account)
        if removed:
            change_log.record(obj=account, by=request.user, message="Removed the authenticator app.")
    name = account.get_full_name() or account.get_username()
    if removed:
        follow_up = (
            "they will be asked to set up a new one when they next log in"
            if two_factor.required_for(account)
            else "they log in with their password until they set up a new one"
        )
        messages.success(request, f"{name}'s authenticator is removed: {follow_up}.")
    else:
        messages.info(request, f"{name} had no authenticator to remove.")
    return redirect(_safe_next(request) or reverse("two_factor:overview"))
