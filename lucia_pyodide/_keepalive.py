"""Keep-alive: refresh before the session expires, back off on failures, stop when it ends.

The timing decisions are pure functions (tested with a fake clock); ``KeepAlive``
runs them with injectable ``clock``/``wait`` so the loop itself runs on CPython too.
It never sends two refreshes closer than ``min_interval``, never believes an expiry
that is already past, and is always either running or stopped with a reason.
"""

import asyncio
import logging
import time

from ._compat._lang import new_rng, spawn
from ._errors import AUTH_INVALID_REFRESH_TOKEN, AUTH_NOT_AUTHENTICATED, LuciaError
from ._events import SESSION_LOST, SIGNED_OUT

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from ._client import LuciaClient
    from ._compat._lang import Rng
    from ._events import AuthEvent

logger = logging.getLogger("lucia_pyodide")

#: Codes after which retrying cannot help: the session is over.
FATAL_CODES = frozenset({AUTH_INVALID_REFRESH_TOKEN, AUTH_NOT_AUTHENTICATED})
#: Refreshes tried while the browser says it is offline (it can be wrong), before
#: waiting for it to say ``online``.
OFFLINE_ATTEMPTS = 2


def seconds_until_due(now_ms: int, expires_ms: "int | None", margin_s: float) -> float:
    """How long until a refresh is due: ``margin_s`` before expiry (0: now; unknown expiry: now)."""
    if expires_ms is None:
        return 0.0
    return max(0.0, (expires_ms - margin_s * 1000 - now_ms) / 1000)


def backoff_seconds(attempt: int, *, base: float, cap: float, rng: "Rng") -> float:
    """Capped exponential backoff with full jitter for retry ``attempt`` (1, 2, ...)."""
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 60))  # capped exponent: no overflow
    return rng.uniform(ceiling / 2, ceiling)


def margin_for(remaining_s: float, margin_s: float) -> float:
    """The margin to use for a session with ``remaining_s`` left right after a refresh.

    A margin as long as the session itself (a short session, a server that counts
    in seconds, a clock ahead of the server's) would make every refresh due at
    once: refresh at half-life instead.
    """
    return margin_s if remaining_s > margin_s else remaining_s / 2


class KeepAlive:
    """A running keep-alive; ``stop()`` ends it. Made by ``LuciaClient.keep_alive()``."""

    def __init__(
        self,
        client: "LuciaClient",
        *,
        margin: float,
        min_interval: float = 5.0,
        check_interval: float = 10.0,
        retry_base: float = 1.0,
        retry_cap: float = 60.0,
        clock: "Callable[[], float]" = time.time,
        wait: "Callable[[float], Awaitable[None]] | None" = None,
        rng: "Rng | None" = None,
    ) -> None:
        if (margin < 0 or min_interval <= 0 or check_interval <= 0 or retry_base <= 0
                or retry_cap < retry_base):
            raise ValueError("keep_alive: margin >= 0, min_interval > 0, check_interval > 0, "
                             "0 < retry_base <= retry_cap")
        self.client, self.margin, self.check_interval = client, margin, check_interval
        self.min_interval, self.retry_base, self.retry_cap = min_interval, retry_base, retry_cap
        self._clock, self._rng = clock, rng
        self._wake = asyncio.Event()
        self._wait = wait or self._wait_or_wake
        self._margin_now = margin  # shrinks to half-life for sessions shorter than the margin
        self._last_attempt = -float("inf")
        self._attempt = 0
        self._offline_attempts = 0
        self.stopped = False
        #: Why it stopped, once it has.
        self.stop_reason = ""
        self._unsubscribe = client.on_change(self._on_event)
        self._task: asyncio.Task[None] | None = None
        self._ended = asyncio.Event()

    def start(self) -> "KeepAlive":
        self._task = spawn(self._main())
        return self

    def stop(self, reason: str = "stopped") -> None:
        """Stop refreshing (idempotent)."""
        if not self.stopped:
            self.stopped, self.stop_reason = True, reason
            self._unsubscribe()
            self.wake()

    def wake(self, *, back_online: bool = False) -> None:
        """Re-check now (the tab became visible, the clock may have jumped).

        ``back_online``: the network is back, so the backoff and the ``min_interval``
        floor start over, and a refresh that is due goes out at once.
        """
        if back_online:
            self._attempt = self._offline_attempts = 0
            self._last_attempt = -float("inf")
        self._wake.set()

    async def wait_stopped(self) -> None:
        """Wait until the loop has ended (``stop_reason`` says why)."""
        if self._task is not None:
            await self._ended.wait()

    async def _main(self) -> None:
        try:
            await self._run()
        except asyncio.CancelledError:
            self.stop("cancelled")
            raise
        except Exception as err:  # a bug: say so rather than die silently
            logger.exception("lucia_pyodide: keep_alive crashed")
            self.stop(f"crashed: {err!r}")
        finally:
            self._ended.set()

    def _on_event(self, event: "AuthEvent") -> None:
        if event.type in (SIGNED_OUT, SESSION_LOST):
            self.stop(event.type)
        else:
            self.wake()  # a refresh elsewhere moved the expiry

    async def _wait_or_wake(self, seconds: float) -> None:
        try:  # noqa: SIM105 - MicroPython has no contextlib
            await asyncio.wait_for(self._wake.wait(), seconds)
        except asyncio.TimeoutError:  # noqa: UP041 - MicroPython has only asyncio's
            pass
        self._wake.clear()

    async def _back_off(self, why: str) -> None:
        if self._rng is None:
            self._rng = new_rng()
        self._attempt += 1
        delay = backoff_seconds(self._attempt, base=self.retry_base, cap=self.retry_cap,
                                rng=self._rng)
        logger.warning("lucia_pyodide: keep_alive: %s; retry %d in %.1f s", why, self._attempt, delay)
        await self._wait(delay)

    async def _run(self) -> None:
        while not self.stopped:
            now = self._clock()
            expires = self.client.recall_expiry()
            due = seconds_until_due(int(now * 1000), expires, self._margin_now)
            floor = self._last_attempt + self.min_interval - now
            if due > 0 or floor > 0:
                # Wake at least every check_interval: wall-clock time is re-read each
                # turn, so a sleeping laptop or a jumped clock is noticed.
                await self._wait(min(max(due, floor), self.check_interval))
                continue
            if not self.client.online:
                if self._offline_attempts >= OFFLINE_ATTEMPTS:
                    await self._wait(self.check_interval)  # until "online" wakes it
                    continue
                self._offline_attempts += 1
            self._last_attempt = now
            try:
                expires = await self.client.refresh_session()
            except LuciaError as err:
                if err.code in FATAL_CODES:
                    self.stop(f"{err.code}: {err.detail}")
                else:
                    await self._back_off(f"refresh failed ({err})")
                continue
            remaining = expires / 1000 - self._clock()
            if remaining <= 0:
                # Not believed: a server clock behind ours, or a refresh that lied.
                self.client.expires = None
                await self._back_off(f"the refreshed session expires {-remaining:.0f} s in the past")
                continue
            self._attempt = 0
            margin = margin_for(remaining, self.margin)
            if margin != self._margin_now:
                if margin < self.margin:
                    logger.warning("lucia_pyodide: keep_alive: the session lasts %.0f s, less than "
                                   "the margin (%g s): refreshing at half-life", remaining, self.margin)
                self._margin_now = margin
