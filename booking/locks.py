"""Transactions and row locks for every write to the calendar.

One durable transaction per write; every row lock goes through `lock`, which
sets the lock timeout first. Only a lock that cannot be had in time becomes
"busy, try again"; any other database error is logged and raised as it is,
so a real fault is never reported to a patient as a busy calendar.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.db import OperationalError, connection, models, transaction

from booking.errors import BookingError

logger = logging.getLogger(__name__)

LOCK_TIMEOUT = "5s"
# PostgreSQL's SQLSTATE for lock_timeout expiring (lock_not_available).
LOCK_NOT_AVAILABLE = "55P03"

ModelT = TypeVar("ModelT", bound=models.Model)


def is_lock_timeout(error: BaseException) -> bool:
    """A lock wait that ran out: PostgreSQL's lock_timeout, or SQLite's busy timeout on its write lock."""
    cause = error.__cause__
    if getattr(cause, "pgcode", None) == LOCK_NOT_AVAILABLE:
        return True
    return connection.vendor == "sqlite" and "database is locked" in str(error)


@contextmanager
def write_transaction() -> Iterator[None]:
    """A durable transaction; a lock timeout inside it becomes BookingError("busy")."""
    try:
        with transaction.atomic(durable=True):
            yield
    except OperationalError as error:
        if is_lock_timeout(error):
            raise BookingError("busy") from error
        logger.exception("Database error while writing to the calendar")
        raise


def lock(queryset: models.QuerySet[ModelT], *, no_key: bool = False) -> list[ModelT]:
    """Lock the rows of `queryset` (in its order) for the rest of the transaction, waiting at most LOCK_TIMEOUT."""
    if not connection.in_atomic_block:
        raise RuntimeError("Row locks are only meaningful inside a transaction.")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    return list(queryset.select_for_update(no_key=no_key, of=("self",)))


def lock_name(name: str) -> None:
    """Hold a lock on `name` (say one patient's email) for the rest of the transaction, waiting at most LOCK_TIMEOUT.

    For a rule that spans rows no single row lock covers, such as how many upcoming bookings one email holds: two
    transactions that lock the same name run their check and their insert one after the other. PostgreSQL's
    transaction-level advisory lock; on SQLite every write transaction already holds the database's one write lock.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("Locks are only meaningful inside a transaction.")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [name])
