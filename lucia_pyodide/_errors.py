"""The one exception type of lucia_pyodide and the codes it carries.

Codes are the strings the Lucia server sends as ``{"message": CODE}``, so the
same name means the same thing on server and client; the client adds a few of
its own for what only it can see (bad page data, timeouts, unsafe redirects).
``ErrorCode`` names them all, so a type checker catches ``err.code == "AUTH_INVALD"``.
"""

TYPE_CHECKING = False  # no typing module in MicroPython: the types below are for checkers
if TYPE_CHECKING:
    from typing import Final, Literal, TypeAlias

    #: Every code a ``LuciaError`` can carry (``ERROR_CODES``, as a type).
    ErrorCode: TypeAlias = Literal[
        "AUTH_INVALID_ACCESS_TOKEN", "AUTH_INVALID_REFRESH_TOKEN", "AUTH_INVALID_PASSWORD",
        "AUTH_INVALID_PROVIDER_ID", "AUTH_DUPLICATE_USER_DATA", "AUTH_DUPLICATE_PROVIDER_ID",
        "AUTH_INVALID_USER_ID", "AUTH_INVALID_REQUEST", "AUTH_NOT_AUTHENTICATED",
        "DATABASE_FETCH_FAILED", "DATABASE_UPDATE_FAILED", "REQUEST_UNAUTHORIZED", "UNKNOWN_ERROR",
        "AUTH_OUTDATED_PASSWORD", "AUTH_DUPLICATE_ACCESS_TOKEN", "AUTH_DUPLICATE_REFRESH_TOKEN",
        "AUTH_INVALID_USER_DATA", "REQUEST_TIMEOUT", "UNSAFE_REDIRECT",
    ]
else:
    ErrorCode = str  # at run time, codes are plain strings

#: Every code a ``LuciaError`` can carry: lucia-sveltekit 0.10's ``ErrorMessage``, then the
#: client's own. ``ErrorCode`` names the same set for type checkers (a unit test keeps them equal).
ERROR_CODES: "Final[frozenset[str]]" = frozenset((
    "AUTH_INVALID_ACCESS_TOKEN", "AUTH_INVALID_REFRESH_TOKEN", "AUTH_INVALID_PASSWORD",
    "AUTH_INVALID_PROVIDER_ID", "AUTH_DUPLICATE_USER_DATA", "AUTH_DUPLICATE_PROVIDER_ID",
    "AUTH_INVALID_USER_ID", "AUTH_INVALID_REQUEST", "AUTH_NOT_AUTHENTICATED",
    "DATABASE_FETCH_FAILED", "DATABASE_UPDATE_FAILED", "REQUEST_UNAUTHORIZED", "UNKNOWN_ERROR",
    "AUTH_OUTDATED_PASSWORD", "AUTH_DUPLICATE_ACCESS_TOKEN", "AUTH_DUPLICATE_REFRESH_TOKEN",
    # Raised by the client itself.
    "AUTH_INVALID_USER_DATA", "REQUEST_TIMEOUT", "UNSAFE_REDIRECT",
))

# What the server sends to this client's two endpoints.
AUTH_INVALID_REFRESH_TOKEN: "Final" = "AUTH_INVALID_REFRESH_TOKEN"
AUTH_INVALID_ACCESS_TOKEN: "Final" = "AUTH_INVALID_ACCESS_TOKEN"
AUTH_INVALID_REQUEST: "Final" = "AUTH_INVALID_REQUEST"
DATABASE_FETCH_FAILED: "Final" = "DATABASE_FETCH_FAILED"
DATABASE_UPDATE_FAILED: "Final" = "DATABASE_UPDATE_FAILED"
UNKNOWN_ERROR: "Final" = "UNKNOWN_ERROR"
AUTH_NOT_AUTHENTICATED: "Final" = "AUTH_NOT_AUTHENTICATED"
# Raised by the client itself.
AUTH_INVALID_USER_DATA: "Final" = "AUTH_INVALID_USER_DATA"
REQUEST_TIMEOUT: "Final" = "REQUEST_TIMEOUT"
UNSAFE_REDIRECT: "Final" = "UNSAFE_REDIRECT"


class LuciaError(Exception):
    """Every failure of a lucia_pyodide call.

    ``code`` is what a program decides on (``err.code == AUTH_INVALID_REFRESH_TOKEN``,
    an ``ErrorCode``); ``detail`` is what a developer reads: the HTTP status, a body
    excerpt, the JS error. ``status`` is the HTTP status when a response arrived, else
    ``None``.
    """

    def __init__(self, code: "ErrorCode", detail: str = "", *, status: "int | None" = None) -> None:
        super().__init__(code, detail)
        self.code: ErrorCode = code
        self.detail = detail
        self.status = status

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}" if self.detail else self.code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.detail!r}, status={self.status!r})"


if TYPE_CHECKING:
    class _RedirectBase(LuciaError, ValueError):
        pass
else:
    try:
        class _RedirectBase(LuciaError, ValueError):
            pass
    except TypeError:  # MicroPython: "multiple bases have instance lay-out conflict"
        class _RedirectBase(LuciaError):
            pass


class UnsafeRedirectError(_RedirectBase):
    """A redirect target that is not a same-origin http(s) URL; raised before any request.

    A ``LuciaError`` (code ``UNSAFE_REDIRECT``), and a ``ValueError`` too, except in
    MicroPython (which cannot mix two built-in exception layouts).
    """

    def __init__(self, detail: str) -> None:
        super().__init__(UNSAFE_REDIRECT, detail)
