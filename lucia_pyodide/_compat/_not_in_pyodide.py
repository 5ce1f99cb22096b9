"""CPython stand-ins: no page, no fetch. Tests hand the client their own transport."""

from __future__ import annotations

from collections.abc import Mapping

from .._errors import UNKNOWN_ERROR, LuciaError
from .._responses import HttpResponse


class FetchTransport:
    """Refuses: outside Pyodide there is no browser ``fetch`` to call."""

    async def post(self, url: str, *, timeout: float, headers: Mapping[str, str]) -> HttpResponse:
        raise LuciaError(UNKNOWN_ERROR, f"POST {url}: fetch needs Pyodide (this is CPython)")


class PyodidePage:
    """A page with nothing on it."""

    def page_data_json(self) -> str | None:
        return None

    def user_script_text(self) -> str | None:
        return None

    def origin(self) -> str | None:
        return None

    def navigate(self, url: str) -> None:
        raise RuntimeError("navigation needs a browser page")
