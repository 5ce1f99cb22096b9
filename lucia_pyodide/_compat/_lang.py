"""The one seam between the two interpreters' Pythons: CPython (Pyodide) and MicroPython.

MicroPython lacks parts of the language and the standard library the client would
otherwise use. Each difference is decided here, by what the interpreter has (not by
its name), so both branches run on CPython in the unit tests.
"""

import asyncio
import builtins
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Coroutine, Iterator, Mapping
    from typing import Any, Protocol, TypeGuard, TypeVar

    T = TypeVar("T")

    class Rng(Protocol):
        """What backoff needs of a random source (``random.Random``, or the module)."""

        def uniform(self, a: float, b: float) -> float: ...

#: What ``json.loads`` raises for text too deeply nested (MicroPython: RuntimeError).
JSON_ERRORS: "tuple[type[BaseException], ...]" = (
    ValueError, getattr(builtins, "RecursionError", RuntimeError))


class ReadOnlyDict:
    """A read-only view of a dict, where ``types.MappingProxyType`` is missing (MicroPython)."""

    def __init__(self, data: "dict[str, Any]") -> None:
        self._data = data

    def __getitem__(self, key: str) -> "Any":
        return self._data[key]

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> "Iterator[str]":
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        return dict(self._data) == (other._data if isinstance(other, ReadOnlyDict) else other)

    __hash__ = None  # type: ignore[assignment]  # unhashable, like the dict it shows

    def get(self, key: str, default: "Any" = None) -> "Any":
        return self._data.get(key, default)

    def keys(self) -> "Any":
        return self._data.keys()

    def values(self) -> "Any":
        return self._data.values()

    def items(self) -> "Any":
        return self._data.items()

    def __repr__(self) -> str:
        return f"ReadOnlyDict({self._data!r})"


def _proxy_type() -> "Any":
    try:
        from types import MappingProxyType  # noqa: PLC0415
    except ImportError:  # pragma: no cover - MicroPython builds without a types module
        return None
    return MappingProxyType  # MicroPython has the name, as None


_MAPPING_PROXY = _proxy_type()


def read_only(data: "dict[str, Any]") -> "Mapping[str, Any]":
    """A read-only mapping over ``data``: ``MappingProxyType`` where there is one."""
    if _MAPPING_PROXY is not None:
        return _MAPPING_PROXY(data)  # type: ignore[no-any-return]
    return ReadOnlyDict(data)  # type: ignore[return-value]


def spawn(coroutine: "Coroutine[Any, Any, T]") -> "asyncio.Task[T]":
    """Run ``coroutine`` as a task (also from a callback with no task running, in Pyodide)."""
    ensure_future = getattr(asyncio, "ensure_future", None)
    if ensure_future is not None:
        return ensure_future(coroutine)  # type: ignore[no-any-return]
    return asyncio.create_task(coroutine)  # MicroPython


def can_spawn() -> bool:
    """Whether ``spawn`` works here: always in a browser (Pyodide's loop runs tasks made from
    any callback, MicroPython's too), on CPython only inside a running loop."""
    if sys.platform in ("emscripten", "webassembly"):
        return True
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def start_task(coroutine: "Coroutine[Any, Any, T]") -> "asyncio.Task[T]":
    """A task that starts running now where Python allows (3.12+), else on the next turn.

    In Pyodide every loop turn is a trip through the browser's task queue, so an
    eager start takes one such trip off every refresh. Its outcome counts as retrieved
    even if every awaiter gave up (each one that stayed has seen it).
    """
    if getattr(asyncio, "eager_task_factory", None) is not None:  # CPython >= 3.12
        task = asyncio.Task(coroutine, loop=asyncio.get_running_loop(),
                            eager_start=True)  # type: ignore[call-arg]  # mypy checks 3.11
    else:
        task = spawn(coroutine)
    if hasattr(task, "add_done_callback"):  # not in MicroPython, which has no such warning
        task.add_done_callback(_retrieved)
    return task


def _retrieved(task: "asyncio.Future[Any]") -> None:
    if not task.cancelled():
        task.exception()


def shielded(task: "asyncio.Task[T]") -> "asyncio.Future[T]":
    """``task``, kept running if one of its awaiters is cancelled.

    MicroPython has no ``asyncio.shield``, and needs none: cancelling a task that
    awaits another does not cancel the other there.
    """
    shield = getattr(asyncio, "shield", None)
    return shield(task) if shield is not None else task


def is_awaitable(value: object) -> "TypeGuard[Awaitable[object]]":
    """Whether a listener's result must be awaited (a coroutine, a future, a JS promise)."""
    if hasattr(value, "__await__"):
        return True
    # MicroPython's coroutines are generators, with no __await__.
    return type(value).__name__ == "generator" and hasattr(value, "send")


def new_rng() -> "Rng":
    """A random source for backoff jitter: ``random.Random()``, or the module (MicroPython)."""
    import random  # noqa: PLC0415 - on the first failure: importing it costs every page

    make = getattr(random, "Random", None)
    return make() if make is not None else random


def random_id() -> str:
    """12 random hex digits (MicroPython's ``getrandbits`` gives at most 32 bits at a time)."""
    import random  # noqa: PLC0415

    return f"{random.getrandbits(24):06x}{random.getrandbits(24):06x}"
