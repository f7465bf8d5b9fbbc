"""The waitlist's periodic job, run by the Huey worker (`manage.py run_huey` finds every app's tasks module)."""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from booking import waitlist_services


@db_periodic_task(crontab(minute="*"))
def expire_waitlist_offers() -> int:
    """Every minute: close the offers nobody claimed in time and offer each time to the next patient waiting."""
    return waitlist_services.offers_expire(now=timezone.now())
