"""Where errors are made: turning an HTTP answer into a result or a ``LuciaError``.

Pure Python. The server's error bodies are JSON labelled ``text/plain``, so the
body is parsed whatever its content type, and nothing in it is trusted beyond
what is checked here.
"""

import json

from ._compat._lang import JSON_ERRORS
from ._errors import ERROR_CODES, UNKNOWN_ERROR, LuciaError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._compat._protocols import HttpResponse

_CODE_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_CODE_CHARS = _CODE_START | frozenset("0123456789_")
#: Expiries past this (year 9999) are refused as nonsense rather than returned.
MAX_EXPIRES_MS = 253_402_300_799_999


def excerpt(text: str, limit: int = 80) -> str:
    """A short, quoted, single-line rendering of a body for error details."""
    if not text:
        return "an empty body"
    short = text[:limit] + ("…" if len(text) > limit else "")
    return repr(short)


def _looks_like_code(text: str) -> bool:
    """``[A-Z][A-Z0-9_]{0,63}``, without ``re`` (MicroPython's ignores counted repeats)."""
    return 0 < len(text) <= 64 and text[0] in _CODE_START and all(c in _CODE_CHARS for c in text)


def error_from_response(response: "HttpResponse", what: str) -> LuciaError:
    """The ``LuciaError`` for an answer that was not a success.

    A ``{"message": CODE}`` body gives the server's own code; anything else
    (HTML from a proxy, an empty body, a redirect) is ``UNKNOWN_ERROR`` with a
    detail that says which it was.
    """
    status = response.status
    if response.redirected_to is not None or 300 <= status < 400:
        target = response.redirected_to or "an opaque location"
        return LuciaError(
            UNKNOWN_ERROR, f"{what}: HTTP {status} redirect to {target}, not followed", status=status
        )
    try:
        payload = json.loads(response.body)
    except JSON_ERRORS:
        payload = None
    message = payload.get("message") if isinstance(payload, dict) else None
    if isinstance(message, str) and message in ERROR_CODES:
        return LuciaError(message, f"{what}: HTTP {status}", status=status)  # type: ignore[arg-type]
    if isinstance(message, str) and _looks_like_code(message):
        return LuciaError(UNKNOWN_ERROR, f"{what}: HTTP {status} with the code {message!r}, "
                          "which Lucia 0.10 does not send", status=status)
    return LuciaError(
        UNKNOWN_ERROR,
        f"{what}: HTTP {status} with {excerpt(response.body)}, not a {{\"message\": CODE}} body",
        status=status,
    )


def _is_success(response: "HttpResponse") -> bool:
    return 200 <= response.status < 300 and response.redirected_to is None


def refresh_result(response: "HttpResponse", *, now_ms: int, session_lifetime_ms: int) -> int:
    """The new session's expiry (ms since the epoch) from a refresh answer.

    A 2xx with ``{"expires": ms}`` returns ``ms``; a 2xx with an empty body (what
    lucia-sveltekit 0.10 sends) returns ``now_ms + session_lifetime_ms``.
    """
    what = "refresh-session"
    if not _is_success(response):
        raise error_from_response(response, what)
    if not response.body.strip():
        return now_ms + session_lifetime_ms
    try:
        payload = json.loads(response.body)
    except JSON_ERRORS:
        raise LuciaError(
            UNKNOWN_ERROR,
            f"{what}: HTTP {response.status} with {excerpt(response.body)}, not JSON",
            status=response.status,
        ) from None
    expires = payload.get("expires") if isinstance(payload, dict) else None
    # A whole float (1.7e12 from a non-JS server) is fine; bool, a fraction of a ms
    # or a time outside years 1970-9999 is not.
    if type(expires) is float and 0 < expires <= MAX_EXPIRES_MS and expires % 1 == 0:
        expires = int(expires)
    if type(expires) is not int or not 0 < expires <= MAX_EXPIRES_MS:
        raise LuciaError(
            UNKNOWN_ERROR,
            # Both parts f-strings: MicroPython formats a literal joined to one too.
            f"{what}: HTTP {response.status} with {excerpt(response.body)}, "
            f'expected {{"expires": <ms since the epoch>}}',
            status=response.status,
        )
    return expires


def logout_result(response: "HttpResponse") -> None:
    """Accept a logout answer (any 2xx) or raise the ``LuciaError`` it means."""
    if not _is_success(response):
        raise error_from_response(response, "logout")
