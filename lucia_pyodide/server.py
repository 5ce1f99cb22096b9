"""The server half, for Python backends: render the signed-in user into a page, safely.

Standard library only, and never imported by ``import lucia_pyodide`` (the browser
half does not need it). Use it where your server builds HTML::

    from lucia_pyodide.server import user_script_tag

    html = f"<head>{user_script_tag({'userId': user.id, 'username': user.name})}</head>"

The client's ``get_user()`` reads either form. Both escape the JSON so that no value
can end the ``<script>`` element early (``</script>``), open a comment (``<!--``) or
break a JavaScript string (U+2028/U+2029): user-chosen names are hostile input.

Send a page that shows a user with ``NO_STORE`` (``Cache-Control: private, no-store``),
so that Back does not re-show it from the HTTP cache after a sign-out. The client asks
the server again at such moments: for a ``user_script_tag`` page it fetches the page
itself; for ``page_data_script`` it fetches ``<page path>/__data.json``, which
``route_data_json`` answers as SvelteKit does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["NO_STORE", "page_data_script", "route_data_json", "script_json", "user_script_tag"]

#: The header that keeps a page with a user out of the HTTP and back-forward caches
#: (WebKit restores even these from its back-forward cache: the client then re-asks).
NO_STORE: dict[str, str] = {"Cache-Control": "private, no-store"}

_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
            ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


def script_json(value: object) -> str:
    """``value`` as JSON that is inert inside any ``<script>`` element.

    The escapes are JSON's own (``\\u003c``), so the text still parses to ``value``.
    """
    # ASCII only: a lone surrogate in a name could not even be encoded as UTF-8.
    text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    for char, escape in _ESCAPES:
        text = text.replace(char, escape)
    return text


def _checked(user: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if user is None:
        return None
    user_id = user.get("userId")
    if not isinstance(user_id, str) or not user_id:
        raise ValueError(f"the user needs a non-empty string userId, not {user_id!r}")
    return dict(user)


def user_script_tag(user: Mapping[str, Any] | None) -> str:
    """``<script type="application/json" id="lucia-user">`` holding ``user`` (``None``: signed out).

    ``user`` is Lucia's user object: ``{"userId": ..., **attributes}``. This form runs
    no script, so it also works under a strict Content-Security-Policy.
    """
    return f'<script type="application/json" id="lucia-user">{script_json(_checked(user))}</script>'


def page_data_script(user: Mapping[str, Any] | None, *, nonce: str | None = None) -> str:
    """The script lucia-sveltekit's hook adds: ``window._lucia_page_data`` with ``user`` as ``_lucia``.

    Give ``nonce`` when your Content-Security-Policy allows inline scripts by nonce.
    """
    nodes = [{"type": "data", "data": {"_lucia": _checked(user)}, "uses": {}}, None]
    nonce_attribute = f' nonce="{_attribute(nonce)}"' if nonce is not None else ""
    return f"<script{nonce_attribute}>window._lucia_page_data = {script_json(nodes)};</script>"


def _attribute(value: str) -> str:
    if not value or any(c in value for c in "\"'<>&\0 \t\n\r\f"):
        raise ValueError(f"a nonce must be a plain token, not {value!r}")
    return value


def _flatten(root: object) -> list[Any]:
    """devalue's ``stringify`` form of JSON data: every value once, referring by index."""
    values: list[Any] = []

    def add(value: object) -> int:
        index = len(values)
        values.append(None)
        if isinstance(value, Mapping):
            values[index] = {str(key): add(item) for key, item in value.items()}
        elif isinstance(value, list | tuple):
            values[index] = [add(item) for item in value]
        else:
            values[index] = value
        return index

    add(root)
    return values


def route_data_json(user: Mapping[str, Any] | None) -> str:
    """The body of ``GET <page path>/__data.json`` for a page that shows ``user``.

    As lucia-sveltekit 0.10's SvelteKit answers it (one devalue array; serve it as
    ``application/json`` with ``NO_STORE``): the client reads it at the moments the page
    may be stale, with the browser's cookies, to learn who a reload would show.
    """
    nodes = [{"type": "data", "data": {"_lucia": _checked(user)}, "uses": {}}, None]
    return json.dumps(_flatten({"type": "data", "nodes": nodes}), separators=(",", ":"),
                      allow_nan=False)
