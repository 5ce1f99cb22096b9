"""What the client needs from its surroundings: a transport and a page."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from .._responses import HttpResponse


class Transport(Protocol):
    """Sends one POST and returns the whole answer, or raises ``LuciaError``.

    It must give up after ``timeout`` seconds (code ``REQUEST_TIMEOUT``) and map
    every network failure to ``UNKNOWN_ERROR`` with a detail saying what failed.
    """

    async def post(
        self, url: str, *, timeout: float, headers: Mapping[str, str]
    ) -> HttpResponse: ...


class Page(Protocol):
    """The page the client runs in (or nothing like one, in Node)."""

    def page_data_json(self) -> str | None:
        """``globalThis._lucia_page_data`` as JSON text; ``None`` when it is not set."""
        ...

    def user_script_text(self) -> str | None:
        """Text of ``<script id="lucia-user">``; ``None`` without such an element or a DOM."""
        ...

    def origin(self) -> str | None:
        """The page's origin (``location.origin``); ``None`` where there is no page."""
        ...

    def navigate(self, url: str) -> None:
        """Send the browser to ``url``."""
        ...


class Tabs(Protocol):
    """The other tabs of the origin; every method may report that it cannot."""

    def listen(self, on_message: Callable[[object], None], on_visible: Callable[[], None]) -> bool:
        """Start hearing other tabs' messages (and this tab becoming visible)."""
        ...

    def post(self, message: str) -> None:
        """Tell the other tabs (never this one)."""
        ...

    async def lock(self, timeout: float) -> Callable[[], None] | None:
        """Wait (at most ``timeout`` s) for the origin-wide refresh lock; its release, or ``None``."""
        ...

    def read_record(self) -> str | None:
        """The shared note of the last refresh, if any."""
        ...

    def write_record(self, record: str) -> None:
        """Replace the shared note of the last refresh."""
        ...

    def close(self) -> None:
        """Stop listening."""
        ...
