"""Staff accounts as a manager keeps them: a login in exactly one of the three roles, and a link to set a password.

The writes of the staff accounts page (frontdesk/views/staff.py). Nothing here sets a password, the superuser
flag, a raw permission or a group other than the role: those are a superuser's, in the admin. Which accounts a
manager may touch is clinic/policy.py's rule; the view asks it before calling these.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from clinic import change_log
from clinic.models import ClinicSettings
from clinic.policy import STAFF_ROLE_GROUPS, STAFF_ROLES, Role
from notifications import outbox
from notifications.models import OutboundMessage
from therapists.models import Therapist

LINK_EMAIL_TEMPLATE = "registration/password_reset_email"
EMAIL_CHANGED_TEMPLATE = "registration/staff_email_changed"


@dataclass(frozen=True)
class StaffDetails:
    username: str
    first_name: str
    last_name: str
    email: str
    is_active: bool
    role: Role
    therapist: Therapist | None


def role_of_account(account: Any) -> Role | None:
    """The one role an account holds (the highest, should an old account hold two), or None."""
    names = {group.name for group in account.groups.all()} if account.pk else set()
    for role in reversed(STAFF_ROLES):  # Manager, Therapist, Receptionist: the highest first
        if role.value in names:
            return role
    return None


def _apply(account: Any, details: StaffDetails) -> None:
    account.username = details.username
    account.first_name = details.first_name
    account.last_name = details.last_name
    account.email = details.email
    account.is_active = details.is_active
    account.is_staff = True  # every role opens the admin (read only for most); set here, never by a form
    account.save()
    # One role: the other two go. Any other group is not the manager's to see or change, and such an account
    # never reaches here (clinic.policy.manageable_accounts).
    roles = Group.objects.filter(name__in=STAFF_ROLE_GROUPS)
    account.groups.remove(*roles.exclude(name=details.role.value))
    account.groups.add(roles.get(name=details.role.value))
    linked = Therapist.objects.filter(user=account)
    if details.therapist is None:
        linked.update(user=None)
    elif details.therapist.user_id != account.pk:
        linked.update(user=None)
        details.therapist.user = account
        details.therapist.save(update_fields=["user"])


def staff_account_create(*, details: StaffDetails, send_password_link: bool, now: datetime, sent_by: Any) -> Any:
    """A new staff login without a password; with `send_password_link`, the email to set one is queued with it."""
    with transaction.atomic():
        account = get_user_model()(username=details.username)
        account.set_unusable_password()
        _apply(account, details)
        change_log.record(obj=account, by=sent_by, message=f"Added as {details.role.value}.", added=True)
        if send_password_link:
            staff_password_link_queue(account=account, now=now, sent_by=sent_by)
    return account


def _snapshot(account: Any) -> dict[str, str]:
    """What the staff page shows of an account, as words: the before and after of a change."""
    therapist = Therapist.objects.filter(user=account).first()
    role = role_of_account(account)
    return {
        "username": account.username,
        "name": account.get_full_name(),
        "email": account.email,
        "role": role.value if role else "",
        "therapist record": therapist.name if therapist else "",
        "login": "active" if account.is_active else "inactive",
    }


def staff_account_update(*, account: Any, details: StaffDetails, by: Any, now: datetime) -> Any:
    """Save a manager's changes to `account` and write down what changed; a changed email is told to the old
    address, so that nobody's login can be moved to another inbox without its owner hearing of it."""
    saved = type(account)._default_manager.prefetch_related("groups")
    with transaction.atomic():
        # As saved, not as `account` holds it: a ModelForm has already written the new values onto the instance.
        before = _snapshot(saved.get(pk=account.pk))
        _apply(account, details)
        after = _snapshot(saved.get(pk=account.pk))
        changes = change_log.changes_between(before, after)
        if changes:
            change_log.record(obj=account, by=by, message="Changed " + "; ".join(changes) + ".")
        if before["email"] and before["email"].lower() != after["email"].lower():
            _queue_email_changed(account=account, old_email=before["email"], by=by, now=now)
    return account


