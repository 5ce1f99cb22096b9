"""The browser side of the seam: ``fetch`` through ``pyfetch``, and the page's globals and DOM."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import js
from pyodide.ffi import JsException, jsnull
from pyodide.http import pyfetch

from .._errors import AUTH_INVALID_USER_DATA, REQUEST_TIMEOUT, UNKNOWN_ERROR, LuciaError
from .._responses import HttpResponse


class FetchTransport:
    """POSTs with ``credentials: "same-origin"``, never follows redirects, and aborts on timeout."""

    async def post(self, url: str, *, timeout: float, headers: Mapping[str, str]) -> HttpResponse:
        controller = js.AbortController.new()
        try:
            return await asyncio.wait_for(self._post(url, dict(headers), controller), timeout)
        except TimeoutError:
            raise LuciaError(
                REQUEST_TIMEOUT, f"POST {url}: no complete answer within {timeout:g} s, aborted"
            ) from None
        except (OSError, JsException) as err:  # pyodide's AbortError is an OSError
            raise LuciaError(UNKNOWN_ERROR, f"POST {url}: network error: {err}") from None
        finally:
            # Cancelling pyfetch aborts the request, but not a body still being
            # read: the controller ends both, and aborting twice is harmless.
            controller.abort()

    @staticmethod
    async def _post(url: str, headers: dict[str, str], controller: js.AbortController) -> HttpResponse:
        response = await pyfetch(
            url,
            method="POST",
            credentials="same-origin",
            redirect="manual",
            headers=headers,
            signal=controller.signal,
        )
        if response.type == "opaqueredirect":  # a browser hides where it was sent
            return HttpResponse(response.status, "", redirected_to="a hidden location")
        if 300 <= response.status < 400:  # Node shows it
            return HttpResponse(
                response.status, "", redirected_to=response.headers.get("location") or "nowhere"
            )
        try:
            body = await response.string()
        except asyncio.CancelledError:
            raise
        except Exception as err:
            # A connection cut mid-body surfaces from pyodide 314 as an AttributeError
            # raised inside its own error handling, not as an OSError: whatever it is,
            # the answer was lost in transit.
            raise LuciaError(
                UNKNOWN_ERROR,
                f"POST {url}: network error while reading the HTTP {response.status} body: {err!r}",
                status=response.status,
            ) from None
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

    def navigate(self, url: str) -> None:
        js.location.assign(url)
