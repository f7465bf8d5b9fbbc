"""The "forgot your password" page of the staff login: its email goes through the outbox like every message, and
its requests are counted like the other public doors."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.views import PasswordResetView
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from clinic import ratelimit
from clinic.staff_accounts import staff_password_link_queue


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's form, whose email is queued in one transaction and sent by the worker, with the link on the
    site's own address (SITE_URL) rather than whatever Host the request claimed. As in Django, the page says the
    same whether or not the address belongs to an account, and an account without a password (a new one, waiting
    for the link a manager sends) gets nothing."""

    def save(self, *args: Any, **kwargs: Any) -> None:
        now = timezone.now()
        with transaction.atomic():
            for account in self.get_users(self.cleaned_data["email"]):
                staff_password_link_queue(account=account, now=now)


class LimitedPasswordResetView(PasswordResetView):
    """Each request can send an email, so it is counted like the other public doors (clinic.ratelimit)."""

    form_class = OutboxPasswordResetForm

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        email = request.POST.get("email", "")
        refused = ratelimit.guard(
            request, address="password_reset_address", per="password_reset_email", values=[email[:254]]
        )
        return refused or super().post(request, *args, **kwargs)
