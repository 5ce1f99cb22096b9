"""lucia_pyodide: the Lucia session client for Python in the browser (Pyodide, PyScript).

    from lucia_pyodide import get_user, refresh_session, sign_out

    user = get_user()                 # the user the server rendered into the page, or None
    expires = await refresh_session() # new expiry, ms since the epoch
    await sign_out("/login")          # sign out, then go to /login

Importing touches neither the page nor the network.
"""

from __future__ import annotations

from ._client import DEFAULT_SESSION_LIFETIME_MS, LuciaClient
from ._errors import LuciaError, UnsafeRedirectError
from ._user import User

__version__ = "0.1.0"
__all__ = [
    "DEFAULT_SESSION_LIFETIME_MS",
    "LuciaClient",
    "LuciaError",
    "UnsafeRedirectError",
    "User",
    "default_client",
    "get_user",
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
    """Replace the default client (``None``: a fresh one on next use); for tests and config."""
    global _default
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
