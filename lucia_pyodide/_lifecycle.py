"""``PageLife``: the moments when what this page shows may have gone stale, and asking the server.

A page's user was true when the server rendered it. It may no longer be when the page
comes back from the back-forward cache, when this document itself is an old rendering
(Back to a page the HTTP cache kept), when the tab becomes visible after a while, when
another tab says a user signed in, or after the network was gone. At each such moment
the client (``LuciaClient._stale``) first asks what it knows (the tabs' record may
say the session ended: no request), else ``PageLife`` asks the server what a reload
would show: one ``GET`` with the cookies and without a token (the page itself,
or SvelteKit's ``__data.json`` for its route), never a refresh.

``PageLife`` also knows whether the browser is online, which keep-alive asks.
"""

import asyncio
import logging

from ._compat._lang import spawn
from ._errors import UNKNOWN_ERROR, LuciaError
from ._tabs import now_ms
from ._user import PAGE_DATA, SCRIPT, read_route_data, user_from_script_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from ._compat._protocols import Page, Transport
    from ._requests import Settings
    from ._user import User

logger = logging.getLogger("lucia_pyodide")

#: Looks are at least this far apart (s): a flood of tab messages costs one a second.
LOOK_SPACING = 1.0
#: An answer larger than this is not a page of ours (bytes of text).
MAX_ANSWER = 2_000_000
#: Redirects of SvelteKit's route data followed before giving up (it answers them as data).
MAX_HOPS = 2


def route_data_url(path: str) -> str:
    """SvelteKit's route data for the page at ``path`` (``/a/b?q#h`` -> ``/a/b/__data.json?q``)."""
    path = path.split("#", 1)[0]
    pathname, mark, query = path.partition("?")
    return f"{pathname.rstrip('/')}/__data.json{mark}{query}"


