"""What the front desk's menu shows besides its links: time off requests waiting for approval, failed messages."""

from __future__ import annotations

from django import template
from django.utils import timezone

from booking import selectors
from notifications.selectors import failed_count

register = template.Library()


@register.simple_tag(takes_context=True)
def time_off_requests_waiting(context: template.Context) -> int:
    """One count query per front desk page; none on the time off page, which lists the requests anyway."""
    waiting = context.get("time_off_waiting")
    if waiting is not None:
        return len(waiting)
    return selectors.time_off_requests_waiting(timezone.now())


@register.simple_tag
def failed_messages() -> int:
    """How many messages failed for good: one count query per front desk page, shown beside "Messages"."""
    return failed_count()
