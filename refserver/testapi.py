"""The reference server's test-only endpoints, under ``/__test__/``: never enabled outside tests.

They exist only with ``Config.test_api`` (``--test-api``): sessions made without a
form, settings changed while the server runs, request counters, canned broken
answers (``/__test__/fault/<kind>``) and the lab page that the Chromium tests
drive under a strict Content-Security-Policy.
"""

from __future__ import annotations

import json
import socket
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import Handler

LAB_DIR = Path(__file__).with_name("lab")
LAB = "/__test__/lab"
FAULT_PREFIX = "/__test__/fault/"
FAULT_HANG_SECONDS = 20
#: What the lab page allows: Pyodide and nothing evaluated from strings.
LAB_CSP = "script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'"
#: Canned broken answers: kind -> (status, body, content type).
FAULTS: dict[str, tuple[int, str, str | None]] = {
    "html500": (500, "<html><body><h1>Internal Server Error</h1></body></html>", "text/html"),
    "empty502": (502, "", None),
    "garbage200": (200, "\x00\x01 not json at all", "text/plain"),
    "expires-string": (200, '{"expires": "soon"}', "application/json"),
    "expires-negative": (200, '{"expires": -1}', "application/json"),
    "expires-huge": (200, '{"expires": 1e300}', "application/json"),
    "json-null": (200, "null", "application/json"),
    "notfound404": (404, "<html>Not Found</html>", "text/html"),
    "db-fetch": (500, '{"message":"DATABASE_FETCH_FAILED"}', "text/plain;charset=UTF-8"),
    "db-update": (500, '{"message":"DATABASE_UPDATE_FAILED"}', "text/plain;charset=UTF-8"),
    "unknown": (500, '{"message":"UNKNOWN_ERROR"}', "text/plain;charset=UTF-8"),
    # Not a fault: a fixed success with no database work, for timing the client itself.
    "ok": (200, '{"expires": 4102444800000}', "application/json"),
}


def json_body(handler: Handler) -> dict[str, Any]:
    value = json.loads(handler.read_body() or b"{}")
    return value if isinstance(value, dict) else {}


def session(handler: Handler) -> None:
    """Make (or reuse) a user and a session; return its tokens and set its cookies."""
    fields = json_body(handler)
    username = str(fields.get("username", "tester"))
    store = handler.app.store
    try:
        user_id = store.create_user(username, "test-password")
    except KeyError:
        user_id = store.authenticate(username, "test-password") or ""
    made = store.create_session(user_id)
    body = json.dumps({
        "userId": user_id, "username": username, "access_token": made.access_token,
        "refresh_token": made.refresh_token, "expires": made.expires_ms,
    }).encode()
    handler.respond(200, body, "application/json", handler.session_cookies(made, expires=False))


def fault(handler: Handler) -> None:
    """Misbehave as a broken deployment would: ``/__test__/fault/<kind>``."""
    handler.read_body()
    kind = handler.route[len(FAULT_PREFIX):]
    if kind == "slow":  # the "ok" answer, slow but inside any sane timeout
        time.sleep(0.5)
        kind = "ok"
    canned = FAULTS.get(kind)
    if canned is not None:
        status, body, content_type = canned
        return handler.respond(status, body.encode(), content_type)
    if kind == "redirect":
        return handler.respond(302, b"", None, [("Location", "http://evil.example/steal")])
    if kind == "reset":  # headers promise a body that never fully comes
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        handler.wfile.write(b'{"expires": 17')
        handler.wfile.flush()
        handler.close_connection = True
        handler.connection.shutdown(socket.SHUT_RDWR)
        return None
    if kind == "hang":  # accept, then never answer (bounded so the server can stop)
        time.sleep(FAULT_HANG_SECONDS)
        handler.close_connection = True
        return None
    if kind == "hang-body":  # headers, then silence mid-body
        handler.send_response(200)
        handler.send_header("Content-Length", "100")
        handler.end_headers()
        handler.wfile.write(b'{"exp')
        handler.wfile.flush()
        time.sleep(FAULT_HANG_SECONDS)
        handler.close_connection = True
        return None
    return handler.respond(404, b"unknown fault", "text/plain")


def config(handler: Handler) -> None:
    handler.app.config.update(json_body(handler))
    handler.respond(200, b"{}", "application/json")


def reset(handler: Handler) -> None:
    handler.read_body()
    with handler.app.lock:
        handler.app.requests.clear()
    handler.app.config.reset_test_settings()
    handler.respond(200, b"{}", "application/json")


def stats(handler: Handler) -> None:
    with handler.app.lock:
        body = json.dumps(dict(handler.app.requests)).encode()
    handler.respond(200, body, "application/json")


def lab(handler: Handler) -> None:
    """A page that boots Pyodide (or, ``?interpreter=micropython``, MicroPython) with the
    wheel under a strict CSP, for tests to drive.

    The user is hydrated the JSON-tag way (an inline script would be refused by the
    policy), and a page load refreshes a session from its refresh token, as any page does.
    """
    from .server import with_user  # noqa: PLC0415 - a cycle otherwise

    user, _expires, cookies = handler.current_user()
    interpreter = handler.query().get("interpreter", ["pyodide"])[0]
    text = with_user((LAB_DIR / "lab.html").read_text(), user, "script")
    text = text.replace("{{wheel}}", handler.wheel_url()).replace(
        "{{interpreter}}", "micropython" if interpreter == "micropython" else "pyodide")
    headers = [("Content-Security-Policy", LAB_CSP), *cookies]
    handler.respond(200, text.encode(), "text/html; charset=utf-8", headers)


POST: dict[str, Callable[[Handler], None]] = {
    "/__test__/session": session, "/__test__/config": config, "/__test__/reset": reset,
}
def lab_module(handler: Handler) -> None:
    handler.respond(200, (LAB_DIR / "lab.mjs").read_bytes(), "text/javascript")


def wheel_sources(wheel: Path) -> dict[str, str]:
    """The wheel's Python files, ``{path: text}``: what MicroPython gets written into its file
    system where PyScript's ``packages`` would unzip them (the lab, the bench and the
    in-browser tests load no PyScript)."""
    with zipfile.ZipFile(wheel) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()
                if name.endswith(".py")}


def wheel_files(handler: Handler) -> None:
    found = handler.wheel()
    if found is None:
        handler.respond(404, b'{"error": "no wheel: run make wheel"}', "application/json")
        return
    handler.respond(200, json.dumps(wheel_sources(found[1])).encode(), "application/json")


def micropython_files(handler: Handler) -> None:
    handler.respond(200, (LAB_DIR / "micropython_files.mjs").read_bytes(), "text/javascript")


GET: dict[str, Callable[[Handler], None]] = {
    "/__test__/stats": stats, LAB: lab, "/__test__/lab.mjs": lab_module,
    "/__test__/wheel-files": wheel_files, "/__test__/micropython_files.mjs": micropython_files,
}
