"""Staff accounts, for managers: the list, adding and editing a login in one of the three roles, emailing a link
to set a password, and unlocking a login locked out after failed attempts.

Receptionists and therapists are refused (403). Superusers and accounts holding more than a role (raw
permissions, another group) are a superuser's, in the admin: they are not listed here and their pages do not
exist (404). clinic/policy.py decides both; clinic/staff_accounts.py writes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from clinic import change_log, policy, staff_accounts
from frontdesk.staff_forms import NewStaffAccountForm, StaffAccountForm


def manager_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous visitors log in first; any login that may not manage staff gets 403, before anything is read."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not policy.may_manage_staff(request.user):
            raise PermissionDenied("Staff accounts are for managers.")
        return view(request, *args, **kwargs)

    return guarded


def _account_or_404(request: HttpRequest, pk: int) -> Any:
    account = (
        policy.staff_accounts_visible_to(request.user, get_user_model()._default_manager.all())
        .prefetch_related("groups")
        .filter(pk=pk)
        .first()
    )
    if account is None:
        raise Http404("No such staff account.")
    return account


def _rows(request: HttpRequest) -> list[dict]:
    accounts = list(
        policy.staff_accounts_visible_to(request.user, get_user_model()._default_manager.all())
        .select_related("therapist")
        .prefetch_related("groups")
        .order_by("-is_active", "first_name", "last_name", "username")
    )
    locked = staff_accounts.locked_out((account.username for account in accounts), timezone.now())
    return [
        {
            "account": account,
            "role": staff_accounts.role_of_account(account),
            "therapist": getattr(account, "therapist", None),
            "is_you": account.pk == request.user.pk,
            "locked_out": account.username in locked,
        }
        for account in accounts
    ]


@manager_required
@require_http_methods(["GET", "HEAD"])
def staff_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "frontdesk/staff.html",
        {"rows": _rows(request), "lockouts": staff_accounts.lockouts_enabled()},
    )


@manager_required
@require_http_methods(["GET", "HEAD", "POST"])
def staff_add(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        form = NewStaffAccountForm(actor=request.user)
        return render(request, "frontdesk/staff_form.html", {"form": form, "account": None})
    form = NewStaffAccountForm(request.POST, actor=request.user)
    if not form.is_valid():
        return render(request, "frontdesk/staff_form.html", {"form": form, "account": None}, status=400)
    send_link = form.cleaned_data["send_password_link"]
    account = staff_accounts.staff_account_create(
        details=form.details(), send_password_link=send_link, now=timezone.now(), sent_by=request.user
    )
    if send_link:
        messages.success(
            request, f"Account {account.username} added. A link to set a password is on its way to {account.email}."
        )
    else:
        messages.success(request, f"Account {account.username} added. It has no password until you send them a link.")
    return redirect("frontdesk:staff_edit", pk=account.pk)


@manager_required
@require_http_methods(["GET", "HEAD", "POST"])
def staff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account_or_404(request, pk)
    # The form writes what it is given onto the instance while it checks it; the page's title keeps the name saved.
    shown = {
        "account": account,
        "saved_username": account.username,
        "saved_name": account.get_full_name() or account.username,
        "is_you": account.pk == request.user.pk,
        "has_password": account.has_usable_password(),
        "lockouts": staff_accounts.lockouts_enabled(),
        "locked_out": account.username in staff_accounts.locked_out([account.username], timezone.now()),
        "history": change_log.history_of(account),
    }
    if request.method != "POST":
        return render(
            request,
            "frontdesk/staff_form.html",
            {"form": StaffAccountForm(instance=account, actor=request.user), **shown},
        )
    form = StaffAccountForm(request.POST, instance=account, actor=request.user)
    if not form.is_valid():
        return render(request, "frontdesk/staff_form.html", {"form": form, **shown}, status=400)
    staff_accounts.staff_account_update(account=account, details=form.details(), by=request.user, now=timezone.now())
    messages.success(request, f"Account {account.username} saved.")
    return redirect("frontdesk:staff")


@manager_required
@require_POST
def staff_password_link(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account_or_404(request, pk)
    if not account.email:
        messages.error(request, f"{account.username} has no email address: add one, then send the link.")
    elif not account.is_active:
        messages.error(request, f"{account.username} is not active: make the account active first.")
    else:
        staff_accounts.staff_password_link_queue(account=account, now=timezone.now(), sent_by=request.user)
        messages.success(request, f"A link to set a new password is on its way to {account.email}.")
    return redirect("frontdesk:staff_edit", pk=account.pk)


@manager_required
@require_POST
def staff_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account_or_404(request, pk)
    if not policy.may_unlock_staff(request.user):
        raise PermissionDenied("Unlocking logins is for managers.")
    if not staff_accounts.lockouts_enabled():
        messages.error(
            request, "Logins are not locked out after failed attempts on this site, so there is nothing to unlock."
        )
        return redirect("frontdesk:staff_edit", pk=account.pk)
    forgotten = staff_accounts.staff_account_unlock(account=account, by=request.user)
    if forgotten:
        messages.success(request, f"{account.username} is unlocked and may try to log in again.")
    else:
        messages.info(request, f"{account.username} was not locked out.")
    return redirect("frontdesk:staff_edit", pk=account.pk)
