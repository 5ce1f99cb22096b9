"""Session change events: what happened, and the listeners that hear it.

Pure Python. Listeners may be plain functions or coroutine functions; one that
raises is logged and the others still run. The client emits only after its own
refresh bookkeeping (and any cross-tab lock) is done, so a listener may call
``refresh_session()`` itself without deadlocking.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, Literal, get_args

logger = logging.getLogger("lucia_pyodide")

#: What an ``AuthEvent`` says happened.
EventType = Literal["SIGNED_OUT", "SESSION_REFRESHED", "SESSION_LOST"]
SIGNED_OUT: Final = "SIGNED_OUT"
SESSION_REFRESHED: Final = "SESSION_REFRESHED"
SESSION_LOST: Final = "SESSION_LOST"
EVENT_TYPES: Final[frozenset[str]] = frozenset(get_args(EventType))


@dataclass(frozen=True, slots=True)
class AuthEvent:
    """One change of the session.

    ``type`` is an ``EventType``: ``SIGNED_OUT``, ``SESSION_REFRESHED`` or
    ``SESSION_LOST``; ``expires`` the new expiry (ms) for a refresh; ``remote`` is
    true when another tab of the same origin did it.
    """

    type: EventType
    expires: int | None = None
    remote: bool = False


Listener = Callable[[AuthEvent], "Awaitable[object] | object"]


class EventHub:
    """Listeners of one client."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._tasks: set[asyncio.Future[object]] = set()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add ``listener``; the returned function removes it (calling it twice is harmless)."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def emit(self, event: AuthEvent) -> None:
        """Call every listener with ``event``; async ones are scheduled, not awaited."""
        for listener in list(self._listeners):
            try:
                result = listener(event)
                if isinstance(result, Awaitable):  # (inspect.isawaitable: a costly import)
                    task = asyncio.ensure_future(result)
                    self._tasks.add(task)  # a reference, or the task may be collected mid-run
                    task.add_done_callback(self._async_done)
            except Exception:
                logger.exception("lucia_pyodide: a listener of %s raised", event.type)

    def _async_done(self, task: asyncio.Future[object]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("lucia_pyodide: an async listener raised", exc_info=task.exception())
