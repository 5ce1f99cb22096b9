"""The server half, for Python backends: render the signed-in user into a page, safely.

Standard library only, and never imported by ``import lucia_pyodide`` (the browser
half does not need it). Use it where your server builds HTML::

    from lucia_pyodide.server import user_script_tag

    html = f"<head>{user_script_tag({'userId': user.id, 'username': user.name})}</head>"

The client's ``get_user()`` reads either form. Both escape the JSON so that no value
can end the ``<script>`` element early (``</script>``), open a comment (``<!--``) or
break a JavaScript string (U+2028/U+2029): user-chosen names are hostile input.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["page_data_script", "script_json", "user_script_tag"]

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
