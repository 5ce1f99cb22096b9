"""Where the user comes from: parsing what the server rendered into the page.

Pure Python: the page is read by ``_compat`` as JSON text, and everything here
turns that text into a ``User`` or a specific ``AUTH_INVALID_USER_DATA`` error.
"""

import json

from ._compat._lang import JSON_ERRORS
from ._errors import AUTH_INVALID_USER_DATA, LuciaError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from ._compat._protocols import Page

#: Deeper JSON than this is refused rather than risking a RecursionError.
MAX_DEPTH = 64


class User:
    """The signed-in user: ``user_id`` (the server's ``userId``) and ``attributes``.

    Immutable. ``attributes`` holds the application's own fields as ``json.loads`` would
    give them (dicts, lists, ``None``), a fresh copy at each read: ``dict()``,
    ``json.dumps``, ``==`` and ``to_js`` take it in every interpreter (MicroPython's
    ``dict()`` takes no mapping but a real dict), and whatever the page does to its copy,
    the user stays what the server rendered.
    """

    def __init__(self, user_id: str, attributes: "Mapping[str, Any] | None" = None) -> None:
        self._user_id = user_id
        self._attributes: dict[str, Any] = _copied(dict(attributes.items()) if attributes else {})

    @property
    def user_id(self) -> str:
        return self._user_id

    @property
    def attributes(self) -> "dict[str, Any]":
        return _copied(self._attributes)  # type: ignore[no-any-return]

    def to_dict(self) -> "dict[str, Any]":
        """The user as Lucia sends it, ``{"userId": ..., **attributes}``, as plain data.

        What the JavaScript client's user is: for ``json.dumps``, ``to_js`` or a worker's
        message; ``User.from_dict`` reads it back.
        """
        data = {"userId": self._user_id}
        data.update(self.attributes)
        data["userId"] = self._user_id
        return data

    @classmethod
    def from_dict(cls, data: object) -> "User":
        """The user from ``to_dict()``'s data (a worker's message, say), checked as page data is.

        Raises ``LuciaError(AUTH_INVALID_USER_DATA)`` for anything Lucia would not send.
        """
        user = user_from_object(data, "User.from_dict")
        if user is None:
            raise _invalid("User.from_dict", "the user is null, expected an object")
        return user

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, User) and self._user_id == other._user_id
                and self._attributes == other._attributes)

    def __hash__(self) -> int:
        return hash(self._user_id)

    def __repr__(self) -> str:
        return f"User(user_id={self._user_id!r}, attributes={self._attributes!r})"


def _invalid(source: str, what: str) -> LuciaError:
    return LuciaError(AUTH_INVALID_USER_DATA, f"{source}: {what}")


