"""Text messages through a small backend interface, chosen by CLINIC_SMS_BACKEND.

- "console" (the development default) prints each text; "file" appends it to a file in CLINIC_SMS_FILE_PATH;
  "memory" keeps texts in `outbox` (for tests); "twilio" sends through Twilio's official library, configured by
  TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER, with a timeout on every request.
Numbers are E.164 (+14165550108), as patients' phones are stored.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class Text:
    to: str
    body: str


class SmsBackend(Protocol):
    def send(self, *, to: str, body: str) -> None: ...


class ConsoleBackend:
    def send(self, *, to: str, body: str) -> None:
        sys.stdout.write(f"Text to {to}:\n{body}\n{'-' * 40}\n")
        sys.stdout.flush()


class FileBackend:
    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    def send(self, *, to: str, body: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / "texts.log").open("a", encoding="utf-8") as log:
            log.write(f"{datetime.now(UTC).isoformat()} to {to}\n{body}\n\n")


# Texts "sent" by the memory backend, newest last; tests read and clear it.
outbox: list[Text] = []


class MemoryBackend:
    def send(self, *, to: str, body: str) -> None:
        outbox.append(Text(to, body))


class TwilioBackend:
    """Twilio's REST API through its official Python library; each request gives up after `timeout` seconds."""

    def __init__(self, account_sid: str, auth_token: str, from_number: str, timeout: float) -> None:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        self.from_number = from_number
        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))

    def send(self, *, to: str, body: str) -> None:
        self.client.messages.create(to=to, from_=self.from_number, body=body)


def backend() -> SmsBackend:
    name = settings.SMS_BACKEND
    if name == "console":
        return ConsoleBackend()
    if name == "file":
        return FileBackend(settings.SMS_FILE_PATH)
    if name == "memory":
        return MemoryBackend()
    if name == "twilio":
        missing = [
            key for key in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER") if not os.environ.get(key)
        ]
        if missing:
            raise ImproperlyConfigured(f"Texts through Twilio need {', '.join(missing)}.")
        return TwilioBackend(
            os.environ["TWILIO_ACCOUNT_SID"],
            os.environ["TWILIO_AUTH_TOKEN"],
            os.environ["TWILIO_FROM_NUMBER"],
            timeout=settings.SMS_TIMEOUT,
        )
    raise ImproperlyConfigured(f"Unknown CLINIC_SMS_BACKEND {name!r}: use console, file, memory or twilio.")
