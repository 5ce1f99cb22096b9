"""What the client needs from its surroundings: a transport and a page."""

from __future__ import annotations

from collections.abc import Mapping
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
