"""Keep-alive: refresh before the session expires, back off on failures, stop when it ends.

The timing decisions are pure functions (tested with a fake clock); ``KeepAlive``
runs them with injectable ``clock``/``wait`` so the loop itself runs on CPython too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ._errors import AUTH_INVALID_REFRESH_TOKEN, AUTH_NOT_AUTHENTICATED, LuciaError
from ._events import SESSION_LOST, SIGNED_OUT, AuthEvent

if TYPE_CHECKING:
    from ._client import LuciaClient

logger = logging.getLogger("lucia_pyodide")

#: Codes after which retrying cannot help: the session is over.
FATAL_CODES = frozenset({AUTH_INVALID_REFRESH_TOKEN, AUTH_NOT_AUTHENTICATED})


def seconds_until_due(now_ms: int, expires_ms: int | None, margin_s: float) -> float:
    """How long until a refresh is due: ``margin_s`` before expiry (0: now; unknown expiry: now)."""
    if expires_ms is None:
        return 0.0
    return max(0.0, (expires_ms - margin_s * 1000 - now_ms) / 1000)


def backoff_seconds(attempt: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Capped exponential backoff with full jitter for retry ``attempt`` (1, 2, ...)."""
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return rng.uniform(ceiling / 2, ceiling)


class KeepAlive:
    """A running keep-alive; ``stop()`` ends it. Made by ``LuciaClient.keep_alive()``."""

    def __init__(
        self,
        client: LuciaClient,
        *,
        margin: float,
        check_interval: float = 10.0,
        retry_base: float = 1.0,
        retry_cap: float = 60.0,
        clock: Callable[[], float] = time.time,
        wait: Callable[[float], Awaitable[None]] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if margin < 0 or check_interval <= 0 or retry_base <= 0 or retry_cap < retry_base:
            raise ValueError("keep_alive: margin >= 0, check_interval > 0, 0 < retry_base <= retry_cap")
        self.client, self.margin, self.check_interval = client, margin, check_interval
        self.retry_base, self.retry_cap = retry_base, retry_cap
        self._clock, self._rng = clock, rng or random.Random()
        self._wake = asyncio.Event()
        self._wait = wait or self._wait_or_wake
        self.stopped = False
        #: Why it stopped, once it has.
        self.stop_reason = ""
        self._unsubscribe = client.on_change(self._on_event)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> KeepAlive:
        self._task = asyncio.ensure_future(self._run())
        return self

    def stop(self, reason: str = "stopped") -> None:
        """Stop refreshing (idempotent)."""
        if not self.stopped:
            self.stopped, self.stop_reason = True, reason
            self._unsubscribe()
            self.wake()

    def wake(self) -> None:
        """Re-check now (the tab became visible, the clock may have jumped)."""
        self._wake.set()

    async def wait_stopped(self) -> None:
        if self._task is not None:
            await asyncio.shield(self._task)

    def _on_event(self, event: AuthEvent) -> None:
        if event.type in (SIGNED_OUT, SESSION_LOST):
            self.stop(event.type)
        else:
            self.wake()  # a refresh elsewhere moved the expiry

    async def _wait_or_wake(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _run(self) -> None:
        attempt = 0
        while not self.stopped:
            due = seconds_until_due(int(self._clock() * 1000), self.client.expires, self.margin)
            if due > 0:
                # Wake at least every check_interval: wall-clock time is re-read each
                # turn, so a sleeping laptop or a jumped clock is noticed.
                await self._wait(min(due, self.check_interval))
                continue
            try:
                await self.client.refresh_session()
                attempt = 0
            except LuciaError as err:
                if err.code in FATAL_CODES:
                    self.stop(f"{err.code}: {err.detail}")
                    break
                attempt += 1
                delay = backoff_seconds(attempt, base=self.retry_base, cap=self.retry_cap,
                                        rng=self._rng)
                logger.info("keep_alive: refresh failed (%s), retry %d in %.1f s",
                            err, attempt, delay)
                await self._wait(delay)
