"""Private links' tokens never reach the logs.

A patient's link (/appointments/<token>/), a waitlist place or offer (/waitlist/<token>/, /waitlist/offers/<token>/),
a therapist's calendar feed (/schedule/feed/<token>.ics), a password-reset link (/reset/<uidb64>/<token>/) and the
reminders' stop link (/reminders/stop/<token>/) each open something on their own, so anyone who reads a log line
with one could use it. Django writes request paths to the log ("Not Found: /schedule/feed/….ics", 4xx and 5xx
responses), and so do runserver's and gunicorn's access lines.

`RedactTokens` replaces each such token with `[redacted]` in the finished message (and in a traceback's text).
settings.LOGGING puts it on every handler; `configure` (LOGGING_CONFIG) also puts it on the loggers that write
request lines themselves, gunicorn's included, whose handlers gunicorn sets up and Django's settings never see.
"""

from __future__ import annotations

import logging
import logging.config
import re
from typing import Any

REDACTED = "[redacted]"

# The path before a token, then the token: up to the next slash, dot (".ics"), query, space or quote.
_LINK = re.compile(
    r"(?P<prefix>/(?:appointments|waitlist/offers|waitlist|reminders/stop|reminders/resume|schedule/feed"
    r"|reset/[^/\s?#\"'<>]+)/)(?P<token>[^/\s?#\"'<>.]+)"
)
# Path parts after those prefixes that are pages, not tokens (/waitlist/join/, a front desk row's number).
_NOT_TOKENS = frozenset({"join", "offers", "set-password"})

# Loggers that write request lines themselves (records made there are redacted before any handler sees them).
REQUEST_LOGGERS = ("django.request", "django.server", "gunicorn.access", "gunicorn.error")


def _replace(match: re.Match[str]) -> str:
    token = match.group("token")
    if token in _NOT_TOKENS or token.isdigit():
        return match.group(0)
    return match.group("prefix") + REDACTED


def redact(text: str) -> str:
    """`text` with every private link's token replaced by [redacted]."""
    return _LINK.sub(_replace, text)


class RedactTokens(logging.Filter):
    """Rewrites a record whose message or traceback holds a private link's token; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record with broken arguments: leave it to the handler to report
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def configure(config: dict[str, Any]) -> None:
    """settings.LOGGING_CONFIG: dictConfig, then the filter on the loggers that write request lines."""
    logging.config.dictConfig(config)
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactTokens) for existing in logger.filters):
            logger.addFilter(RedactTokens())
