"""Pyodide's side of the browser seam: ``fetch`` through ``pyfetch``, and its ``Ffi``.

The module itself is the ``Ffi`` that ``_browser`` reads the page and the tabs with.
"""

import asyncio

import js
import pyodide.ffi
from pyodide.ffi import JsException, create_once_callable, create_proxy

from ._browser import lost_in_transit, redirect_answer
from ._protocols import HttpResponse, JsCallError

#: JS ``null`` in Python: ``jsnull`` from Pyodide 0.28 on; before it, ``None`` as ``undefined`` is.
_NULL: object = getattr(pyodide.ffi, "jsnull", None)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any


class FetchTransport:
    """Requests with ``credentials: "same-origin"`` that abort on timeout. A POST never
    follows a redirect; a GET does, past every cache, as a reload would.

    The timeout is a JS ``AbortSignal.timeout``, not ``asyncio.wait_for``: it ends the
    body read too, and leaves nothing behind in Python (Pyodide's event loop keeps a
    cancelled ``call_later`` alive until it would have fired).
    """

    async def post(self, url: str, *, timeout: float, headers: "Mapping[str, str]") -> HttpResponse:
        return await self._send("POST", url, timeout, headers, redirect="manual", cache="default")

    async def get(self, url: str, *, timeout: float, headers: "Mapping[str, str]") -> HttpResponse:
        return await self._send("GET", url, timeout, headers, redirect="follow", cache="no-store")

    async def _send(self, method: str, url: str, timeout: float, headers: "Mapping[str, str]",
                    *, redirect: str, cache: str) -> HttpResponse:
        # Imported on first use: pyodide.http adds ~40 ms to importing this package,
        # and a page that only reads the user never sends a request.
        from pyodide.http import pyfetch  # noqa: PLC0415

        signal = js.AbortSignal.timeout(max(1, round(timeout * 1000)))
        try:
            response = await pyfetch(
                url,
                method=method,
                credentials="same-origin",
                redirect=redirect,
                cache=cache,
                headers=headers,
                signal=signal,
            )
            answer = redirect_answer(response)
            if answer is not None:
                return answer
            body = await response.string()
        except asyncio.CancelledError:
            raise
        except Exception as err:
            # Network failures and aborts come as pyodide's AbortError (an OSError) or a
            # JsException; a connection cut mid-body comes from pyodide 314 as an
            # AttributeError inside its own error handling. Whatever it is, the answer
            # was lost in transit: only the signal tells a timeout from the rest.
            raise lost_in_transit(method, url, timeout, bool(signal.aborted), repr(err)) from None
        return HttpResponse(response.status, body)


# -- the Ffi (see _protocols.Ffi) ---------------------------------------------------
def call(function: "Any", this: "Any", *args: "Any") -> "Any":
    try:
        return js.Reflect.apply(function, this, js.Array.of(*args))
    except JsException as err:
        raise JsCallError(f"it threw {err}") from None


call_soon = call


def global_json(name: str) -> "str | None":
    # Even asking whether it exists may run a getter (Node's vm sandboxes do).
    if not call(js.Reflect.has, None, js.globalThis, name):
        return None
    value = call(js.Reflect.get, None, js.globalThis, name)
    if value is None:  # undefined, or null where there is no jsnull
        return "null" if _NULL is None and _holds_null(name) else None
    text = call(js.JSON.stringify, js.JSON, value)
    if not isinstance(text, str):
        raise JsCallError("not JSON data (a function or symbol?)")
    return text


def _holds_null(name: str) -> bool:
    """Whether the global ``name`` is ``null`` (not ``undefined``), asked of its descriptor
    in JSON: for the Pyodide releases that give both as ``None``."""
    descriptor = call(js.Reflect.getOwnPropertyDescriptor, None, js.globalThis, name)
    if descriptor is None:
        return False
    text = call(js.JSON.stringify, js.JSON, descriptor)
    return isinstance(text, str) and '"value":null' in text


def global_value(name: str) -> "Any":
    return call(js.Reflect.get, None, js.globalThis, name)


def missing(value: object) -> bool:
    return value is None or value is _NULL


def proxy(function: "Callable[..., Any]") -> "Any":
    return create_proxy(function)


def once(function: "Callable[..., Any]") -> "Any":
    return create_once_callable(function)


def release(proxy: "Any") -> None:
    proxy.destroy()
