"""SvelteKit's route data (``__data.json``) as plain JSON-like data: devalue's ``stringify`` form.

devalue writes one JSON array whose members refer to each other by index, the first
being the root: an object's values and an array's items are indexes, a negative
index is a special value (``-1`` undefined, ``-2`` a hole, ``-3`` NaN, ``-4``/``-5``
the infinities, ``-6`` minus zero), and an array whose first item is a string is a
typed value (``["Date", iso]``, ``["Map", ...]``). What comes out is what
``JSON.stringify`` would make of the same value (undefined members left out, NaN
``None``, a Date its ISO text), and what JSON cannot carry (Map, Set, BigInt, RegExp)
is refused. Hostile input is refused with a ``DevalueError``: references out of range,
cycles, and anything that would unfold deeper than ``max_depth`` or into more than
``max_items`` values (shared references are counted each time they unfold).

Iterative, not recursive: MicroPython's stack would not take 64 levels.
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_UNDEFINED, _HOLE = -1, -2
_SPECIAL = {-3: None, -4: None, -5: None, -6: 0}  # NaN, +Infinity, -Infinity, -0: as JSON has them
_SKIP = object()  # an undefined member: left out of objects, null in arrays


class DevalueError(ValueError):
    """Text that is not devalue data, or not data JSON can carry."""


def _refs(raw: "Any") -> "list[int]":
    """The indexes ``raw`` refers to (a typed value's, an array's, an object's)."""
    if isinstance(raw, list):
        if raw and isinstance(raw[0], str):
            if raw[0] == "null":  # an object without prototype: key, value, key, value...
                return list(raw[2::2])
            return []  # other typed values: refused or converted where they are built
        return list(raw)
    if isinstance(raw, dict):
        return list(raw.values())
    return []


def _build(raw: "Any", done: "dict[int, Any]") -> "Any":
    def value(ref: int) -> "Any":
        return done[ref] if ref >= 0 else _SPECIAL.get(ref, _SKIP)

    if isinstance(raw, dict):
        members = {key: value(ref) for key, ref in raw.items()}
        return {key: item for key, item in members.items() if item is not _SKIP}
    if not isinstance(raw, list):
        return raw
    if not raw or not isinstance(raw[0], str):
        items = [value(ref) for ref in raw]
        return [None if item is _SKIP else item for item in items]
    kind = raw[0]
    if kind == "Date" and len(raw) == 2 and isinstance(raw[1], str):
        return raw[1]  # devalue writes toISOString(), which is what JSON.stringify gives
    if kind == "null" and len(raw) % 2 == 1 and all(isinstance(key, str) for key in raw[1::2]):
        members = {raw[at]: value(raw[at + 1]) for at in range(1, len(raw), 2)}
        return {key: item for key, item in members.items() if item is not _SKIP}
    raise DevalueError(f"a {kind[:40]!r} value, which JSON cannot carry")


def _check_refs(refs: "list[int]", count: int) -> None:
    for ref in refs:
        if type(ref) is not int or not (-6 <= ref < count):
            raise DevalueError(f"a reference {str(ref)[:20]} outside the data's {count} values")


def unflatten(values: object, *, max_depth: int = 64, max_items: int = 100_000) -> "Any":
    """The value devalue's ``stringify`` flattened into ``values`` (decoded JSON)."""
    if not isinstance(values, list) or not values:
        raise DevalueError("expected a non-empty array of values")
    count = len(values)
    done: dict[int, Any] = {}
    height: dict[int, int] = {}  # how deep each built value nests
    size: dict[int, int] = {}  # how many values it unfolds into
    active: dict[int, list[int]] = {}  # being built (the ancestors of the top): its children
    stack = [(0, False)]
    while stack:
        index, children_done = stack.pop()
        if index in done:
            continue
        if not children_done:
            if index in active:
                raise DevalueError("a value that contains itself (a cycle)")
            all_refs = _refs(values[index])
            _check_refs(all_refs, count)  # before comparing: a reference may be any JSON
            active[index] = refs = [ref for ref in all_refs if ref >= 0]
            stack.append((index, True))
            stack.extend((ref, False) for ref in refs if ref not in done)
            continue
        refs = active.pop(index)
        height[index] = 1 + max((height[ref] for ref in refs), default=0)
        size[index] = 1 + sum(size[ref] for ref in refs)
        if height[index] > max_depth:
            raise DevalueError(f"nested deeper than {max_depth} levels")
        if size[index] > max_items:
            raise DevalueError(f"more than {max_items} values once unfolded")
        done[index] = _build(values[index], done)
    return done[0]
