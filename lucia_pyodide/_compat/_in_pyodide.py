"""The browser side of the seam: ``fetch`` through ``pyfetch``, and the page's globals and DOM."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import js
from pyodide.ffi import JsException, create_once_callable, create_proxy, jsnull

from .._errors import AUTH_INVALID_USER_DATA, REQUEST_TIMEOUT, UNKNOWN_ERROR, LuciaError
from ._protocols import HttpResponse, LockTimeout


class FetchTransport:
    """POSTs with ``credentials: "same-origin"``, never follows redirects, and aborts on timeout.

    The timeout is a JS ``AbortSignal.timeout``, not ``asyncio.wait_for``: it ends the
    body read too, and leaves nothing behind in Python (Pyodide's event loop keeps a
    cancelled ``call_later`` alive until it would have fired).
    """

    async def post(self, url: str, *, timeout: float, headers: Mapping[str, str]) -> HttpResponse:
        # Imported on first use: pyodide.http adds ~40 ms to importing this package,
        # and a page that only reads the user never sends a request.
        from pyodide.http import pyfetch  # noqa: PLC0415

        signal = js.AbortSignal.timeout(max(1, round(timeout * 1000)))
        try:
            response = await pyfetch(
                url,
                method="POST",
                credentials="same-origin",
                redirect="manual",
                headers=headers,
                signal=signal,
            )
            if response.type == "opaqueredirect":  # a browser hides where it was sent
                return HttpResponse(response.status, "", redirected_to="a hidden location")
            if 300 <= response.status < 400:  # Node shows it
                location = response.headers.get("location") or "nowhere"
                return HttpResponse(response.status, "", redirected_to=location)
            body = await response.string()
        except asyncio.CancelledError:
            raise
        except Exception as err:
            # Network failures and aborts come as pyodide's AbortError (an OSError) or a
            # JsException; a connection cut mid-body comes from pyodide 314 as an
            # AttributeError inside its own error handling. Whatever it is, the answer
            # was lost in transit: only the signal tells a timeout from the rest.
            if signal.aborted:
                raise LuciaError(
                    REQUEST_TIMEOUT, f"POST {url}: no complete answer within {timeout:g} s, aborted"
                ) from None
            raise LuciaError(UNKNOWN_ERROR, f"POST {url}: network error: {err!r}") from None
        return HttpResponse(response.status, body)


def _missing(value: object) -> bool:
    return value is None or value is jsnull


class PyodidePage:
    """Reads the page through ``globalThis``; each read is one guarded JS call."""

    def page_data_json(self) -> str | None:
        try:
            if not js.Reflect.has(js.globalThis, "_lucia_page_data"):
                return None
            value = js.Reflect.get(js.globalThis, "_lucia_page_data")
            if value is None:  # JS undefined: declared but never set
                return None
            text = js.JSON.stringify(value)
        except JsException as err:
            raise LuciaError(
                AUTH_INVALID_USER_DATA, f"_lucia_page_data: reading it threw {err}"
            ) from None
        if not isinstance(text, str):
            raise LuciaError(
                AUTH_INVALID_USER_DATA, "_lucia_page_data: not JSON data (a function or symbol?)"
            )
        return text

    def user_script_text(self) -> str | None:
        try:
            if not js.Reflect.has(js.globalThis, "document"):
                return None
            element = js.document.getElementById("lucia-user")
            if _missing(element):
                return None
            text = element.textContent
        except JsException as err:
            raise LuciaError(AUTH_INVALID_USER_DATA, f"#lucia-user: reading it threw {err}") from None
        return text if isinstance(text, str) else ""

    def origin(self) -> str | None:
        if not js.Reflect.has(js.globalThis, "location"):
            return None
        origin = js.location.origin
        return origin if isinstance(origin, str) and origin != "null" else None

    def path(self) -> str | None:
        if not js.Reflect.has(js.globalThis, "location"):
            return None
        location = js.location
        return f"{location.pathname}{location.search}{location.hash}"

    def where(self) -> str:
        if js.Reflect.has(js.globalThis, "document"):
            return "page"
        if js.Reflect.has(js.globalThis, "WorkerGlobalScope"):
            return "worker"
        return "no browser"

    def navigate(self, url: str) -> None:
        js.location.assign(url)


class BrowserTabs:
    """The other tabs of this origin: BroadcastChannel, Web Locks, localStorage, visibility.

    Each is optional: where one is missing (Node, an insecure context has no Web
    Locks) its method says so by returning ``None``/``False``. Nothing here is built
    from a string of JavaScript: it must run under ``script-src 'self'``.
    """

    def __init__(self) -> None:
        self._channel: Any = None
        self._proxies: list[Any] = []

    @staticmethod
    def _has(name: str) -> bool:
        return bool(js.Reflect.has(js.globalThis, name))

    def listen(self, on_message: Callable[[object], None], on_visible: Callable[[], None]) -> bool:
        """Start hearing other tabs (and this tab becoming visible); ``False`` where impossible."""
        if self._channel is not None:
            return True
        if self._has("document"):
            def visibility(_event: Any) -> None:
                if js.document.visibilityState == "visible":
                    on_visible()

            self._proxies.append(create_proxy(visibility))
            js.document.addEventListener("visibilitychange", self._proxies[-1])
        if not self._has("BroadcastChannel"):
            return False
        from .._tabs import CHANNEL  # noqa: PLC0415 - tab sync loads on first use

        self._channel = js.BroadcastChannel.new(CHANNEL)
        # Lives as long as the client listens: released by close().
        self._proxies.append(create_proxy(lambda event: on_message(event.data)))
        self._channel.onmessage = self._proxies[-1]
        return True

    def post(self, message: str) -> None:
        if self._channel is not None:
            self._channel.postMessage(message)

    async def lock(self, timeout: float) -> Callable[[], None] | None:
        """Hold the origin-wide session lock: its release; ``None`` where there are no Web Locks.

        ``navigator.locks.request`` holds the lock until the promise its callback
        returns settles: the callback hands back a fresh promise and keeps its
        ``resolve`` as the release. Raises ``LockTimeout`` after ``timeout`` seconds.
        """
        if not self._has("navigator") or not js.Reflect.has(js.navigator, "locks"):
            return None
        from .._tabs import LOCK  # noqa: PLC0415

        loop = asyncio.get_running_loop()
        granted: asyncio.Future[Any] = loop.create_future()

        def hold(_lock: Any) -> Any:
            releases: list[Any] = []
            held = js.Promise.new(create_once_callable(lambda resolve, _reject: releases.append(resolve)))
            if granted.done():  # the wait was given up meanwhile: let go at once
                releases[0]()
            else:
                granted.set_result(releases[0])
            return held

        def refused(error: Any) -> None:
            if not granted.done():
                granted.set_exception(LockTimeout(f"{LOCK}: not granted within {timeout:g} s ({error})"))

        # Two proxies, destroyed once the request has settled either way.
        callbacks = [create_proxy(hold), create_proxy(refused)]
        options = js.Object.new()
        options.signal = js.AbortSignal.timeout(max(1, round(timeout * 1000)))
        request = js.navigator.locks.request(LOCK, options, callbacks[0])
        request.then(None, callbacks[1])  # refused: before the reaction below, which destroys it
        settled = create_once_callable(lambda *_: [proxy.destroy() for proxy in callbacks])
        request.then(settled, settled)
        try:
            # The promise's resolve(): calling it lets the lock go. Awaiting the future (no
            # task, no asyncio.wait) costs one loop turn, and each is a browser task.
            resolve: Callable[[], None] = await granted
        finally:
            granted.cancel()  # no-op once granted; otherwise a late grant is let go at once
        return resolve

    def read_record(self) -> str | None:
        """The record in ``localStorage``; a storage that throws raises (``TabSync`` copes)."""
        if not self._has("localStorage"):
            return None
        from .._tabs import RECORD_KEY  # noqa: PLC0415

        value = js.localStorage.getItem(RECORD_KEY)
        return value if isinstance(value, str) else None

    def write_record(self, record: str) -> None:
        if self._has("localStorage"):
            from .._tabs import RECORD_KEY  # noqa: PLC0415

            js.localStorage.setItem(RECORD_KEY, record)

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        for proxy in self._proxies:
            proxy.destroy()
        self._proxies.clear()
