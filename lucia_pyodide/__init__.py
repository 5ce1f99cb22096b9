"""lucia_pyodide: the Lucia session client for Python in the browser (Pyodide, PyScript).

    from lucia_pyodide import get_user, refresh_session, sign_out

    user = get_user()                 # the user the server rendered into the page, or None
    expires = await refresh_session() # new expiry, ms since the epoch
    await sign_out("/login")          # sign out, then go to /login

Importing touches neither the page nor the network.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._client import DEFAULT_SESSION_LIFETIME_MS, LuciaClient
from ._errors import LuciaError, UnsafeRedirectError
from ._events import SESSION_LOST, SESSION_REFRESHED, SIGNED_OUT, AuthEvent, Listener
from ._user import User

if TYPE_CHECKING:
    from ._keepalive import KeepAlive

__version__ = "0.1.0"
__all__ = [
    "DEFAULT_SESSION_LIFETIME_MS",
    "SESSION_LOST",
    "SESSION_REFRESHED",
    "SIGNED_OUT",
    "AuthEvent",
    "KeepAlive",
    "LuciaClient",
    "LuciaError",
    "UnsafeRedirectError",
    "User",
    "default_client",
    "get_user",
    "keep_alive",
    "on_change",
    "refresh_session",
    "reset_default_client",
    "sign_out",
]

_default: LuciaClient | None = None


def default_client() -> LuciaClient:
    """The client the module functions use, made on first use (same-origin, defaults)."""
    global _default
    if _default is None:
        _default = LuciaClient()
    return _default


def reset_default_client(client: LuciaClient | None = None) -> None:
    """Close the default client and replace it (``None``: a fresh one on next use)."""
    global _default
    if _default is not None and _default is not client:
        _default.close()
    _default = client


def get_user() -> User | None:
    """The signed-in user from the page, or ``None``. See ``LuciaClient.get_user``."""
    return default_client().get_user()


async def refresh_session() -> int:
    """Refresh the session; returns the new expiry in ms. See ``LuciaClient.refresh_session``."""
    return await default_client().refresh_session()


async def sign_out(redirect: str | None = None) -> None:
    """Sign out, then go to ``redirect`` if given. See ``LuciaClient.sign_out``."""
    await default_client().sign_out(redirect)


def on_change(listener: Listener) -> Callable[[], None]:
    """Hear session changes; returns the unsubscribe function. See ``LuciaClient.on_change``."""
    return default_client().on_change(listener)


def keep_alive(margin: float = 60.0, **options: float) -> KeepAlive:
    """Refresh before expiry, across tabs, until signed out. See ``LuciaClient.keep_alive``."""
    return default_client().keep_alive(margin, **options)


def __getattr__(name: str) -> Any:
    # KeepAlive's module loads on first use: importing it costs every page, using it few.
    if name == "KeepAlive":
        from ._keepalive import KeepAlive  # noqa: PLC0415

        return KeepAlive
    raise AttributeError(f"module 'lucia_pyodide' has no attribute {name!r}")
