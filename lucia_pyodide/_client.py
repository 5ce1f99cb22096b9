"""``LuciaClient``: the configuration, the user the page shows, and the session operations in order.

Its parts have homes of their own: the requests (``_requests.SessionRequests``), the
other tabs (``_tabs.TabSync``), the page's own life and looks at the server
(``_lifecycle.PageLife``), keep-alive (``_keepalive``), where the user comes from (``_user``).
"""

import asyncio
import logging

from ._compat import DefaultPage, DefaultTabs, DefaultTransport
from ._compat._lang import can_spawn, shielded, spawn, start_task
from ._errors import AUTH_INVALID_REFRESH_TOKEN, AUTH_NOT_AUTHENTICATED, LuciaError
from ._events import (
    SESSION_LOST,
    SESSION_REFRESHED,
    SIGNED_IN,
    SIGNED_OUT,
    AuthEvent,
    EventHub,
)
from ._lifecycle import PageLife
from ._requests import SessionRequests
from ._tabs import TabSync, now_ms
from ._user import User, read_user, rendered_form

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Iterable, Mapping
    from typing import Any

    from ._compat._protocols import Page, Tabs, Transport
    from ._events import EventType, Listener
    from ._keepalive import KeepAlive

# What only some pages use is imported on first use (_redirect, _responses): every module
# costs a page its compile time, MicroPython's most of all. (_keepalive is imported by the
# package itself, which exports KeepAlive.)

logger = logging.getLogger("lucia_pyodide")

#: lucia-sveltekit 0.10's access-token lifetime: what an empty refresh answer means.
DEFAULT_SESSION_LIFETIME_MS = 8 * 60 * 60 * 1000


def _join(base_url: "str | None", path: str) -> str:
    if not base_url:
        return path
    from ._redirect import join  # noqa: PLC0415

    return join(base_url, path)