def _queue_email_changed(*, account: Any, old_email: str, by: Any, now: datetime) -> None:
    clinic = ClinicSettings.load()
    subject = f"Your staff login's email was changed – {clinic.name}"
    outbox.queue(
        kind=OutboundMessage.Kind.STAFF_NOTICE,
        recipient=old_email,
        subject=subject,
        template=EMAIL_CHANGED_TEMPLATE,
        context={
            "clinic": clinic,
            "subject": subject,
            "name": account.get_short_name() or account.get_username(),
            "username": account.get_username(),
            "new_email": account.email,
            "changed_by": by.get_full_name() or by.get_username(),
        },
        now=now,
    )


def password_link(account: Any) -> str:
    """The address of the page where `account` sets a new password: valid once, for PASSWORD_RESET_TIMEOUT, and
    void as soon as the password changes or the account logs in."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(account.pk)),
            "token": default_token_generator.make_token(account),
        },
    )
    return outbox.site_url(path)


def staff_password_link_queue(*, account: Any, now: datetime, sent_by: Any = None) -> OutboundMessage:
    """Queue the email with a link to set a password (a new account) or choose a new one, sent by a manager
    (`sent_by`) or asked for on the login page. Runs in its own transaction, or the caller's; the worker sends it
    after commit, like every other message."""
    if not account.email:
        raise ValueError("A password link needs an email address.")
    clinic = ClinicSettings.load()
    new_account = not account.has_usable_password()
    subject = f"{'Set' if new_account else 'Reset'} your password – {clinic.name} staff login"
    with transaction.atomic():
        message = outbox.queue(
            # A notice to a member of staff; the message log hides the link, as it hides patients' private links.
            kind=OutboundMessage.Kind.STAFF_NOTICE,
            recipient=account.email,
            subject=subject,
            template=LINK_EMAIL_TEMPLATE,
            context={
                "clinic": clinic,
                "subject": subject,
                "name": account.get_short_name() or account.get_username(),
                "username": account.get_username(),
                "new_account": new_account,
                "sender": (sent_by.get_full_name() or sent_by.get_username()) if sent_by is not None else "",
                "link": password_link(account),
                "valid_hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600),
                "login_url": outbox.site_url(reverse("login")),
            },
            now=now,
        )
        if message is None:  # no dedupe key: always written
            raise RuntimeError("The password email was not written.")
        if sent_by is not None:
            sent = f"Sent a link to set a password to {account.email}."
            change_log.record(obj=account, by=sent_by, message=sent)
    return message


def lockouts_enabled() -> bool:
    """Whether failed logins lock an account out (django-axes installed and on)."""
    from django.apps import apps

    return apps.is_installed("axes") and getattr(settings, "AXES_ENABLED", True)


def locked_out(usernames: Iterable[str], now: datetime) -> set[str]:
    """Which of these logins are locked out now, by their own failed attempts (one query)."""
    from django.apps import apps

    limit = getattr(settings, "AXES_FAILURE_LIMIT", 3)
    cool_off = getattr(settings, "AXES_COOLOFF_TIME", None)
    if not lockouts_enabled() or not isinstance(limit, int) or not isinstance(cool_off, timedelta | None):
        return set()
    attempts = apps.get_model("axes", "AccessAttempt").objects.filter(username__in=list(usernames))
    if cool_off is not None:
        attempts = attempts.filter(attempt_time__gte=now - cool_off)
    counted = attempts.values("username").annotate(failures=Sum("failures_since_start"))
    return {row["username"] for row in counted if row["failures"] >= limit}


def staff_account_unlock(*, account: Any, by: Any) -> int:
    """Forget the failed logins that locked `account` out, from every address; returns how many records went.

    Failures counted against a client address on other accounts stay: they lock a place, not this account."""
    if not lockouts_enabled():
        raise RuntimeError("Login lockouts are not switched on.")
    from clinic.login_protection import account_unlock  # needs django-axes, so only once it is installed

    with transaction.atomic():
        forgotten = account_unlock(username=account.get_username())
        if forgotten:
            change_log.record(obj=account, by=by, message="Unlocked after failed logins.")
    return forgotten
