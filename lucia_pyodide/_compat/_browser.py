"""The page and the origin's other tabs, read through ``js``: the same code in both interpreters.

What differs between Pyodide and MicroPython is how a JavaScript call that may throw
is made and how a Python function is handed to JavaScript: an ``Ffi`` (the module
``_in_pyodide`` or ``_in_micropython``) does that; see ``_protocols.Ffi``.
"""

import asyncio
import logging

import js

from .._errors import AUTH_INVALID_USER_DATA, REQUEST_TIMEOUT, UNKNOWN_ERROR, LuciaError
from ._protocols import HttpResponse, JsCallError, LockGrant, LockTimeout

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ._protocols import Ffi

logger = logging.getLogger("lucia_pyodide")


# -- what both fetch transports make of an answer, or of its loss ---------------------
def redirect_answer(response: "Any") -> "HttpResponse | None":
    """A redirect, which is never followed, as an answer; ``None`` if ``response`` is none."""
    if response.type == "opaqueredirect":  # a browser hides where it was sent
        return HttpResponse(response.status, "", redirected_to="a hidden location")
    if 300 <= response.status < 400:  # Node shows it
        location = response.headers.get("location")
        return HttpResponse(response.status, "",
                            redirected_to=location if isinstance(location, str) and location
                            else "nowhere")
    return None


def lost_in_transit(method: str, url: str, timeout: float, aborted: bool, why: str) -> LuciaError:
    """The error for an answer that never came whole: a timeout if the signal fired."""
    if aborted:
        return LuciaError(REQUEST_TIMEOUT,
                          f"{method} {url}: no complete answer within {timeout:g} s, aborted")
    return LuciaError(UNKNOWN_ERROR, f"{method} {url}: network error: {why}")


def _has(target: "Any", name: str) -> bool:
    return bool(js.Reflect.has(target, name))


#: The page events ``BrowserPage.watch`` hears, on ``window`` or ``document``.
_PAGE_EVENTS = (("pageshow", "window"), ("visibilitychange", "document"),
                ("online", "window"), ("offline", "window"))


