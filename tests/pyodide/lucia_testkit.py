"""Helpers for tests running *inside* Pyodide (copied into its file system).

In Chromium the page is on the reference server's origin: the browser sends
``Origin`` and keeps the (HttpOnly) cookies itself. Node keeps no cookies and
sends no ``Origin``, so there the client gets them as explicit headers, as a
Node program would.
"""

from __future__ import annotations

import json
from typing import Any

import js
from pyodide.http import pyfetch

from lucia_pyodide import LuciaClient, LuciaError

IN_BROWSER = bool(js.Reflect.has(js.globalThis, "document"))


async def new_session(server_url: str, username: str = "alice") -> dict[str, Any]:
    """Sign a user in through the server; in a browser its cookies are now set."""
    response = await pyfetch(
        server_url + "/__test__/session",
        method="POST",
        body=json.dumps({"username": username}),
        credentials="same-origin",
    )
    assert response.status == 200, response.status
    result: dict[str, Any] = await response.json()
    return result


def set_cookies(**cookies: str) -> None:
    """Plant cookies by script (browser only): for crafted tokens the server never set."""
    for name, value in cookies.items():
        js.document.cookie = f"{name}={value}; path=/"


_clients: list[LuciaClient] = []


def client(server_url: str, cookies: dict[str, str] | None = None, **options: Any) -> LuciaClient:
    """A client for this runtime: same-origin in a browser, explicit headers in Node.

    Each is closed by ``close_all()`` before the next test: clients in one page hear
    each other as tabs do, and a test's leftovers must not act in the next.
    """
    if IN_BROWSER:
        if cookies:
            set_cookies(**cookies)
        made = LuciaClient(**options)
    else:
        headers = {"Origin": server_url}
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        made = LuciaClient(server_url, headers=headers, **options)
    _clients.append(made)
    return made


def close_all() -> None:
    while _clients:
        _clients.pop().close()


def session_cookies(session: dict[str, Any]) -> dict[str, str] | None:
    """The cookies to hand ``client()`` for a session: none in a browser (it has them)."""
    if IN_BROWSER:
        return None
    return {"access_token": session["access_token"], "refresh_token": session["refresh_token"]}


def set_page_data(value: Any) -> None:
    """Set ``globalThis._lucia_page_data`` from a JSON-able value, as the server's script does."""
    js.globalThis._lucia_page_data = js.JSON.parse(json.dumps(value))


def set_user_script(text: str) -> None:
    """Add ``<script type="application/json" id="lucia-user">`` with ``text`` (browser only)."""
    element = js.document.createElement("script")
    element.type = "application/json"
    element.id = "lucia-user"
    element.textContent = text
    js.document.body.appendChild(element)


def get_user_outcome() -> list[str]:
    """What a fresh client's ``get_user()`` does with the page: ``[code, detail]``.

    ``["NO ERROR", ""]`` when it returned; ``["ESCAPED", repr]`` when anything but a
    LuciaError came out, which is always a bug.
    """
    try:
        client("").get_user()
    except LuciaError as err:
        return [err.code, err.detail]
    except BaseException as err:
        return ["ESCAPED", repr(err)]
    return ["NO ERROR", ""]
