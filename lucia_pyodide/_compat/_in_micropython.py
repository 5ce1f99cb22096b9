"""MicroPython's side of the browser seam: ``fetch`` through ``js.fetch``, and its ``Ffi``.

MicroPython (1.28, PyScript's build) truncates JavaScript integers past 32 bits, both
ways, and cannot catch a JavaScript exception: thrown into Python it ends the script,
and one thrown and caught inside JavaScript while Python waits for the call (``new
Promise(executor)`` catching its executor's) leaves it unable to raise an exception
across a function call afterwards. So nothing here lets JavaScript throw while Python
waits: page data is read without a call that can throw, and what may throw (a blocked
``localStorage``, a full one) runs in a microtask, where a throw is a rejected promise.
The module itself is the ``Ffi`` that ``_browser`` reads the page and the tabs with.
"""

import asyncio
import json
import logging

import js

from ._browser import lost_in_transit, redirect_answer
from ._protocols import HttpResponse, JsCallError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

logger = logging.getLogger("lucia_pyodide")
_REFLECT: "Any" = js.Reflect
_SAME = getattr(js.Object, "is")  # a keyword in Python
#: Page data nested deeper than this is refused (the client refuses deeper than 64
#: levels anyway): a cycle ends here.
_MAX_DEPTH = 65
#: An array longer than this in page data is refused (a sparse one may claim billions).
_MAX_ITEMS = 100_000


def _describe(err: BaseException) -> str:
    """``TypeError: fetch failed`` from a rejection, or from ``JsException(proxy, name, message)``."""
    if isinstance(err, JsRejection):
        return str(err)
    args: tuple[Any, ...] = getattr(err, "args", ())
    if len(args) == 3 and isinstance(args[1], str):
        return f"{args[1]}: {args[2]}"
    return repr(err)


class JsRejection(Exception):
    """A JavaScript promise rejected; the message is the reason as JavaScript prints it."""


class _Rejected:
    """A rejection handed back as a value (see ``settled``)."""

    def __init__(self, reason: "Any") -> None:
        self.reason = reason


async def settled(promise: "Any") -> "Any":
    """Await ``promise``; a rejection raises ``JsRejection``.

    The rejection is handled in JavaScript and arrives as a value: MicroPython 1.25 and
    1.26 never resume a coroutine that awaits a promise which rejects, once ``asyncio``
    is imported (the coroutine, and whatever awaits it, hangs for good).
    """
    outcome = await promise.then(None, _Rejected)
    if isinstance(outcome, _Rejected):
        raise JsRejection(str(js.String(outcome.reason)))
    return outcome


class FetchTransport:
    """Requests with ``credentials: "same-origin"`` that abort on timeout. A POST never
    follows a redirect; a GET does, past every cache, as a reload would."""

    async def post(self, url: str, *, timeout: float, headers: "Mapping[str, str]") -> HttpResponse:
        return await self._send("POST", url, timeout, headers, redirect="manual", cache="default")

    async def get(self, url: str, *, timeout: float, headers: "Mapping[str, str]") -> HttpResponse:
        return await self._send("GET", url, timeout, headers, redirect="follow", cache="no-store")

    async def _send(self, method: str, url: str, timeout: float, headers: "Mapping[str, str]",
                    *, redirect: str, cache: str) -> HttpResponse:
        signal = js.AbortSignal.timeout(max(1, round(timeout * 1000)))
        init = js.Object.new()
        init.method, init.credentials, init.redirect, init.cache, init.signal = (
            method, "same-origin", redirect, cache, signal)
        init.headers = js.Object.new()
        for name, value in headers.items():
            js.Reflect.set(init.headers, name, value)
        try:
            # fetch() reports every failure (bad URL, bad header) as a rejection, never a throw.
            response = await settled(js.fetch(url, init))
            answer = redirect_answer(response)
            if answer is not None:
                return answer
            body = await settled(response.text())
        except asyncio.CancelledError:
            raise
        except Exception as err:
            raise lost_in_transit(method, url, timeout, bool(signal.aborted), _describe(err)) from None
        return HttpResponse(response.status, body if isinstance(body, str) else "")


# -- the Ffi (see _protocols.Ffi) ---------------------------------------------------
def _report(error: "Any") -> None:
    logger.warning("lucia_pyodide: a JavaScript call failed: %s", js.String(error))


def call(function: "Any", this: "Any", *args: "Any") -> "Any":
    return _REFLECT.apply(function, this, js.Array.of(*args))


def call_soon(function: "Any", this: "Any", *args: "Any") -> None:
    apply = _REFLECT.apply.bind(None, function, this)
    js.Promise.resolve(js.Array.of(*args)).then(apply).then(None, _report)


