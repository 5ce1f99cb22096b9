"""What tabs of one origin tell each other, and how a message is checked before it is believed.

Pure Python. Messages carry no token (the client never sees one): only what
happened and, for a refresh, the new expiry. Anything else on the channel, or a
malformed message, is ignored.
"""

from __future__ import annotations

import json
from typing import Any, Final

from ._events import EVENT_TYPES, SESSION_REFRESHED, AuthEvent
from ._responses import MAX_EXPIRES_MS

CHANNEL: Final = "lucia_pyodide"
LOCK: Final = "lucia_pyodide:refresh"
RECORD_KEY: Final = "lucia_pyodide:last_refresh"
_VERSION = 1


def encode_event(event: AuthEvent) -> str:
    """The message announcing ``event`` to other tabs."""
    return json.dumps({"v": _VERSION, "type": event.type, "expires": event.expires})


def _valid_expires(value: object) -> bool:
    return type(value) is int and 0 < value <= MAX_EXPIRES_MS


def _ours(text: object) -> dict[str, Any] | None:
    """A message or record written by this version of lucia_pyodide, decoded; else ``None``."""
    if not isinstance(text, str) or len(text) > 1000:
        return None
    try:
        payload = json.loads(text)
    except ValueError:
        return None
    if not isinstance(payload, dict) or payload.get("v") != _VERSION:
        return None
    return payload


def decode_event(message: object) -> AuthEvent | None:
    """The event another tab announced, or ``None`` for anything that is not one of ours."""
    payload = _ours(message)
    if payload is None:
        return None
    kind, expires = payload.get("type"), payload.get("expires")
    if kind not in EVENT_TYPES:
        return None
    if kind == SESSION_REFRESHED:
        if not _valid_expires(expires):
            return None
        return AuthEvent(SESSION_REFRESHED, expires, remote=True)
    return AuthEvent(str(kind), None, remote=True)


def encode_record(expires: int, at_ms: int) -> str:
    """The shared note of the last refresh: its result and when it finished."""
    return json.dumps({"v": _VERSION, "expires": expires, "at": at_ms})


def adoptable_expiry(record: object, *, since_ms: int) -> int | None:
    """The expiry from a refresh another tab finished at or after ``since_ms``, if any.

    A tab that waited for the refresh lock adopts that result instead of sending
    the refresh token the winner already used.
    """
    payload = _ours(record)
    if payload is None:
        return None
    expires, at = payload.get("expires"), payload.get("at")
    if not _valid_expires(expires) or type(at) is not int or at < since_ms:
        return None
    return int(expires)  # type: ignore[arg-type]
