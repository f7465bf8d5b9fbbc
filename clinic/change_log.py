"""What staff changed and who changed it, kept in Django's admin log (LogEntry): one record per change, written in
the same transaction as the change itself.

Two kinds of record get an entry here.
- Staff accounts (clinic/staff_accounts.py, clinic/two_factor_views.py). Managers hold real power over each
  other's logins: a manager may change a colleague's email, send that address a password link and remove the
  colleague's authenticator. Each of those is recorded, along with every other change made on the staff accounts
  page.
- Patients' contact details and merges (booking/services.py). A patient's email is where their private links
  go, so a changed address must say who changed it.

The staff pages show a record's entries. A superuser sees the same entries in the admin's history of the object,
next to their own edits there.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, QuerySet


def record(*, obj: Model, by: Any, message: str, added: bool = False) -> None:
    """Write one entry about `obj`, done by the staff login `by`."""
    LogEntry.objects.log_actions(
        user_id=by.pk,
        queryset=[obj],
        action_flag=ADDITION if added else CHANGE,
        change_message=message,
        single_object=True,
    )


def history_of(obj: Model, *, limit: int = 20) -> QuerySet[LogEntry]:
    """The newest entries about `obj`, with who made each (one query, once the content type is cached)."""
    return (
        LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk))
        .select_related("user")
        .order_by("-action_time", "-pk")[:limit]
    )


def changes_between(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Each field whose text differs, as 'field old → new', in the order of `before` ('none' where empty)."""
    return [
        f"{field} {before[field] or 'none'} → {after[field] or 'none'}"
        for field in before
        if before[field] != after[field]
    ]
