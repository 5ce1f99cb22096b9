"""``LuciaClient``: the configuration, the cached user and the one refresh in flight."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ._compat import BrowserTabs, FetchTransport, PyodidePage
from ._compat._protocols import Page, Tabs, Transport
from ._errors import AUTH_INVALID_REFRESH_TOKEN, AUTH_NOT_AUTHENTICATED, LuciaError
from ._events import SESSION_LOST, SESSION_REFRESHED, SIGNED_OUT, AuthEvent, EventHub, Listener
from ._redirect import check_redirect
from ._responses import logout_result, refresh_result
from ._user import User, read_page_data, user_from_script_text

if TYPE_CHECKING:
    from ._keepalive import KeepAlive

logger = logging.getLogger("lucia_pyodide")

#: lucia-sveltekit 0.10's access-token lifetime: what an empty refresh answer means.
DEFAULT_SESSION_LIFETIME_MS = 8 * 60 * 60 * 1000


def _now_ms() -> int:
    return int(time.time() * 1000)


def _join(base_url: str | None, path: str) -> str:
    if not base_url:
        return path
    # Imported here: urllib.parse (with ipaddress) costs Pyodide ~130 ms to import,
    # more than all of lucia_pyodide, and a page with same-origin URLs never needs it.
    from urllib.parse import urljoin  # noqa: PLC0415

    return urljoin(base_url, path)


def _start_task(coroutine: Coroutine[Any, Any, int]) -> asyncio.Task[int]:
    """A task that starts running now, not on the next loop turn where Python allows.

    In Pyodide every loop turn is a trip through the browser's task queue, so an
    eager start takes one such trip off every refresh.
    """
    if sys.version_info >= (3, 12):
        return asyncio.Task(coroutine, loop=asyncio.get_running_loop(), eager_start=True)
    return asyncio.ensure_future(coroutine)  # pragma: no cover - CPython 3.11 unit tests


class LuciaClient:
    """A session client for one Lucia server.

    The module functions ``get_user``, ``refresh_session`` and ``sign_out`` use a
    default instance; make your own to mount the endpoints elsewhere, to talk to
    a server from Node (``base_url`` is then required) or to change the timeout::

        client = LuciaClient("https://app.example", timeout=5)
        expires = await client.refresh_session()
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: float = 10.0,
        session_lifetime_ms: int = DEFAULT_SESSION_LIFETIME_MS,
        refresh_path: str = "/api/auth/refresh-session",
        logout_path: str = "/api/auth/logout",
        allowed_redirect_origins: Iterable[str] = (),
        headers: Mapping[str, str] | None = None,
        transport: Transport | None = None,
        page: Page | None = None,
        tabs: Tabs | None = None,
    ) -> None:
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, not {timeout!r}")
        if session_lifetime_ms <= 0:
            raise ValueError(f"session_lifetime_ms must be positive, not {session_lifetime_ms!r}")
        self.base_url = base_url
        self.timeout = float(timeout)
        self.session_lifetime_ms = session_lifetime_ms
        self.refresh_url = _join(base_url, refresh_path)
        self.logout_url = _join(base_url, logout_path)
        self.allowed_redirect_origins = tuple(allowed_redirect_origins)
        #: Extra request headers, for hosts that keep no cookies or send no Origin (Node).
        self.headers: Mapping[str, str] = dict(headers or {})
        self._transport: Transport = transport if transport is not None else FetchTransport()
        self._page: Page = page if page is not None else PyodidePage()
        self._user: User | None = None
        self._user_read = False
        #: Why ``get_user()`` returned ``None``: no page data, signed out, or signed out here.
        self.user_reason = "not read yet"
        self._refresh: asyncio.Future[int] | None = None
        #: The session's expiry (ms) as last learned here or from another tab; ``None``: unknown.
        self.expires: int | None = None
        self._events = EventHub()
        self._tabs: Tabs = tabs if tabs is not None else BrowserTabs()
        self._tab_sync = False
        self._keep_alive: KeepAlive | None = None

    # -- the user -----------------------------------------------------------------
    def get_user(self) -> User | None:
        """The user the server rendered into the page, or ``None`` when signed out.

        Read without a request, from ``globalThis._lucia_page_data`` (lucia-sveltekit)
        or else ``<script type="application/json" id="lucia-user">``, then cached.
        Corrupt page data raises ``LuciaError("AUTH_INVALID_USER_DATA")``.
        """
        if not self._user_read:
            self._user = self._read_user()
            self._user_read = True
        return self._user

    def _read_user(self) -> User | None:
        page_data = self._page.page_data_json()
        if page_data is not None:
            user, self.user_reason = read_page_data(page_data)
            if user is None:
                logger.debug("get_user: %s", self.user_reason)
            return user
        script = self._page.user_script_text()
        if script is not None:
            user = user_from_script_text(script)
            self.user_reason = "signed in" if user else "#lucia-user says signed out (null)"
            return user
        self.user_reason = (
            "no user data in the page: neither globalThis._lucia_page_data nor "
            '<script id="lucia-user"> exists (is the server rendering it?)'
        )
        logger.debug("get_user: %s", self.user_reason)
        return None

    def forget_user(self, reason: str = "signed out") -> None:
        """Drop the cached user (and the session's expiry with it): the session is over.

        ``get_user()`` returns ``None`` until the next page load.
        """
        self._user, self._user_read, self.user_reason = None, True, reason
        self.expires = None

    # -- events, tabs, keep-alive ---------------------------------------------------
    def on_change(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(event)`` on each ``AuthEvent``; returns the function that unsubscribes.

        ``listener`` may be sync or async; one that raises is logged and the rest still
        run. Events: ``SIGNED_OUT``, ``SESSION_REFRESHED`` (``event.expires``) and
        ``SESSION_LOST`` (a refresh was refused: the session is gone), from this tab or,
        with ``sync_tabs()``, another (``event.remote``).
        """
        return self._events.subscribe(listener)

    def sync_tabs(self) -> bool:
        """Share the session with the origin's other tabs; ``False`` where the browser can't.

        Refreshes then take an origin-wide Web Lock (one at a time across tabs; a tab
        that waited adopts the winner's result), and sign-outs and refreshes are
        announced on a ``BroadcastChannel`` (messages carry no token).
        """
        if not self._tab_sync:
            self._tab_sync = True
            return self._tabs.listen(self._on_tab_message, self._on_visible)
        return True

    def keep_alive(self, margin: float = 60.0, **options: Any) -> KeepAlive:
        """Keep the session alive: refresh ``margin`` seconds before it expires, across tabs.

        The one call to opt in: it also starts ``sync_tabs()``. Network errors and 5xx
        are retried with capped exponential backoff and jitter; it stops by itself on
        ``SIGNED_OUT``/``SESSION_LOST``, and ``.stop()`` stops it. With the expiry
        unknown (a fresh page), it refreshes at once to learn it. ``options``:
        ``check_interval`` (s, how often wall-clock time is re-read), ``retry_base``,
        ``retry_cap`` (s).
        """
        from ._keepalive import KeepAlive  # noqa: PLC0415 - on use: most pages never call it

        if self._keep_alive is not None:
            self._keep_alive.stop("replaced")
        self.sync_tabs()
        self._keep_alive = KeepAlive(self, margin=margin, **options).start()
        return self._keep_alive

    def close(self) -> None:
        """Stop keep-alive and tab sync (a client that is done with; tests, single-page apps)."""
        if self._keep_alive is not None:
            self._keep_alive.stop("closed")
        self._tabs.close()
        self._tab_sync = False

    def _on_visible(self) -> None:
        if self._keep_alive is not None:
            self._keep_alive.wake()

    def _on_tab_message(self, message: object) -> None:
        from ._tabs import decode_event  # noqa: PLC0415 - tab sync modules load on first use

        event = decode_event(message)
        if event is None:
            logger.debug("lucia_pyodide: ignored a tab message that is not ours: %.80r", message)
            return
        if event.type == SESSION_REFRESHED:
            if event.expires == self.expires:
                return  # already known here (this tab adopted it while waiting for the lock)
            self.expires = event.expires
        else:
            self.forget_user(f"{event.type} in another tab")
        self._events.emit(event)

    def _announce(self, event: AuthEvent) -> None:
        """Tell this tab's listeners, then (with tab sync) the other tabs."""
        self._events.emit(event)
        if self._tab_sync:
            from ._tabs import encode_event  # noqa: PLC0415

            self._tabs.post(encode_event(event))

    # -- requests -------------------------------------------------------------------
    async def refresh_session(self) -> int:
        """Refresh the session; return its new expiry in ms since the Unix epoch.

        Calls made while one refresh is in flight share it (the refresh token is
        single-use, so a second request would fail). A server that answers with an
        empty body, as lucia-sveltekit 0.10 does, gets ``now + session_lifetime_ms``.
        """
        if self._refresh is None:
            self._refresh = _start_task(self._do_refresh())
            self._refresh.add_done_callback(self._refresh_done)
        # shield: one caller giving up must not cancel the request the others await.
        return await asyncio.shield(self._refresh)

    def _refresh_done(self, future: asyncio.Future[int]) -> None:
        # Runs once the shared refresh (and its cross-tab lock) is over: listeners
        # may call refresh_session() again without waiting on anything of ours.
        self._refresh = None
        if future.cancelled():
            return
        error = future.exception()  # also marks it retrieved: the callers all see it
        if error is None:
            if future.result() == self.expires:
                return  # adopted from another tab, whose message already told everyone
            self.expires = future.result()
            self._announce(AuthEvent(SESSION_REFRESHED, self.expires))
        elif isinstance(error, LuciaError) and error.code == AUTH_INVALID_REFRESH_TOKEN:
            self.forget_user("the session was lost: the refresh token was refused")
            self._announce(AuthEvent(SESSION_LOST))

    async def _do_refresh(self) -> int:
        if not self._tab_sync:
            return await self._send_refresh()
        from ._tabs import adoptable_expiry, encode_record  # noqa: PLC0415

        started = _now_ms()
        # Another tab's refresh can take the lock for at most its own request timeout.
        release = await self._tabs.lock(self.timeout + 5)
        try:
            adopted = adoptable_expiry(self._tabs.read_record(), since_ms=started)
            if adopted is not None:
                return adopted  # the tab that held the lock refreshed while we waited
            expires = await self._send_refresh()
            self._tabs.write_record(encode_record(expires, _now_ms()))
            return expires
        finally:
            if release is not None:
                release()

    async def _send_refresh(self) -> int:
        response = await self._transport.post(
            self.refresh_url, timeout=self.timeout, headers=self.headers
        )
        return refresh_result(
            response, now_ms=_now_ms(), session_lifetime_ms=self.session_lifetime_ms
        )

    async def sign_out(self, redirect: str | None = None) -> None:
        """Sign out, forget the user, then go to ``redirect`` if given.

        Raises ``LuciaError("AUTH_NOT_AUTHENTICATED")`` when no user is signed in and
        ``UnsafeRedirectError`` for a target off the page's origin, both before any
        request is sent.
        """
        target = None
        if redirect is not None:
            target = check_redirect(
                redirect,
                page_origin=self._page.origin(),
                allowed_origins=self.allowed_redirect_origins,
            )
        if self.get_user() is None:
            raise LuciaError(AUTH_NOT_AUTHENTICATED, f"sign_out: {self.user_reason}")
        response = await self._transport.post(
            self.logout_url, timeout=self.timeout, headers=self.headers
        )
        logout_result(response)
        self.forget_user("signed out by sign_out()")
        self._announce(AuthEvent(SIGNED_OUT))
        if target is not None:
            self._page.navigate(target)
