"""Helpers for tests running *inside* the interpreter (copied into its file system).

The same file serves Pyodide and MicroPython, so it uses only what both have
(``js``, ``json``; no ``typing`` at run time, no ``pyodide.*``).

In Chromium the page is on the reference server's origin: the browser sends
``Origin`` and keeps the (HttpOnly) cookies itself. Node keeps no cookies and
sends no ``Origin``, so there the client gets them as explicit headers, as a
Node program would.
"""

import json

import js

from lucia_pyodide import LuciaClient, LuciaError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

IN_BROWSER = bool(js.Reflect.has(js.globalThis, "document"))


def run_js(code: str) -> "Any":
    """Run JavaScript in the page's global scope (the test page has no CSP)."""
    return js.eval(code)


async def new_session(server_url: str, username: str = "alice") -> "dict[str, Any]":
    """Sign a user in through the server; in a browser its cookies are now set."""
    init = js.Object.new()
    init.method, init.credentials = "POST", "same-origin"
    init.body = json.dumps({"username": username})
    response = await js.fetch(server_url + "/__test__/session", init)
    assert response.status == 200, response.status
    result: dict[str, Any] = json.loads(await response.text())
    return result


def reset_page() -> None:
    """No page data, no #lucia-user, an empty localStorage."""
    js.Reflect.deleteProperty(js.globalThis, "_lucia_page_data")
    if IN_BROWSER:
        for element in js.document.querySelectorAll("#lucia-user"):
            element.remove()
        js.localStorage.clear()


def set_cookies(**cookies: str) -> None:
    """Plant cookies by script (browser only): for crafted tokens the server never set."""
    for name, value in cookies.items():
        js.document.cookie = f"{name}={value}; path=/"


_clients: "list[LuciaClient]" = []


def client(server_url: str, cookies: "dict[str, str] | None" = None, **options: "Any") -> LuciaClient:
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


def session_cookies(session: "dict[str, Any]") -> "dict[str, str] | None":
    """The cookies to hand ``client()`` for a session: none in a browser (it has them)."""
    if IN_BROWSER:
        return None
    return {"access_token": session["access_token"], "refresh_token": session["refresh_token"]}


def set_page_data(value: "Any") -> None:
    """Set ``globalThis._lucia_page_data`` from a JSON-able value, as the server's script does."""
    js.globalThis._lucia_page_data = js.JSON.parse(json.dumps(value))


def set_user_script(text: str) -> None:
    """Add ``<script type="application/json" id="lucia-user">`` with ``text`` (browser only)."""
    element = js.document.createElement("script")
    element.type = "application/json"
    element.id = "lucia-user"
    element.textContent = text
    js.document.body.appendChild(element)


def get_user_outcome() -> "list[str]":
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