class LuciaClient:
    """A session client for one Lucia server.

    The module functions ``get_user``, ``refresh_session`` and ``sign_out`` use a
    default instance; make your own to mount the endpoints elsewhere, to talk to
    a server from Node (``base_url`` is then required) or to change the timeout::

        client = LuciaClient("https://app.example", timeout=5)
        expires = await client.refresh_session()

    Every client of a page coordinates with the origin's other tabs by itself (see
    ``_tabs.TabSync``): refreshes and sign-outs take turns, and what one tab learns
    the others hear.
    """

    def __init__(
        self,
        base_url: "str | None" = None,
        *,
        timeout: float = 10.0,
        session_lifetime_ms: int = DEFAULT_SESSION_LIFETIME_MS,
        refresh_path: str = "/api/auth/refresh-session",
        logout_path: str = "/api/auth/logout",
        allowed_redirect_origins: "Iterable[str]" = (),
        headers: "Mapping[str, str] | None" = None,
        verify_delay: float = 0.5,
        recheck_floor: float = 10.0,
        transport: "Transport | None" = None,
        page: "Page | None" = None,
        tabs: "Tabs | None" = None,
    ) -> None:
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, not {timeout!r}")
        if session_lifetime_ms <= 0:
            raise ValueError(f"session_lifetime_ms must be positive, not {session_lifetime_ms!r}")
        if not verify_delay >= 0:
            raise ValueError(f"verify_delay must be >= 0, not {verify_delay!r}")
        if not recheck_floor >= 0:
            raise ValueError(f"recheck_floor must be >= 0, not {recheck_floor!r}")
        self.base_url = base_url
        self.timeout = float(timeout)
        self.session_lifetime_ms = session_lifetime_ms
        self.refresh_url = _join(base_url, refresh_path)
        self.logout_url = _join(base_url, logout_path)
        self.allowed_redirect_origins = tuple(allowed_redirect_origins)
        #: Extra request headers, for hosts that keep no cookies or send no Origin (Node).
        self.headers: Mapping[str, str] = dict(headers or {})
        #: How long a refused refresh waits for another party's refresh before trying once more.
        self.verify_delay = float(verify_delay)
        self._transport: Transport = transport if transport is not None else DefaultTransport()
        self._page: Page = page if page is not None else DefaultPage()
        self._user: User | None = None
        self._user_read = False
        self._form: str | None = None  # how the server rendered the user: how to ask it again
        self._changed_at = 0  # when (ms) this page last changed its user
        self._signing_out = 0  # this client's sign_out() calls under way
        #: When the look was sent whose "nobody" came during a sign-out, held back
        #: (that sign-out's own SIGNED_OUT is the news); replayed if the sign-out fails.
        self._held_nobody: int | None = None
        #: Why ``get_user()`` returned ``None``: no page data, signed out, or signed out here.
        self.user_reason = "not read yet"
        #: The session's expiry (ms) as last learned here or from another tab; ``None``: unknown.
        self.expires: int | None = None
        self._events = EventHub()
        # Other tabs may claim expiries up to twice the session lifetime ahead, no further.
        self._sync = TabSync(tabs if tabs is not None else DefaultTabs(),
                             max_lifetime_ms=2 * session_lifetime_ms)
        self._life = PageLife(self._page, self._transport, self, floor=recheck_floor)
        # One session operation (a refresh or a sign-out) at a time in this page; the
        # Web Lock in TabSync does the same across tabs.
        self._turn = asyncio.Lock()
        self._refresh: asyncio.Task[int] | None = None
        self._requests = SessionRequests(self, self._transport, self._sync, self._user_id)
        self._background: set[asyncio.Task[None]] = set()
        self._keep_alive: KeepAlive | None = None

    # -- the user -----------------------------------------------------------------
    def get_user(self) -> "User | None":
        """What a reload of the page would show: its signed-in user, or ``None``.

        First the user the server rendered into the page, read without a request from
        ``globalThis._lucia_page_data`` (lucia-sveltekit) or else ``<script
        type="application/json" id="lucia-user">``. From then on the page keeps it
        true: a sign-out or sign-in in any tab of the origin, a page brought back by
        Back from a cache, a tab visible again after a while (see ``check_user``).
        Corrupt page data raises ``LuciaError("AUTH_INVALID_USER_DATA")``.
        """
        if not self._user_read:
            self._read_page()
        return self._user

    def _read_page(self) -> None:
        # Read once per client, so each reason below is said once, not on every call.
        self._user, self.user_reason, self._form = read_user(self._page)
        self._user_read = True
        if self._user is None:
            log = logger.warning if self._form is None else logger.info
            log("lucia_pyodide: get_user() is None: %s", self.user_reason)
        if self._form is None:
            return
        rendered_at = self._life.rendered_at()
        self._life.heard_at = rendered_at or 0
        self.sync_tabs()
        if rendered_at is None:
            self._stale("this page was shown from a cache, not by the server now")
        elif self._user is not None:
            if can_spawn():
                self._in_background(self._say_signed_in(self._user.user_id))
            else:
                self._sync.say_signed_in(self._user.user_id)

    async def _say_signed_in(self, user_id: str) -> None:
        await asyncio.sleep(0.05)  # MicroPython's first read of the record is a microtask away
        if self._user is not None and self._user.user_id == user_id:
            self._sync.say_signed_in(user_id)

    async def check_user(self) -> "User | None":
        """Ask the server now who a reload of this page would show, and show that.

        One ``GET`` with the browser's cookies (the page itself, or SvelteKit's
        ``__data.json`` for it), never a refresh. Listeners hear ``SIGNED_OUT`` or
        ``SIGNED_IN`` (remote) if it changed. The client does this by itself at each
        moment the page may have gone stale. Raises ``LuciaError`` when the server's
        answer does not say, with nothing changed.
        """
        self.get_user()
        if self._form is None:
            return None
        asked_at = now_ms()
        self._server_shows(await self._life.ask(self._form), asked_at)
        return self._user

    def _shown(self) -> "User | None":
        """What ``get_user()`` shows, the page read first if need be; ``None`` for corrupt data."""
        try:
            return self.get_user()
        except LuciaError:
            return None

    def _stale(self, why: str) -> None:
        """What the page shows may be old: learn what a reload would show."""
        if self._shown() is not None and self._sync.ended_since(self._life.heard_at):
            self._end_session_here(SIGNED_OUT, f"signed out in another tab ({why})", remote=True)
            return
        logger.info("lucia_pyodide: %s: asking the server who is signed in", why)
        self._life.look(self._form, self._server_shows)

    def _server_shows(self, user: "User | None", asked_at: int) -> None:
        """The server's answer to a look sent at ``asked_at``: adopt it, say what changed."""
        if self._changed_at > asked_at:
            return  # this page learned something newer while the answer was on its way
        self._life.heard_at = asked_at
        before = self._user
        if user is None:
            if before is not None and self._signing_out:
                self._held_nobody = asked_at
            elif before is not None:
                self._end_session_here(SIGNED_OUT, "signed out elsewhere: the server shows "
                                       "nobody", remote=True)
            return
        self._user, self.user_reason = user, "signed in"
        if before is None or before.user_id != user.user_id:
            self._changed_at, self.expires = now_ms(), None  # someone else's session now
            self._events.emit(AuthEvent(SIGNED_IN, remote=True, user=user))
            self._sync.say_signed_in(user.user_id)

    def require_user(self, sign_in: str = "/login", *, next_param: "str | None" = "next") -> "User | None":
        """The signed-in user; if there is none, send the browser to ``sign_in`` and return ``None``.

        For pages only signed-in users may see::

            user = require_user("/login")
            if user is None:
                raise SystemExit  # the browser is on its way to /login

        ``sign_in`` passes the sign-out redirect rules (same origin, or raises
        ``UnsafeRedirectError`` before anything happens); ``?next=`` carries this page's
        path back (``next_param=None`` leaves it off). Corrupt page data raises
        ``LuciaError("AUTH_INVALID_USER_DATA")`` instead: that page is broken, not signed out.
        """
        from ._redirect import check_redirect, with_query  # noqa: PLC0415

        target = check_redirect(sign_in, page_origin=self._page.origin(),
                                allowed_origins=self.allowed_redirect_origins)
        user = self.get_user()
        if user is not None:
            return user
        here = self._page.path()
        if next_param and here:
            target = with_query(target, next_param, here)
        logger.info("lucia_pyodide: require_user: %s; going to %s", self.user_reason, target)
        self._page.navigate(target)
        return None

    def _user_id(self) -> "str | None":
        """The page's user id for the shared record; ``None`` if unknown or unreadable."""
        user = self._shown()
        return user.user_id if user is not None else None

    def forget_user(self, reason: str = "signed out") -> None:
        """Drop the cached user (and the session's expiry with it): the session is over.

        ``get_user()`` returns ``None`` until the server shows a user again.
        """
        if not self._user_read:
            # The page's user is over unread: still know how to ask the server again,
            # to hear a later sign-in.
            self._form = rendered_form(self._page)
        self._user, self._user_read, self.user_reason = None, True, reason
        self.expires, self._changed_at = None, now_ms()

    # -- events, tabs, keep-alive ---------------------------------------------------
    def on_change(self, listener: "Listener") -> "Callable[[], None]":
        """Call ``listener(event)`` on each ``AuthEvent``; returns the function that unsubscribes.

        ``listener`` may be sync or async; one that raises is logged and the rest still
        run. Events: ``SIGNED_IN`` (``event.user``: the server shows a user this page
        did not), ``SIGNED_OUT``, ``SESSION_REFRESHED`` (``event.expires``) and
        ``SESSION_LOST`` (a refresh was refused, and refused again: the session is
        gone), from this page or elsewhere (``event.remote``).
        """
        return self._events.subscribe(listener)

    def sync_tabs(self) -> bool:
        """Hear the origin's other tabs (and the page's own life) now; ``False`` where the
        browser can't (Node).

        Automatic: the first refresh, sign-out or ``get_user()`` on a page with user data.
        """
        self._life.start(self._stale, self._woken)
        return self._sync.start(self._on_tab_event, self._on_sign_in_elsewhere)

    @property
    def online(self) -> bool:
        """Whether the browser is online, as far as it knows (keep-alive waits while not)."""
        return self._life.online

    def keep_alive(
        self,
        margin: float = 60.0,
        *,
        min_interval: float = 5.0,
        check_interval: float = 10.0,
        retry_base: float = 1.0,
        retry_cap: float = 60.0,
    ) -> "KeepAlive":
        """Keep the session alive: refresh ``margin`` seconds before it expires, across tabs.

        One tab of the origin refreshes, the others adopt its result. Network errors
        and 5xx are retried with capped exponential backoff and jitter; it stops by
        itself on ``SIGNED_OUT``/``SESSION_LOST``, and ``.stop()`` stops it. With the
        expiry unknown it asks the shared record of the origin's tabs, and refreshes
        only if no tab knows it. ``min_interval``: the least time (s) between two
        refreshes; ``check_interval``: how often (s) wall-clock time is re-read;
        ``retry_base``/``retry_cap``: the backoff's first and longest wait (s).
        """
        if self._keep_alive is not None:
            self._keep_alive.stop("replaced")
        self.sync_tabs()
        from ._keepalive import KeepAlive  # noqa: PLC0415

        self._keep_alive = KeepAlive(
            self, margin=margin, min_interval=min_interval, check_interval=check_interval,
            retry_base=retry_base, retry_cap=retry_cap,
        ).start()
        return self._keep_alive

    def recall_expiry(self) -> "int | None":
        """The expiry, from another tab's record if unknown here (no request is sent)."""
        if self.expires is None:
            self.expires = self._sync.known_expiry(self._user_id())
        return self.expires

    def close(self) -> None:
        """Stop keep-alive, stop hearing other tabs, and tell listeners nothing more (a
        client one is done with: an answer still on its way, a look at the server, say,
        must not reach them as news from the client that replaced this one)."""
        if self._keep_alive is not None:
            self._keep_alive.stop("closed")
        self._sync.close()
        self._life.close()
        self._events.clear()

    def _woken(self, kind: str) -> None:
        if self._keep_alive is not None:
            self._keep_alive.wake(back_online=kind == "online")

    def _on_sign_in_elsewhere(self, user_id: str) -> None:
        # A claim: SIGNED_IN is emitted once the server shows that user.
        user = self._shown()
        if user is None or user.user_id != user_id:
            self._stale("another tab shows a user signed in")

    def _on_tab_event(self, event: "AuthEvent") -> None:
        if event.type == SESSION_REFRESHED:
            if event.expires == self.expires:
                return  # already known here (this tab adopted it from the record)
            self.expires = event.expires
        else:
            self.forget_user(f"{event.type} in another tab")
            if event.type == SIGNED_OUT and self._requests.refreshed_at >= self._sync.ended_at:
                # A refresh of ours came back after that sign-out finished (no lock to
                # keep them apart): its cookies may have outlived the sign-out's.
                self._in_background(self._requests.end_revived_session())
        self._events.emit(event)

    def _in_background(self, coroutine: "Coroutine[Any, Any, None]") -> None:
        async def run() -> None:
            try:
                await coroutine
            finally:
                self._background.discard(task)

        task = spawn(run())
        self._background.add(task)  # a reference, or the task may be collected mid-run

    def _end_session_here(self, event_type: "EventType", reason: str, *, remote: bool = False) -> None:
        """The session is over: forget it, note it for the other tabs, tell everyone."""
        self.forget_user(reason)
        self._sync.record_end()
        event = AuthEvent(event_type, remote=remote)
        self._events.emit(event)
        self._sync.announce(event)

    def _set_expires(self, expires: int) -> None:
        self.expires = expires

    def _learned(self, expires: int, *, adopted: bool) -> None:
        if expires == self.expires:
            return
        self.expires = expires
        event = AuthEvent(SESSION_REFRESHED, expires, remote=adopted)
        self._events.emit(event)
        if not adopted:  # the tab that refreshed has told the others already
            self._sync.announce(event)

    # -- requests -------------------------------------------------------------------
    async def _end_session(self) -> None:
        """``sign_out()``'s requests, in this page's turn and the origin's lock."""
        async with self._turn:  # after this page's refresh in flight, if any
            try:
                async with self._sync.holding(self.timeout + 5):
                    # A refresh on the way is quiet: the sign-out after it is the news.
                    await self._requests.end_server_session(self._set_expires)
            except LuciaError as err:
                if err.code == AUTH_NOT_AUTHENTICATED:
                    self._end_session_here(SESSION_LOST, f"sign_out: {err.detail}")
                raise
            self._end_session_here(SIGNED_OUT, "signed out by sign_out()")

    async def refresh_session(self) -> int:
        """Refresh the session; return its new expiry in ms since the Unix epoch.

        Calls made while one refresh is in flight share it, and tabs take turns (the
        refresh token is single-use): a tab that waited adopts the other's result. A
        refused refresh is tried once more after ``verify_delay`` unless another tab
        refreshed meanwhile; only a second refusal ends the session (``SESSION_LOST``).
        A server that answers with an empty body, as lucia-sveltekit 0.10 does, gets
        ``now + session_lifetime_ms``.
        """
        self.sync_tabs()
        flight = self._refresh
        if flight is None:
            flight = start_task(self._refresh_in_turn(now_ms()))
            if not flight.done():  # an eager task may already be over (an adopted result)
                self._refresh = flight
        # Shielded: one caller giving up must not cancel the request the others await.
        return await shielded(flight)

    async def _refresh_in_turn(self, started: int) -> int:
        async with self._turn:
            try:
                try:
                    async with self._sync.holding(self.timeout + 5) as waited:
                        if waited:
                            await self._sync.settle(started)
                        expires, adopted = await self._requests.verified_refresh(started)
                finally:
                    self._refresh = None  # the listeners told below may start the next one
            except LuciaError as err:
                if err.code == AUTH_INVALID_REFRESH_TOKEN:
                    self._end_session_here(SESSION_LOST, f"the session was lost: {err.detail}")
                raise
            self._learned(expires, adopted=adopted)
            return expires

    async def sign_out(self, redirect: "str | None" = None) -> None:
        """End the session on the server, here and in every tab; then go to ``redirect``.

        Always asks the server, whatever this page believes (it may have been signed in
        again elsewhere). Waits for a refresh in flight in any tab, so that no refresh
        lands after the sign-out. When the server has no access token but a live
        refresh token (the access cookie expired in the browser), the session is
        refreshed and then ended. Raises ``LuciaError("AUTH_NOT_AUTHENTICATED")`` once
        the server confirmed there was no session at all, ``UnsafeRedirectError`` for
        a target off the page's origin (before any request), and any other
        ``LuciaError`` (network, timeout, 5xx) with nothing changed and no navigation.
        """
        target = None
        if redirect is not None:
            from ._redirect import check_redirect  # noqa: PLC0415

            target = check_redirect(
                redirect,
                page_origin=self._page.origin(),
                allowed_origins=self.allowed_redirect_origins,
            )
        self.sync_tabs()
        self._signing_out += 1
        try:
            await self._end_session()
        finally:
            self._signing_out -= 1
            held, self._held_nobody = self._held_nobody, None
            if held is not None:  # a no-op if the session ended here meanwhile
                self._server_shows(None, held)
        if target is not None:
            self._page.navigate(target)
