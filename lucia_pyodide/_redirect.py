"""Checking a sign-out redirect target before anything is sent.

Only same-origin targets pass: a relative path, or an absolute http(s) URL whose
origin is the page's own or one the app allowed. Anything a browser might read
as another scheme or another host (``javascript:``, ``//evil``, ``/\\evil``,
smuggled control characters, percent-encoded schemes) is refused.
"""

import re

from ._errors import UnsafeRedirectError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

# Written out rather than imported: MicroPython has no urllib, and in Pyodide
# urllib.parse (with ipaddress) costs ~130 ms to import. Both interpreters run
# this same code, so a target is judged the same in either.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_LENGTH = 2048
_HEX = "0123456789abcdefABCDEF"
#: What ``quote`` leaves as it is (RFC 3986's unreserved characters).
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def decode_escapes(text: str) -> str:
    """``text`` with every ``%XX`` escape decoded to the character of that code (bytes as Latin-1).

    Enough to see a scheme or a slash hidden in escapes, which is all it is for.
    """
    if "%" not in text:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "%" and i + 2 < len(text) and text[i + 1] in _HEX and text[i + 2] in _HEX:
            out.append(chr(int(text[i + 1:i + 3], 16)))
            i += 3
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def quote(text: str, safe: str = "") -> str:
    """Percent-encode ``text`` (as UTF-8) for a URL's query, keeping unreserved and ``safe`` chars."""
    out: list[str] = []
    for char in text:
        if char in _UNRESERVED or char in safe:
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode())
    return "".join(out)


def origin_of(url: str) -> "str | None":
    """``scheme://host[:port]`` of an absolute http(s) URL, normalised; else ``None``."""
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in _DEFAULT_PORTS:
        return None
    end = len(rest)
    for stop in "/?#":
        found = rest.find(stop)
        if found != -1 and found < end:
            end = found
    authority = rest[:end]
    if "@" in authority:
        return None
    if authority.startswith("["):  # IPv6 literal: [hex:...]
        close = authority.find("]")
        host, after = authority[:close + 1].lower(), authority[close + 1:]
        if close == -1 or len(host) < 4 or any(c not in _HEX + ":." for c in host[1:-1]):
            return None
        if after and not after.startswith(":"):
            return None
        port = after[1:]
    else:
        host, _, port = authority.partition(":")
        host = host.lower()
        if not host or ":" in port:
            return None
    if port and not (port.isdigit() and int(port) <= 65535):
        return None
    if not port or int(port) == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{int(port)}"


def join(base_url: str, path: str) -> str:
    """``path`` resolved against ``base_url``: absolute URLs as they are, ``/x`` on its origin."""
    if _SCHEME.match(path):
        return path
    origin = origin_of(base_url)
    if origin is None:
        raise ValueError(f"base_url {base_url!r} is not an http(s) URL")
    if path.startswith("//"):
        return origin.partition(":")[0] + ":" + path
    if path.startswith("/"):
        return origin + path
    directory = base_url.partition("?")[0].partition("#")[0]
    if directory.count("/") < 3:  # no path at all: https://host
        return f"{origin}/{path}"
    return directory[:directory.rfind("/") + 1] + path


def check_redirect(
    target: str, *, page_origin: "str | None", allowed_origins: "Iterable[str]" = ()
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
    decoded = decode_escapes(target)
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


def with_query(target: str, name: str, value: str) -> str:
    """``target`` with ``name=value`` added to its query, before any fragment (both quoted)."""
    base, hash_mark, fragment = target.partition("#")
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}{quote(name, safe='/')}={quote(value)}{hash_mark}{fragment}"