class PageLife:
    """This page's own life: back-forward cache, visibility, the network, and looks at the server.

    ``start`` hears the page; each stale moment calls ``on_stale(why)``, and every
    moment keep-alive should re-check at calls ``on_wake(kind)``. ``look`` asks the
    server (one at a time, coalesced, at most one a ``LOOK_SPACING``) and hands its
    answer to ``on_answer``. A visible tab counts as a moment only if the page heard
    from the server at least ``floor`` seconds ago (``heard_at``): a tab flipping
    between visible and hidden costs nothing.
    """

    def __init__(self, page: "Page", transport: "Transport", settings: "Settings", *,
                 floor: float, clock_ms: "Callable[[], int]" = now_ms) -> None:
        self._page, self._transport, self._clock = page, transport, clock_ms
        self._settings, self._floor = settings, floor
        self._started = False
        #: Whether the browser is online, as far as it knows (``navigator.onLine``).
        self.online = True
        #: When (ms) this page last learned its user from the server (set by the client).
        self.heard_at = 0
        self._on_stale: Callable[[str], None] = lambda why: None
        self._on_wake: Callable[[str], None] = lambda kind: None
        self._look_when_online = False
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._last_look = -LOOK_SPACING * 1000

    def start(self, on_stale: "Callable[[str], None]", on_wake: "Callable[[str], None]") -> bool:
        """Hear the page from now on (idempotent); ``False`` where there is no page."""
        if self._started:
            return True
        self._started, self._on_stale, self._on_wake = True, on_stale, on_wake
        try:
            self.online = self._page.online()
            return self._page.watch(self._on_page)
        except Exception as err:  # a page that breaks its own globals: no moments, no harm
            logger.warning("lucia_pyodide: cannot watch the page (%r)", err)
            return False

    def close(self) -> None:
        if self._started:
            self._started = False
            self._page.unwatch()

    def _on_page(self, kind: str) -> None:
        if kind == "offline":
            self.online = False
        elif kind == "online":
            self.online = True
            if self._look_when_online:
                self._look_when_online = False
                self._on_stale("back online")
        elif kind == "restored":
            self._on_stale("shown again from the back-forward cache")
        elif kind == "visible" and self._clock() - self.heard_at >= self._floor * 1000:
            since = (f"{(self._clock() - self.heard_at) / 1000:.0f} s after the server was last "
                     "heard" if self.heard_at else "the server not heard since the page loaded")
            self._on_stale(f"visible again, {since}")
        if kind != "hidden":
            self._on_wake(kind)

    def rendered_at(self) -> "int | None":
        """When (ms) the server rendered this document, at the latest; ``None`` when it may be
        an old rendering (``Page.shown_from_cache``)."""
        try:
            if self._page.shown_from_cache():
                return None
        except Exception as err:
            logger.warning("lucia_pyodide: cannot tell how this page was loaded (%r)", err)
        return self._clock() - int(self._page.age_ms())

    # -- looks -----------------------------------------------------------------------
    def look(self, form: "str | None",
             on_answer: "Callable[[User | None, int], None]") -> None:
        """Ask the server soon what a reload shows; ``on_answer(user, asked_at_ms)`` if it says.

        Offline, the look waits for ``online``. Calls while one is on its way make it
        run once more afterwards (what they learned of may have come after it left).
        """
        if form is None:
            logger.info("lucia_pyodide: the server cannot be asked: this page has no user data")
            return
        if not self.online:
            self._look_when_online = True
            return
        if self._task is not None:
            self._again = True
            return
        self._task = spawn(self._looks(form, on_answer))

    async def _looks(self, form: str, on_answer: "Callable[[User | None, int], None]") -> None:
        try:
            while True:
                self._again = False
                wait = self._last_look + LOOK_SPACING * 1000 - self._clock()
                if wait > 0:
                    await asyncio.sleep(wait / 1000)
                self._last_look = asked_at = self._clock()
                try:
                    user = await self.ask(form)
                except LuciaError as err:
                    logger.warning("lucia_pyodide: asking the server who is signed in: %s", err)
                else:
                    on_answer(user, asked_at)
                if not self._again:
                    return
        finally:
            self._task = None

    async def ask(self, form: str) -> "User | None":
        """What a reload of this page would show, from the server: its user or ``None``.

        Raises ``LuciaError`` when the answer does not say (a network failure, an
        error status, a page without the user in it, garbage).
        """
        path = self._page.path() or "/"
        url = route_data_url(path) if form == PAGE_DATA else path.split("#", 1)[0]
        base_url = self._settings.base_url
        if base_url:  # a client of a server elsewhere (Node)
            from ._redirect import join  # noqa: PLC0415

            url = join(base_url, url)
        for _hop in range(MAX_HOPS + 1):
            text = await self._get(url)
            if form == SCRIPT:
                script = self._page.user_script_in(text)
                if script is None:
                    raise LuciaError(UNKNOWN_ERROR, f"GET {url}: the page has no "
                                     '<script id="lucia-user"> to say who is signed in')
                return user_from_script_text(script, f"GET {url} #lucia-user")
            user, location = read_route_data(text, f"GET {url}")
            if location is None:
                return user
            if not location.startswith("/") or location.startswith("//"):
                raise LuciaError(UNKNOWN_ERROR, f"GET {url}: redirected off this origin's "
                                 f"paths, to {location[:80]!r}")
            url = route_data_url(location)
        raise LuciaError(UNKNOWN_ERROR, f"GET {url}: redirected more than {MAX_HOPS} times")

    async def _get(self, url: str) -> str:
        settings = self._settings
        response = await self._transport.get(url, timeout=settings.timeout, headers=settings.headers)
        if response.status != 200 or response.redirected_to is not None:
            raise LuciaError(UNKNOWN_ERROR, f"GET {url}: status {response.status}",
                             status=response.status)
        if len(response.body) > MAX_ANSWER:
            raise LuciaError(UNKNOWN_ERROR, f"GET {url}: {len(response.body)} characters, "
                             f"more than a page of ours ({MAX_ANSWER})")
        return response.body
