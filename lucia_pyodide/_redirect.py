"""Checking a sign-out redirect target before anything is sent.

Only same-origin targets pass: a relative path, or an absolute http(s) URL whose
origin is the page's own or one the app allowed. Anything a browser might read
as another scheme or another host (``javascript:``, ``//evil``, ``/\\evil``,
smuggled control characters, percent-encoded schemes) is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ._errors import UnsafeRedirectError

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_LENGTH = 2048


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute http(s) URL, normalised; else ``None``."""
    from urllib.parse import urlsplit  # noqa: PLC0415 - see check_redirect

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def check_redirect(
    target: str, *, page_origin: str | None, allowed_origins: Iterable[str] = ()
) -> str:
    """Return ``target`` unchanged if it is a safe place to send the user, else raise.

    Raises ``UnsafeRedirectError`` (a ``LuciaError`` and a ``ValueError``) naming
    the reason.
    """
    if not isinstance(target, str):
        raise UnsafeRedirectError(f"redirect target must be a string, not {type(target).__name__}")
    if not target:
        raise UnsafeRedirectError("redirect target is empty")
    if len(target) > _MAX_LENGTH:
        raise UnsafeRedirectError(f"redirect target is longer than {_MAX_LENGTH} characters")
    # Browsers strip tabs and newlines and treat backslashes as slashes, which
    # is how "java\tscript:" and "/\\evil" sneak past naive checks.
    if any(ord(c) <= 0x20 or ord(c) == 0x7F or c == "\\" for c in target):
        raise UnsafeRedirectError(
            f"redirect target {target!r} contains whitespace, a control character or a backslash"
        )
    if target.startswith("//"):
        raise UnsafeRedirectError(f"redirect target {target!r} is protocol-relative (another host)")
    # Imported on use: urllib.parse costs Pyodide ~130 ms at import, and only a
    # sign-out with a redirect needs it.
    from urllib.parse import unquote  # noqa: PLC0415

    decoded = unquote(target)
    if not _SCHEME.match(target):
        if _SCHEME.match(decoded) or decoded.startswith(("//", "\\", "/\\")):
            raise UnsafeRedirectError(f"redirect target {target!r} hides a scheme or host in %-escapes")
        return target  # a relative reference: it stays on the page's origin
    origin = origin_of(target)
    if origin is None:
        raise UnsafeRedirectError(
            f"redirect target {target!r} is not a relative path or an http(s) URL"
        )
    allowed = {o for o in (origin_of(a) for a in allowed_origins) if o}
    if page_origin:
        own = origin_of(page_origin)
        if own:
            allowed.add(own)
    if origin not in allowed:
        raise UnsafeRedirectError(
            f"redirect target {target!r} is on {origin}, not the page's origin"
            + (f" ({page_origin})" if page_origin else "")
        )
    return target