class BrowserPage:
    """Reads the page through ``globalThis``; each read is one guarded JS call."""

    def __init__(self, ffi: "Ffi") -> None:
        self._ffi = ffi
        self._watching: list[tuple[Any, str, Any]] = []  # (target, event, listener)

    def page_data_json(self) -> "str | None":
        try:
            return self._ffi.global_json("_lucia_page_data")
        except JsCallError as err:
            raise LuciaError(AUTH_INVALID_USER_DATA, f"_lucia_page_data: {err}") from None

    def user_script_text(self) -> "str | None":
        if not _has(js.globalThis, "document"):
            return None
        return self._script_text(js.document)

    def _script_text(self, document: "Any") -> "str | None":
        """The text of ``document``'s ``#lucia-user``; guarded, for a page's own may be tampered with."""
        ffi = self._ffi
        try:
            element = ffi.call(document.getElementById, document, "lucia-user")
            if ffi.missing(element):
                return None
            text = ffi.call(js.Reflect.get, None, element, "textContent")
        except JsCallError as err:
            raise LuciaError(AUTH_INVALID_USER_DATA, f"#lucia-user: {err}") from None
        return text if isinstance(text, str) else ""

    def origin(self) -> "str | None":
        if not _has(js.globalThis, "location"):
            return None
        origin = js.location.origin
        return origin if isinstance(origin, str) and origin != "null" else None

    def path(self) -> "str | None":
        if not _has(js.globalThis, "location"):
            return None
        location = js.location
        return f"{location.pathname}{location.search}{location.hash}"

    def where(self) -> str:
        if _has(js.globalThis, "document"):
            return "page"
        if _has(js.globalThis, "WorkerGlobalScope"):
            return "worker"
        return "no browser"

    def navigate(self, url: str) -> None:
        self._ffi.call(js.location.assign, js.location, url)

    def user_script_in(self, html: str) -> "str | None":
        if not _has(js.globalThis, "DOMParser"):
            return None
        # DOMParser builds a document without running its scripts or loading anything.
        return self._script_text(js.DOMParser.new().parseFromString(html, "text/html"))

    def shown_from_cache(self) -> bool:
        if not _has(js.globalThis, "performance") or not _has(js.performance, "getEntriesByType"):
            return False
        entries = js.performance.getEntriesByType("navigation")
        if not entries.length:
            return False
        entry = js.Reflect.get(entries, 0)
        if entry.type == "back_forward":
            return True
        if entry.type == "reload" or not _has(entry, "transferSize"):
            return False
        # Served by the HTTP cache: a body, and nothing of it crossed the network.
        return bool(entry.transferSize == 0 and entry.decodedBodySize > 0)

    def age_ms(self) -> float:
        if not _has(js.globalThis, "performance"):
            return 0.0
        return float(js.performance.now())

    def online(self) -> bool:
        if not _has(js.globalThis, "navigator") or not _has(js.navigator, "onLine"):
            return True
        online: object = js.navigator.onLine
        return online is not False

    def watch(self, on_change: "Callable[[str], None]") -> bool:
        if not _has(js.globalThis, "document") or self._watching:
            return bool(self._watching)

        def pageshow(event: "Any") -> None:
            if event.persisted:
                on_change("restored")

        def visibility(_event: "Any") -> None:
            on_change("visible" if js.document.visibilityState == "visible" else "hidden")

        handlers = {"pageshow": pageshow, "visibilitychange": visibility,
                    "online": lambda _event: on_change("online"),
                    "offline": lambda _event: on_change("offline")}
        for name, where in _PAGE_EVENTS:
            target = js.window if where == "window" else js.document
            listener = self._ffi.proxy(handlers[name])
            target.addEventListener(name, listener)
            self._watching.append((target, name, listener))
        return True

    def unwatch(self) -> None:
        for target, name, listener in self._watching:
            target.removeEventListener(name, listener)
            self._ffi.release(listener)
        self._watching.clear()


class _LockRequest:
    """One wait for the Web Lock: granted (with its release), refused, or given up."""

    def __init__(self) -> None:
        self.settled = asyncio.Event()
        self.release: Callable[[], None] | None = None
        self.error: LockTimeout | None = None
        self.abandoned = False