#: globalThis values as last read in a microtask: the value, or _FAILED; and which
#: names have a read in flight.
_globals: "dict[str, Any]" = {}
_reading: "set[str]" = set()
_FAILED = object()


def global_value(name: str) -> "Any":
    # Answers from the last read (None before the first is done) and starts the next:
    # a storage that starts to throw is absent from the read after.
    if name not in _reading:
        _reading.add(name)

        def got(value: "Any") -> None:
            _reading.discard(name)
            _globals[name] = value

        def failed(error: "Any") -> None:
            _reading.discard(name)
            if _globals.get(name) is not _FAILED:
                _report(error)  # once, not on every read of a storage that stays blocked
            _globals[name] = _FAILED

        read = _REFLECT.get.bind(None, js.globalThis, name)  # receiver: the resolved globalThis
        js.Promise.resolve(js.globalThis).then(read).then(got, failed)
    value = _globals.get(name)
    return None if value is _FAILED else value


class _NotJson(Exception):
    pass


def _plain(root: "Any") -> "Any":
    """``root`` as Python data, read without calling anything that can throw.

    Iterative: MicroPython's stack would not take 64 levels of recursion.
    """
    top: list[Any] = [None]
    todo: list[tuple[Any, int, Any, Any]] = [(root, 0, top, 0)]  # value, depth, where it goes
    while todo:
        value, depth, parent, slot = todo.pop()
        if value is None or isinstance(value, (bool, int, str)):
            parent[slot] = value
            continue
        if isinstance(value, float):
            parent[slot] = value if value - value == 0 else None  # NaN, infinities: null, as JSON
            continue
        if _undefined(value):
            parent[slot] = None
            continue
        if depth >= _MAX_DEPTH:
            raise _NotJson(f"nested deeper than {_MAX_DEPTH} levels (a cycle?)")
        prototype = js.Object.getPrototypeOf(value)
        if js.Array.isArray(value) and _SAME(prototype, js.Array.prototype):
            length = _own(value, "length")
            if not 0 <= length <= _MAX_ITEMS:
                raise _NotJson(f"an array of {length} items, more than {_MAX_ITEMS}")
            items: list[Any] = [None] * length
            parent[slot] = items
            for index in range(len(items)):
                todo.append((_own(value, index), depth + 1, items, index))
        elif prototype is None or _SAME(prototype, js.Object.prototype):
            members: dict[str, Any] = {}
            parent[slot] = members
            for key in js.Object.keys(value):
                member = _own(value, key)
                if not _undefined(member):  # as JSON.stringify does: left out
                    members[key] = None  # keeps the members' order
                    todo.append((member, depth + 1, members, key))
        else:
            raise _NotJson(f"not JSON data: it holds {_kind(prototype)}")
    return top[0]


def _kind(prototype: "Any") -> str:
    """The class whose ``prototype`` this is ("a Date", "a BigInt"), read without a call.

    By its constructor's name: ``Object.prototype.toString`` says ``[object Object]`` of
    every value in MicroPython 1.25.
    """
    try:
        constructor = _own(prototype, "constructor")
        name = None if missing(constructor) else _own(constructor, "name")
    except _NotJson:  # a getter, never called
        name = None
    if not isinstance(name, str) or not name:
        return "an object of another kind"
    return ("an " if name[0] in "AEIOU" else "a ") + name


def _own(container: "Any", key: "Any") -> "Any":
    """The value of an own property; a getter is refused, never called; a hole is ``null``."""
    described = js.Object.getOwnPropertyDescriptor(container, key)
    if missing(described):
        return None
    if js.Reflect.has(described, "get"):
        raise _NotJson(f"{key!r} is a getter, not data")
    # Not described.value: MicroPython 1.25 binds a function read as an attribute.
    value = js.Reflect.get(described, "value")
    if type(value) is int:
        # MicroPython 1.28 keeps only the low 32 bits of a JavaScript integer (a ms
        # timestamp comes out wrong, silently): read the number as JSON text instead.
        value = json.loads(str(js.JSON.stringify(described)))["value"]
    return value


def global_json(name: str) -> "str | None":
    if not js.Reflect.has(js.globalThis, name):
        return None
    try:
        value = _own(js.globalThis, name)
        return None if _undefined(value) else json.dumps(_plain(value))
    except _NotJson as err:
        raise JsCallError(str(err)) from None


def missing(value: object) -> bool:
    return value is None or _undefined(value)


def _undefined(value: object) -> bool:
    return type(value).__name__ == "undefined"  # MicroPython: null is None


def proxy(function: "Callable[..., Any]") -> "Any":
    return function  # MicroPython hands Python callables to JavaScript as they are


def once(function: "Callable[..., Any]") -> "Any":
    return function


def release(proxy: "Any") -> None:
    pass