def _copied(value: "Any", depth: int = 0) -> "Any":
    """JSON-like data copied all the way down: dicts as dicts, lists and tuples as lists."""
    if depth > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        return {k: _copied(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_copied(v, depth + 1) for v in value]
    return value


def _describe(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "a number"
    )


def user_from_object(value: object, source: str) -> "User | None":
    """Turn a decoded user value (``null`` or ``{"userId": ..., ...}``) into a ``User``."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _invalid(source, f"the user is {_describe(value)}, expected an object or null")
    user_id = value.get("userId")
    if not isinstance(user_id, str) or not user_id:
        raise _invalid(source, f"userId is {_describe(user_id)}, expected a non-empty string")
    try:
        return User(user_id, {k: v for k, v in value.items() if k != "userId"})
    except ValueError as err:
        raise _invalid(source, str(err)) from None


def json_depth_exceeds(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON ``text`` nests arrays/objects deeper than ``limit``, without parsing it.

    Deep nesting must be refused before ``json.loads``: in Pyodide a very deep
    document overflows the WebAssembly stack instead of raising RecursionError.
    """
    if text.count("[") + text.count("{") <= limit:  # the common case: cannot be too deep
        return False
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _loads(text: str, source: str) -> "Any":
    if json_depth_exceeds(text):
        raise _invalid(source, f"nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text)
    except JSON_ERRORS as err:  # JSONDecodeError, invalid surrogates; too deep
        if not isinstance(err, ValueError):
            raise _invalid(source, f"nested deeper than Python can parse ({len(text)} chars)") from None
        excerpt = text[:60] + ("…" if len(text) > 60 else "")
        raise _invalid(source, f"not JSON ({err}): {excerpt!r}") from None


def user_from_script_text(text: str, source: str = "#lucia-user") -> "User | None":
    """Parse the text of ``<script type="application/json" id="lucia-user">``."""
    return user_from_object(_loads(text, source), source)


def user_from_page_data_json(text: str, source: str = "_lucia_page_data") -> "User | None":
    """Parse lucia-sveltekit's hydration array, given as JSON text. See ``read_page_data``."""
    return read_page_data(text, source)[0]


def read_page_data(text: str, source: str = "_lucia_page_data") -> "tuple[User | None, str]":
    """The user in lucia-sveltekit's hydration array (JSON text), and why it is what it is.

    The array holds one entry per layout/page node, each ``null`` or an object
    whose ``data`` member is that node's data; the ``data`` objects are merged in
    order (later wins) and ``_lucia`` is the user. No ``_lucia`` at all means
    signed out, as lucia-sveltekit's own client reads it (a page whose loads do not
    pass Lucia's data on); a ``_lucia`` of the wrong shape is an error.
    """
    nodes = _loads(text, source)
    if not isinstance(nodes, list):
        raise _invalid(source, f"the page data is {_describe(nodes)}, expected an array of nodes")
    return _read_nodes(nodes, source)


def _read_nodes(nodes: "list[Any]", source: str) -> "tuple[User | None, str]":
    merged: dict[str, Any] = {}
    for index, node in enumerate(nodes):
        if node is None:
            continue
        if not isinstance(node, dict):
            raise _invalid(source, f"node {index} is {_describe(node)}, expected an object or null")
        data = node.get("data")
        if data is None:
            continue
        if not isinstance(data, dict):
            raise _invalid(source, f"node {index}'s data is {_describe(data)}, expected an object")
        merged.update(data)
    if "_lucia" not in merged:
        return None, (f"{source} has no `_lucia` in any node's data: treated as signed out "
                      "(do this page's server loads return Lucia's data?)")
    user = user_from_object(merged["_lucia"], f"{source} _lucia")
    return user, "signed in" if user else f"{source} says signed out (null)"


def read_route_data(text: str, source: str = "__data.json") -> "tuple[User | None, str | None]":
    """The user in SvelteKit's route data (``GET <page>/__data.json``), or where it redirects.

    ``(user, None)``, or ``(None, location)`` for a redirect. lucia-sveltekit 0.10's
    SvelteKit flattens the whole answer into one devalue array; later releases send
    plain JSON with each node's data flattened on its own, and stream further chunks
    on further lines (only the first is needed). Both are read.
    """
    from ._devalue import DevalueError, unflatten  # noqa: PLC0415 - only looks need it

    decoded = _loads(text.split("\n", 1)[0], source)
    try:
        root = unflatten(decoded) if isinstance(decoded, list) else decoded
        if not isinstance(root, dict):
            raise DevalueError(f"the answer is {_describe(root)}, expected an object")
        kind, location, nodes = root.get("type"), root.get("location"), root.get("nodes")
        if kind == "redirect" and isinstance(location, str):
            return None, location
        if kind != "data" or not isinstance(nodes, list):
            raise DevalueError(f"a {str(kind)[:40]!r} answer, not route data with nodes")
        for node in nodes:  # each node's data flattened on its own
            if isinstance(node, dict) and isinstance(node.get("data"), list):
                node["data"] = unflatten(node["data"])
    except DevalueError as err:
        raise _invalid(source, str(err)) from None
    return _read_nodes(nodes, source)[0], None


#: Why there is no user data at all, by where the client runs (``Page.where()``).
_NO_USER_DATA = {
    "page": ("no user data in the page: neither globalThis._lucia_page_data nor "
             '<script type="application/json" id="lucia-user"> exists (is the server rendering '
             "it into this page? see the README, \"Your own server\")"),
    "worker": ("this runs in a web worker (a PyScript worker), which cannot see the page: call "
               "get_user() on the main thread and pass the user to the worker"),
    "no browser": "there is no page here (Node, CPython): get_user() needs a browser page",
}

#: How the server rendered the user into the page, so that it can be asked again.
PAGE_DATA, SCRIPT = "page data", "script"


def _rendered(page: "Page") -> "tuple[str, str] | None":
    """``(form, text)``: how the server rendered the user into ``page`` and its text, page
    data first; ``None`` when it was not at all."""
    page_data = page.page_data_json()
    if page_data is not None:
        return PAGE_DATA, page_data
    script = page.user_script_text()
    return (SCRIPT, script) if script is not None else None


def rendered_form(page: "Page") -> "str | None":
    """How the server rendered the user into ``page`` (``PAGE_DATA``, ``SCRIPT``), or ``None``.

    Parses nothing: for a page whose user is over before it was read, which must
    still know how to ask the server again.
    """
    rendered = _rendered(page)
    return rendered[0] if rendered is not None else None


def read_user(page: "Page") -> "tuple[User | None, str, str | None]":
    """The user the server rendered into ``page``: ``(user, why, form)``.

    ``why`` says why the user is ``None`` (or ``"signed in"``); ``form`` is how the
    user was rendered (``PAGE_DATA``, ``SCRIPT``), ``None`` when it was not at all.
    """
    rendered = _rendered(page)
    if rendered is None:
        return None, _NO_USER_DATA.get(page.where(), _NO_USER_DATA["page"]), None
    form, text = rendered
    if form == PAGE_DATA:
        user, why = read_page_data(text)
        return user, why, form
    user = user_from_script_text(text)
    return user, "signed in" if user else "#lucia-user says signed out (null)", form
