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
    from collections.abc import Awaitable, Coroutine
    from typing import Any, Protocol, TypeGuard, TypeVar

    T = TypeVar("T")

    class Rng(Protocol):
        """What backoff needs of a random source (``random.Random``, or the module)."""

        def uniform(self, a: float, b: float) -> float: ...

#: What ``json.loads`` raises for text too deeply nested (MicroPython: RuntimeError).
JSON_ERRORS: "tuple[type[BaseException], ...]" = (
    ValueError, getattr(builtins, "RecursionError", RuntimeError))


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
