"""lucia_pyodide: the Lucia session client for Python in the browser (Pyodide, PyScript).

    from lucia_pyodide import get_user, refresh_session, sign_out

    user = get_user()                 # who a reload would show (rendered into the page), or None
    expires = await refresh_session() # new expiry, ms since the epoch
    await sign_out("/login")          # sign out, then go to /login

Importing touches neither the page nor the network.
"""

from ._client import DEFAULT_SESSION_LIFETIME_MS, LuciaClient
from ._errors import (
    AUTH_INVALID_ACCESS_TOKEN,
    AUTH_INVALID_REFRESH_TOKEN,
    AUTH_INVALID_REQUEST,
    AUTH_INVALID_USER_DATA,
    AUTH_NOT_AUTHENTICATED,
    DATABASE_FETCH_FAILED,
    DATABASE_UPDATE_FAILED,
    ERROR_CODES,
    REQUEST_TIMEOUT,
    UNKNOWN_ERROR,
    UNSAFE_REDIRECT,
    ErrorCode,
    LuciaError,
    UnsafeRedirectError,
)
from ._events import (
    EVENT_TYPES,
    SESSION_LOST,
    SESSION_REFRESHED,
    SIGNED_IN,
    SIGNED_OUT,
    AuthEvent,
    EventType,
    Listener,
)
from ._keepalive import KeepAlive
from ._user import User

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

__version__ = "0.1.0"
__all__ = [
    "AUTH_INVALID_ACCESS_TOKEN",
    "AUTH_INVALID_REFRESH_TOKEN",
    "AUTH_INVALID_REQUEST",
    "AUTH_INVALID_USER_DATA",
    "AUTH_NOT_AUTHENTICATED",
    "DATABASE_FETCH_FAILED",
    "DATABASE_UPDATE_FAILED",
    "DEFAULT_SESSION_LIFETIME_MS",
    "ERROR_CODES",
    "EVENT_TYPES",
    "REQUEST_TIMEOUT",
    "SESSION_LOST",
    "SESSION_REFRESHED",
    "SIGNED_IN",
    "SIGNED_OUT",
    "UNKNOWN_ERROR",
    "UNSAFE_REDIRECT",
    "AuthEvent",
    "ErrorCode",
    "EventType",
    "KeepAlive",
    "Listener",
    "LuciaClient",
    "LuciaError",
    "UnsafeRedirectError",
    "User",
    "check_user",
    "default_client",
    "get_user",
    "keep_alive",
    "on_change",
    "refresh_session",
    "require_user",
    "reset_default_client",
    "sign_out",
]

_default: "LuciaClient | None" = None


def default_client() -> LuciaClient:
    """The client the module functions use, made on first use (same-origin, defaults)."""
    global _default
    if _default is None:
        _default = LuciaClient()
    return _default


def reset_default_client(client: "LuciaClient | None" = None) -> None:
    """Close the default client and replace it (``None``: a fresh one on next use)."""
    global _default
    if _default is not None and _default is not client:
        _default.close()
    _default = client


def get_user() -> "User | None":
    """The signed-in user from the page, or ``None``. See ``LuciaClient.get_user``."""
    return default_client().get_user()


async def check_user() -> "User | None":
    """Ask the server who a reload would show, and show that. See ``LuciaClient.check_user``."""
    return await default_client().check_user()


def require_user(sign_in: str = "/login", *, next_param: "str | None" = "next") -> "User | None":
    """The user, or off to ``sign_in`` (returns ``None``). See ``LuciaClient.require_user``."""
    return default_client().require_user(sign_in, next_param=next_param)


async def refresh_session() -> int:
    """Refresh the session; returns the new expiry in ms. See ``LuciaClient.refresh_session``."""
    return await default_client().refresh_session()


async def sign_out(redirect: "str | None" = None) -> None:
    """Sign out, then go to ``redirect`` if given. See ``LuciaClient.sign_out``."""
    await default_client().sign_out(redirect)


def on_change(listener: "Listener") -> "Callable[[], None]":
    """Hear session changes; returns the unsubscribe function. See ``LuciaClient.on_change``."""
    return default_client().on_change(listener)


def keep_alive(
    margin: float = 60.0,
    *,
    min_interval: float = 5.0,
    check_interval: float = 10.0,
    retry_base: float = 1.0,
    retry_cap: float = 60.0,
) -> KeepAlive:
    """Refresh before expiry, across tabs, until signed out. See ``LuciaClient.keep_alive``."""
    return default_client().keep_alive(
        margin, min_interval=min_interval, check_interval=check_interval,
        retry_base=retry_base, retry_cap=retry_cap,
    )
