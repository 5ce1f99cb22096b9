"""What the client needs from its surroundings: a transport, a page and the origin's other tabs."""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, Protocol
else:
    Protocol = object  # the protocols below are for type checkers; MicroPython has no typing


class HttpResponse:
    """What a ``Transport`` hands back: the status and the body as text.

    ``redirected_to`` is set when the server answered with a redirect, which the
    client never follows (an auth endpoint has no business moving).
    """

    def __init__(self, status: int, body: str, redirected_to: "str | None" = None) -> None:
        self.status, self.body, self.redirected_to = status, body, redirected_to

    def __repr__(self) -> str:
        return f"HttpResponse({self.status!r}, {self.body!r}, redirected_to={self.redirected_to!r})"


class LockGrant:
    """The origin-wide lock, held: ``release()`` lets it go.

    ``waited`` says another holder had it first: what that holder wrote to the record
    or posted may not have reached this tab yet (engines carry ``localStorage`` and the
    lock between tabs on separate paths).
    """

    def __init__(self, release: "Callable[[], None]", *, waited: bool) -> None:
        self.release, self.waited = release, waited


class LockTimeout(Exception):
    """The origin-wide lock was not granted in time: another tab holds it (or died holding it)."""


class JsCallError(Exception):
    """A JavaScript call threw; the message is the JS error's."""


class Transport(Protocol):
    """Sends one POST and returns the whole answer, or raises ``LuciaError``.

    It must give up after ``timeout`` seconds (code ``REQUEST_TIMEOUT``) and map
    every network failure to ``UNKNOWN_ERROR`` with a detail saying what failed.
    """

    async def post(
        self, url: str, *, timeout: float, headers: "Mapping[str, str]"
    ) -> HttpResponse: ...

    async def get(
        self, url: str, *, timeout: float, headers: "Mapping[str, str]"
    ) -> HttpResponse:
        """A ``GET`` past every cache (``cache: "no-store"``), following redirects, as a
        reload would: how the client asks the server who is signed in, without a token."""
        ...


class Page(Protocol):
    """The page the client runs in (or nothing like one, in Node)."""

    def page_data_json(self) -> "str | None":
        """``globalThis._lucia_page_data`` as JSON text; ``None`` when it is not set."""
        ...

    def user_script_text(self) -> "str | None":
        """Text of ``<script id="lucia-user">``; ``None`` without such an element or a DOM."""
        ...

    def origin(self) -> "str | None":
        """The page's origin (``location.origin``); ``None`` where there is no page."""
        ...

    def path(self) -> "str | None":
        """The page's own path, query and fragment (``/a?b#c``); ``None`` where there is no page."""
        ...

    def where(self) -> str:
        """What the client runs in: ``"page"``, ``"worker"`` (a web worker: no DOM) or ``"no browser"``."""
        ...

    def navigate(self, url: str) -> None:
        """Send the browser to ``url``."""
        ...

    def user_script_in(self, html: str) -> "str | None":
        """The text of ``<script id="lucia-user">`` in the HTML document ``html`` (parsed as
        the browser parses a page, running nothing); ``None`` if it has none."""
        ...

    def shown_from_cache(self) -> bool:
        """Whether this document may be an old rendering: reached through the history
        (Back, Forward) or served from the HTTP cache rather than by the server now."""
        ...

    def age_ms(self) -> float:
        """Milliseconds since this document's navigation started (``performance.now()``)."""
        ...

    def online(self) -> bool:
        """``navigator.onLine``: ``False`` only when the browser knows it is offline."""
        ...

    def watch(self, on_change: "Callable[[str], None]") -> bool:
        """Call ``on_change`` with ``"restored"`` (shown again from the back-forward cache),
        ``"visible"``, ``"hidden"``, ``"online"`` or ``"offline"``; ``False`` with no page."""
        ...

    def unwatch(self) -> None:
        """Stop ``watch``ing."""
        ...


class Tabs(Protocol):
    """The other tabs of the origin, raw; ``_tabs.TabSync`` decides what to believe.

    Every method may report that it cannot (``False``, ``None``), and any of them
    may raise (a storage that throws): ``TabSync`` treats that as absent.
    """

    def listen(self, on_message: "Callable[[object], None]") -> bool:
        """Start hearing other tabs' messages."""
        ...

    def post(self, message: str) -> None:
        """Tell the other tabs (never this one)."""
        ...

    async def lock(self, timeout: float) -> "LockGrant | None":
        """Wait for the origin-wide session lock: held, or ``None`` where there are no locks.

        Raises ``LockTimeout`` when it was not granted within ``timeout`` seconds.
        """
        ...

    def read_record(self, key: str) -> "str | None":
        """The origin's shared record under ``key``, if any."""
        ...

    def write_record(self, key: str, record: str) -> None:
        """Replace the origin's shared record under ``key``."""
        ...

    def close(self) -> None:
        """Stop listening."""
        ...


class Ffi(Protocol):
    """What the browser classes need of an interpreter's JavaScript bridge (``_in_pyodide``,
    ``_in_micropython``): the rest of the browser code is the same in both.

    In MicroPython a JavaScript exception cannot be caught: thrown into Python it ends
    the script, and even one JavaScript catches itself leaves MicroPython unable to
    raise across a function call. So what may throw goes through ``global_json``,
    ``global_value`` or ``call_soon``, which never let JavaScript throw there.
    """

    def call(self, function: "Any", this: "Any", *args: "Any") -> "Any":
        """``function.apply(this, args)``, for calls that throw only on a tampered page.

        Pyodide raises ``JsCallError`` for a JS exception; in MicroPython it ends the script.
        """
        ...

    def call_soon(self, function: "Any", this: "Any", *args: "Any") -> None:
        """``function.apply(this, args)`` now or in a microtask; a JS exception raises
        ``JsCallError`` (Pyodide) or is logged (MicroPython)."""
        ...

    def global_json(self, name: str) -> "str | None":
        """``globalThis[name]`` as JSON text (``None``: no such global, or undefined);
        ``JsCallError`` saying why for what JSON cannot carry or what throws when read."""
        ...

    def global_value(self, name: str) -> "Any":
        """``globalThis[name]`` whose getter may throw (``localStorage``): ``JsCallError``
        (Pyodide), or ``None`` until a read in a microtask succeeded (MicroPython)."""
        ...

    def missing(self, value: object) -> bool:
        """Whether ``value`` is JS ``null`` or ``undefined``."""
        ...

    def proxy(self, function: "Callable[..., Any]") -> "Any":
        """``function`` as a JS function that lives until ``release``d."""
        ...

    def once(self, function: "Callable[..., Any]") -> "Any":
        """``function`` as a JS function called at most once (then freed)."""
        ...

    def release(self, proxy: "Any") -> None:
        """Free what ``proxy`` made."""
        ...
