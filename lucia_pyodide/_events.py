"""Session change events: what happened, and the listeners that hear it.

Pure Python. Listeners may be plain functions or coroutine functions; one that
raises is logged and the others still run. The client emits only after its own
refresh bookkeeping (and any cross-tab lock) is done, so a listener may call
``refresh_session()`` itself without deadlocking.
"""

import asyncio
import logging

from ._compat._lang import is_awaitable, spawn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from typing import Final, Literal, TypeAlias

    from ._user import User

    #: What an ``AuthEvent`` says happened (``EVENT_TYPES``, as a type).
    EventType: TypeAlias = Literal["SIGNED_IN", "SIGNED_OUT", "SESSION_REFRESHED", "SESSION_LOST"]
    #: A function that hears ``AuthEvent``s: sync, or async (a coroutine function).
    Listener: TypeAlias = Callable[["AuthEvent"], Awaitable[object] | object]
else:
    EventType = str  # at run time, event types are plain strings
    Listener = object  # any callable taking an AuthEvent

logger = logging.getLogger("lucia_pyodide")

SIGNED_IN: "Final" = "SIGNED_IN"
SIGNED_OUT: "Final" = "SIGNED_OUT"
SESSION_REFRESHED: "Final" = "SESSION_REFRESHED"
SESSION_LOST: "Final" = "SESSION_LOST"
#: Every event type (``EventType`` names the same set for type checkers).
EVENT_TYPES: "Final[frozenset[str]]" = frozenset(
    (SIGNED_IN, SIGNED_OUT, SESSION_REFRESHED, SESSION_LOST))


class AuthEvent:
    """One change of the session (read-only).

    ``type`` is an ``EventType``: ``SIGNED_IN`` (``user`` is who: the server
    shows a user this page did not), ``SIGNED_OUT``, ``SESSION_REFRESHED`` or
    ``SESSION_LOST``; ``expires`` the new expiry (ms) for a refresh; ``remote`` is
    true when it happened outside this page (another tab, another script, a form).
    """

    def __init__(self, type: "EventType", expires: "int | None" = None, remote: bool = False,
                 user: "User | None" = None) -> None:
        self._fields = (type, expires, remote, user)

    @property
    def type(self) -> "EventType":
        return self._fields[0]

    @property
    def expires(self) -> "int | None":
        return self._fields[1]

    @property
    def remote(self) -> bool:
        return self._fields[2]

    @property
    def user(self) -> "User | None":
        """The user who signed in (``SIGNED_IN`` only), as the server rendered them."""
        return self._fields[3]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AuthEvent) and self._fields == other._fields

    def __hash__(self) -> int:
        return hash(self._fields)

    def __repr__(self) -> str:
        user = f", user={self.user!r}" if self.user is not None else ""
        return f"AuthEvent(type={self.type!r}, expires={self.expires!r}, remote={self.remote!r}{user})"


class EventHub:
    """Listeners of one client."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self, listener: "Listener") -> "Callable[[], None]":
        """Add ``listener``; the returned function removes it (calling it twice is harmless)."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def clear(self) -> None:
        """Drop every listener: a closed client's late answers reach nobody."""
        self._listeners.clear()

    def emit(self, event: AuthEvent) -> None:
        """Call every listener with ``event``; async ones are scheduled, not awaited."""
        for listener in list(self._listeners):
            try:
                result = listener(event)
            except Exception:
                logger.exception("lucia_pyodide: a listener of %s raised", event.type)
                continue
            if is_awaitable(result):
                task = spawn(self._await_listener(result, event))
                self._tasks.add(task)  # a reference, or the task may be collected mid-run

    async def _await_listener(self, result: "Awaitable[object]", event: AuthEvent) -> None:
        try:
            await result
        except Exception:
            logger.exception("lucia_pyodide: an async listener of %s raised", event.type)
        finally:
            self._tasks.discard(asyncio.current_task())
