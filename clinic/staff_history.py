"""What was done to a staff account and by whom, kept in Django's admin log (LogEntry).

Managers hold real power over each other's logins: a manager may change a colleague's email, send that address a
password link and remove the colleague's authenticator. Each of those, and every other change made on the staff
accounts page, is written here in the same transaction: when, by whom, which account, what changed. The staff page
shows an account's history, and a superuser sees the same entries in the admin's history of the user, next to
their own edits there. The account's old address is also told when its email changes (clinic/staff_accounts.py).
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet


def record(*, account: Any, by: Any, message: str, added: bool = False) -> None:
    """Write one entry for `account`, done by the staff login `by`."""
    LogEntry.objects.log_actions(
        user_id=by.pk,
        queryset=[account],
        action_flag=ADDITION if added else CHANGE,
        change_message=message,
        single_object=True,
    )


def history_of(account: Any, *, limit: int = 20) -> QuerySet[LogEntry]:
    """The newest entries about `account`, with who made each (one query)."""
    return (
        LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(account), object_id=str(account.pk))
        .select_related("user")
        .order_by("-action_time", "-pk")[:limit]
    )
