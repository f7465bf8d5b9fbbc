"""The address of the computer a request comes from, the one thing the rate limits count per connection.

Without a proxy in front of the app it is REMOTE_ADDR. Behind a load balancer or reverse proxy every request
comes from the proxy, so the proxy's own header names the visitor: set DJANGO_TRUSTED_PROXY_HEADER (the setting
TRUSTED_PROXY_HEADER) to it, e.g. `X-Forwarded-For` or `X-Real-IP`. Only name a header that your proxy always
writes: a visitor can send any header, so without a proxy that overwrites it a trusted header would let anyone
pick their own address. With X-Forwarded-For the last address is used, the one the proxy itself saw (earlier
entries come from the visitor and prove nothing).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

# What a request whose address cannot be read is counted as (a Unix socket, a missing or malformed header).
UNKNOWN = "0.0.0.0"  # noqa: S104 - a placeholder value, never an address to bind to


def meta_key(header: str) -> str:
    """The request.META key of an HTTP header name: `X-Forwarded-For` → `HTTP_X_FORWARDED_FOR`."""
    key = header.strip().upper().replace("-", "_")
    return key if key.startswith("HTTP_") or key == "REMOTE_ADDR" else f"HTTP_{key}"


def _valid(candidate: str) -> str | None:
    candidate = candidate.strip()
    if candidate.startswith("[") and "]" in candidate:  # "[2001:db8::1]:443"
        candidate = candidate[1 : candidate.index("]")]
    elif candidate.count(":") == 1:  # "203.0.113.9:51234"
        candidate = candidate.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str:
    """The visitor's IP address as text: from the trusted proxy header when one is configured, else REMOTE_ADDR."""
    header = getattr(settings, "TRUSTED_PROXY_HEADER", "") or ""
    if header:
        value = request.META.get(meta_key(header), "")
        entries = [entry for entry in str(value).split(",") if entry.strip()]
        if entries and (address := _valid(entries[-1])):
            return address
    return _valid(str(request.META.get("REMOTE_ADDR", ""))) or UNKNOWN
