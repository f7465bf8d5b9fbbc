"""Whether a queued message still makes sense when its turn comes: a reminder for a cancelled or moved
appointment, or one whose time has passed, is not sent. Pure decisions over the message and its appointment."""

from __future__ import annotations

from datetime import datetime

from notifications.models import OutboundMessage


def why_not_send(message: OutboundMessage, now: datetime) -> str:
    """The reason not to send `message` now, or "" to send it."""
    return ""