class BrowserTabs:
    """The other tabs of this origin: BroadcastChannel, Web Locks, localStorage, visibility.

    Each is optional: where one is missing (Node, an insecure context has no Web
    Locks) its method says so by returning ``None``/``False``; where one throws, the
    method raises ``JsCallError`` (``TabSync`` copes). Nothing here is built from a
    string of JavaScript: it must run under ``script-src 'self'``.
    """

    def __init__(self, ffi: "Ffi") -> None:
        self._ffi = ffi
        self._channel: Any = None
        self._proxies: list[Any] = []

    def listen(self, on_message: "Callable[[object], None]") -> bool:
        """Start hearing other tabs; ``False`` where impossible."""
        ffi = self._ffi
        if self._channel is not None:
            return True
        if not _has(js.globalThis, "BroadcastChannel"):
            return False
        try:  # noqa: SIM105 - MicroPython has no contextlib. Its storage read (a microtask) starts here
            self._storage()
        except JsCallError:  # blocked storage (Pyodide raises at once): the record says so
            pass
        from .._tabs import CHANNEL  # noqa: PLC0415 - tab sync loads on first use

        self._channel = ffi.call(js.Reflect.construct, None, js.BroadcastChannel, js.Array.of(CHANNEL))
        # Lives as long as the client listens: released by close().
        self._proxies.append(ffi.proxy(lambda event: on_message(event.data)))
        self._channel.onmessage = self._proxies[-1]
        return True

    def post(self, message: str) -> None:
        if self._channel is not None:
            self._ffi.call(self._channel.postMessage, self._channel, message)

    async def lock(self, timeout: float) -> "LockGrant | None":
        """Hold the origin-wide session lock; ``None`` where there are no Web Locks.

        First asked for only if it is free (``ifAvailable``), so that the grant can say
        whether another holder went first; then waited for. Raises ``LockTimeout`` after
        ``timeout`` seconds.
        """
        if not _has(js.globalThis, "navigator") or not _has(js.navigator, "locks"):
            return None
        release = await self._request_lock(None)
        if release is not None:
            return LockGrant(release, waited=False)
        release = await self._request_lock(timeout)
        if release is None:  # cannot be: a request that waits is granted or refused
            raise LockTimeout(f"not granted, not refused within {timeout:g} s")
        return LockGrant(release, waited=True)

    async def _request_lock(self, timeout: "float | None") -> "Callable[[], None] | None":
        """One ``navigator.locks.request``: the release; ``None`` if it was held (``timeout``
        ``None``: not waited for).

        The lock is held until the promise the callback returns settles: the callback
        hands back a fresh promise and keeps its ``resolve`` as the release.
        """
        from .._tabs import LOCK  # noqa: PLC0415

        ffi, wait = self._ffi, _LockRequest()

        def hold(lock: "Any") -> "Any":
            if ffi.missing(lock):  # ifAvailable, and another holder has it
                wait.settled.set()
                return None
            releases: list[Any] = []
            held = js.Promise.new(ffi.once(lambda resolve, _reject: releases.append(resolve)))
            if wait.abandoned:  # the wait was given up meanwhile: let go at once
                releases[0]()
            else:
                wait.release = releases[0]
                wait.settled.set()
            return held

        def refused(error: "Any") -> None:
            if wait.release is None:
                within = "at once" if timeout is None else f"within {timeout:g} s"
                wait.error = LockTimeout(f"{LOCK}: not granted {within} ({error})")
                wait.settled.set()
            else:  # granted, then the request failed: the lock may be gone while we act
                logger.warning("lucia_pyodide: %s failed after it was granted (%s)", LOCK, error)

        # Two proxies, released once the request has settled either way.
        callbacks = [ffi.proxy(hold), ffi.proxy(refused)]
        options = js.Object.new()
        if timeout is None:
            options.ifAvailable = True  # a signal with it is refused (NotSupportedError)
        else:
            options.signal = js.AbortSignal.timeout(max(1, round(timeout * 1000)))
        locks = js.navigator.locks
        request = ffi.call(locks.request, locks, LOCK, options, callbacks[0])
        request.then(None, callbacks[1])  # refused: before the reaction below, which releases it

        def done(*_: "Any") -> None:
            for callback in callbacks:
                ffi.release(callback)

        settled = ffi.once(done)
        request.then(settled, settled)
        try:
            # One loop turn (a browser task in Pyodide) after the grant: no task, no asyncio.wait.
            await wait.settled.wait()
        except BaseException:
            wait.abandoned = True  # a late grant is let go at once, an early one now
            if wait.release is not None:
                wait.release()
            raise
        if wait.error is not None:
            raise wait.error
        return wait.release

    def _storage(self) -> "Any":
        """``localStorage``, or ``None``; where storage is blocked, reading it throws."""
        if not _has(js.globalThis, "localStorage"):
            return None
        storage = self._ffi.global_value("localStorage")
        return None if self._ffi.missing(storage) else storage

    def read_record(self, key: str) -> "str | None":
        """The record in ``localStorage``; a storage that throws raises (``TabSync`` copes)."""
        storage = self._storage()
        if storage is None:
            return None
        value = self._ffi.call(storage.getItem, storage, key)
        return value if isinstance(value, str) else None

    def write_record(self, key: str, record: str) -> None:
        storage = self._storage()
        if storage is not None:
            self._ffi.call_soon(storage.setItem, storage, key, record)

    def close(self) -> None:
        if self._channel is not None:
            self._ffi.call(self._channel.close, self._channel)
            self._channel = None
        for proxy in self._proxies:
            self._ffi.release(proxy)
        self._proxies.clear()
