"""The HTTP side: the two auth endpoints, sign-in/sign-up forms, hydrated pages, static files.

Behaves like lucia-sveltekit 0.10 on the wire (the repository's PROTOCOL.md), plus the
extensions it names: ``{"expires": ms}`` refresh bodies (or empty ones, by
setting) and the ``<script id="lucia-user">`` hydration form.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from lucia_pyodide.server import NO_STORE, page_data_script, route_data_json, user_script_tag

from . import testapi
from .store import Session, Store

REFRESH_TOKEN_PATTERN = re.compile(r"rt_[A-Za-z0-9]{40}")
REFRESH_COOKIE_MAX_AGE = 525600  # seconds, as lucia-sveltekit 0.10 sets it
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
HYDRATION_MARK = "<!--lucia:hydration-->"
ROUTE_DATA = "/__data.json"
#: The demo's app pages: what they show, the PyScript tag each uses, and its interpreter.
APP_PAGES = {
    "/": ("<py-script>", "py-script", "/pyscript/pyodide/pyodide.mjs"),
    "/app-py": ('<script type="py">', 'script type="py"', "/pyscript/pyodide/pyodide.mjs"),
    "/app-mpy": ('<script type="mpy"> (MicroPython)', 'script type="mpy"',
                 "/pyscript/micropython/micropython.mjs"),
}


@dataclass
class Config:
    """Settings a test may change while the server runs (``POST /__test__/config``)."""

    hydration: str = "sveltekit"  # "sveltekit" (window._lucia_page_data) or "script" (#lucia-user)
    refresh_body: str = "json"  # "json" ({"expires": ms}) or "empty" (as lucia-sveltekit 0.10)
    demo_username: str = "demo"
    demo_password: str = "demo-password"
    test_api: bool = False
    #: Test settings: seconds a refresh waits before it uses the token, and after,
    #: before it answers (a request "on its way"; cookies that land late).
    refresh_delay: float = 0.0
    refresh_answer_delay: float = 0.0
    #: "no-store" (``lucia_pyodide.server.NO_STORE`` on every answer), or "none": pages go
    #: out with no Cache-Control at all, as lucia-sveltekit 0.10.1 sends them.
    page_cache: str = "no-store"

    def update(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if key not in _TEST_SETTINGS:
                raise KeyError(key)
            setattr(self, key, type(_TEST_SETTINGS[key])(value))

    def reset_test_settings(self) -> None:
        for key, value in _TEST_SETTINGS.items():
            setattr(self, key, value)


_TEST_SETTINGS: dict[str, Any] = {
    "hydration": "sveltekit", "refresh_body": "json", "refresh_delay": 0.0, "refresh_answer_delay": 0.0,
    "page_cache": "no-store",
}


@dataclass
class App:
    """What the handler threads share: the store, the settings, the file mounts, counters."""

    store: Store
    config: Config = field(default_factory=Config)
    mounts: list[tuple[str, Path]] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, key: str) -> None:
        with self.lock:
            self.requests[key] += 1


def hydration_html(user: dict[str, str] | None, mode: str) -> str:
    """The user rendered into a page, the SvelteKit way or the JSON-tag way (the package's own helpers)."""
    return user_script_tag(user) if mode == "script" else page_data_script(user)


def with_user(page: str, user: dict[str, str] | None, mode: str) -> str:
    """``page`` with the user rendered in: at ``<!--lucia:hydration-->`` if it has one, else
    just before ``</head>``, else at the very start."""
    rendered = hydration_html(user, mode)
    if HYDRATION_MARK in page:
        return page.replace(HYDRATION_MARK, rendered, 1)
    at = page.lower().find("</head>")
    return page[:at] + rendered + page[at:] if at >= 0 else rendered + page


class Handler(SimpleHTTPRequestHandler):
    """One request. ``app`` is set on a subclass made per server."""

    app: App
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: with Nagle's algorithm on, the body
    # waits for the client's delayed ACK and every answer takes ~40 ms on loopback.
    disable_nagle_algorithm = True
    extensions_map = {  # noqa: RUF012 - the base class's own class attribute
        **SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
        ".mjs": "text/javascript",
        ".js": "text/javascript",
        ".whl": "application/zip",
        ".zip": "application/zip",
        ".json": "application/json",
    }

    def log_message(self, format: str, *args: Any) -> None:
        if os.environ.get("REFSERVER_LOG"):
            super().log_message(format, *args)

    # -- plumbing ----------------------------------------------------------------------
    @property
    def route(self) -> str:
        return urlsplit(self.path).path

    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query)

    def cookies(self) -> dict[str, str]:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(self.headers.get("Cookie", ""))
        except Exception:  # a malformed Cookie header is no cookies
            return {}
        return {name: morsel.value for name, morsel in jar.items()}

    def read_body(self) -> bytes:
        """The request body (at most 1 MiB); a malformed length raises ``BadRequest``."""
        text = self.headers.get("Content-Length") or "0"
        if not text.isdigit():
            raise BadRequest(f"Content-Length {text[:40]!r} is not a number")
        length = int(text)
        return self.rfile.read(min(length, 1 << 20)) if length > 0 else b""

    def respond(
        self,
        status: int,
        body: bytes = b"",
        content_type: str | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in headers or []:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        page = (content_type or "").startswith("text/html")
        if not (page and self.app.config.page_cache == "none"):
            for name, value in NO_STORE.items():  # no page with a user is re-shown from a cache
                self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def fail(self, code: str) -> None:
        """An error as lucia-sveltekit sends it: 500, JSON labelled text/plain."""
        body = json.dumps({"message": code}).encode()
        self.respond(500, body, "text/plain;charset=UTF-8")

    def same_origin(self) -> bool:
        return self.headers.get("Origin") == f"http://{self.headers.get('Host', '')}"

    def session_cookies(self, session: Session, *, expires: bool) -> list[tuple[str, str]]:
        access = f"access_token={session.access_token}; Path=/; HttpOnly; SameSite=Lax"
        if expires:
            when = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(session.expires_ms / 1000))
            access += f"; Expires={when}"
        refresh = (
            f"refresh_token={session.refresh_token}; Path=/; HttpOnly; SameSite=Lax; "
            f"Max-Age={REFRESH_COOKIE_MAX_AGE}"
        )
        return [("Set-Cookie", access), ("Set-Cookie", refresh)]

    # -- dispatch ------------------------------------------------------------------------
    def do_POST(self) -> None:
        try:
            self.dispatch_post()
        except BadRequest as err:
            self.close_connection = True  # the rest of the request cannot be trusted
            self.respond(400, f"bad request: {err}".encode(), "text/plain")

    def dispatch_post(self) -> None:
        self.app.count(f"POST {self.route}")
        routes = {
            "/api/auth/refresh-session": self.refresh_session,
            "/api/auth/logout": self.logout,
            "/login": self.login_form,
            "/signup": self.signup_form,
        }
        handler = routes.get(self.route)
        if handler is not None:
            return handler()
        if self.app.config.test_api:
            test_handler = testapi.POST.get(self.route)
            if test_handler is None and self.route.startswith(testapi.FAULT_PREFIX):
                test_handler = testapi.fault
            if test_handler is not None:
                return test_handler(self)
        return self.respond(404, b"not found", "text/plain")

    def do_GET(self) -> None:
        route = self.route
        self.app.count(f"GET {route}")
        if route.endswith(ROUTE_DATA) and self.has_page(route[:-len(ROUTE_DATA)] or "/"):
            self.render_route_data()
        elif route in APP_PAGES:
            self.render_app(route)
        elif route == "/login":
            self.render_login()
        elif self.app.config.test_api and route in testapi.GET:
            testapi.GET[route](self)
        else:
            found = self.mounted_file(route)
            if found is not None and found.suffix == ".html":
                self.render_mounted_page(found)
            else:
                super().do_GET()

    def has_page(self, route: str) -> bool:
        """Whether ``route`` is a page that shows the user (so it has route data)."""
        if route in APP_PAGES:
            return True
        if self.app.config.test_api and route == testapi.LAB:
            return True
        found = self.mounted_file(route)
        return found is not None and found.suffix == ".html"

    def render_route_data(self) -> None:
        """SvelteKit's ``__data.json`` for a page: its user, as a page load finds it."""
        user, _expires, cookies = self.current_user()
        self.respond(200, route_data_json(user).encode(), "application/json", cookies)

    def mounted_file(self, route: str) -> Path | None:
        """The file a URL path names on the first mount that has it (a folder: its index.html)."""
        for prefix, directory in self.app.mounts:
            if not route.startswith(prefix):
                continue
            candidate = (directory / route[len(prefix):].lstrip("/")).resolve()
            if candidate.is_dir():
                candidate = candidate / "index.html"
            if candidate.is_relative_to(directory.resolve()) and candidate.is_file():
                return candidate
        return None

    def translate_path(self, path: str) -> str:
        found = self.mounted_file(urlsplit(path).path)
        return str(found if found is not None else STATIC_DIR / "__missing__")

    def render_mounted_page(self, page: Path) -> None:
        """A page of your own, with the user rendered in as on the demo's pages (``with_user``).

        The SvelteKit way or the JSON tag, as configured (``?hydration=`` overrides). A
        page load refreshes from the refresh token as any does.
        """
        user, _expires, cookies = self.current_user()
        mode = self.query().get("hydration", [self.app.config.hydration])[0]
        text = with_user(page.read_text(encoding="utf-8", errors="replace"), user, mode)
        self.respond(200, text.encode(), "text/html; charset=utf-8", cookies)

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        self.send_error(HTTPStatus.NOT_FOUND, "no listing")

    # -- the protocol --------------------------------------------------------------------
    def refresh_session(self) -> None:
        self.read_body()
        if not self.same_origin():
            return self.fail("AUTH_INVALID_REQUEST")
        token = self.cookies().get("refresh_token", "")  # as sent, before any delay
        time.sleep(self.app.config.refresh_delay)
        user_id = (
            self.app.store.use_refresh_token(token) if REFRESH_TOKEN_PATTERN.fullmatch(token) else None
        )
        if user_id is None:
            return self.fail("AUTH_INVALID_REFRESH_TOKEN")
        session = self.app.store.create_session(user_id)
        cookies = self.session_cookies(session, expires=True)
        time.sleep(self.app.config.refresh_answer_delay)
        if self.app.config.refresh_body == "empty":
            return self.respond(200, b"", None, cookies)
        body = json.dumps({"expires": session.expires_ms}).encode()
        return self.respond(200, body, "application/json", cookies)

    def logout(self) -> None:
        self.read_body()
        if not self.same_origin():
            return self.fail("AUTH_INVALID_REQUEST")
        cookies = self.cookies()
        access = cookies.get("access_token", "")
        if not access:
            return self.fail("AUTH_INVALID_ACCESS_TOKEN")
        self.app.store.delete_session(access, cookies.get("refresh_token"))
        return self.respond(200, b"", None, self.blank_cookies())

    @staticmethod
    def blank_cookies() -> list[tuple[str, str]]:
        return [
            ("Set-Cookie", f"{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
            for name in ("access_token", "refresh_token")
        ]

    def current_user(self) -> tuple[dict[str, str] | None, int | None, list[tuple[str, str]]]:
        """The page's user and session expiry, as lucia-sveltekit 0.10.1's server load finds them.

        A live access token gives its user. Otherwise a valid refresh token is used up
        and both cookies are re-issued (the page shows the user signed in); any other
        token cookie is blanked.
        """
        cookies = self.cookies()
        access, token = cookies.get("access_token", ""), cookies.get("refresh_token", "")
        if not access and not token:
            return None, None, []
        live = self.app.store.session_user(access)
        if live is not None:
            return self.app.store.user(live[0]), live[1], []
        if REFRESH_TOKEN_PATTERN.fullmatch(token):
            user_id = self.app.store.use_refresh_token(token)
            if user_id is not None:
                session = self.app.store.create_session(user_id)
                cookies_out = self.session_cookies(session, expires=False)
                return self.app.store.user(user_id), session.expires_ms, cookies_out
        return None, None, self.blank_cookies()

    # -- pages and forms ---------------------------------------------------------------
    def wheel_url(self) -> str:
        """URL of the newest lucia_pyodide wheel among the mounts (for the PyScript config)."""
        found = self.wheel()
        if found is None:
            return "/wheels/missing-run-make-wheel.whl"
        return f"{found[0].rstrip('/')}/{found[1].name}"

    def wheel(self) -> tuple[str, Path] | None:
        """The newest lucia_pyodide wheel among the mounts: (mount prefix, file)."""
        for prefix, directory in self.app.mounts:
            wheels = sorted(directory.glob("lucia_pyodide-*-py3-none-any.whl"))
            if wheels:
                return prefix, wheels[-1]
        return None

    def render_app(self, route: str) -> None:
        """The demo app page, with the user hydrated (``?hydration=`` overrides the setting)."""
        user, expires, cookies = self.current_user()
        mode = self.query().get("hydration", [self.app.config.hydration])[0]
        kind, tag, interpreter = APP_PAGES[route]
        config = json.dumps({"interpreter": interpreter, "packages": [self.wheel_url()]})
        script = f"<{tag} src=\"/static/demo_app.py\" config='{config}'></{tag.split()[0]}>"
        text = (
            with_user((STATIC_DIR / "app.html").read_text(), user, mode)
            .replace("{{session_expires}}", str(expires or ""))
            .replace("{{page_kind}}", html.escape(kind))
            .replace("{{interpreter}}", "MicroPython" if "micropython" in interpreter else "Pyodide")
            .replace("{{app_script}}", script)
        )
        self.respond(200, text.encode(), "text/html; charset=utf-8", cookies)

    def render_login(self) -> None:
        """The sign-in page; what a failed form or a sign-out left to say comes in the query.

        Failed forms redirect here (303) rather than answer their POST, so a reload does
        not send them again; the typed username comes back, never the password.
        """
        query = {key: values[0] for key, values in self.query().items()}
        login_error = {"wrong": "Wrong username or password."}.get(query.get("error", ""), "")
        signup_error = {
            "short": "Sign-up needs a username (1-64 characters) and a password of 8+ characters.",
            "taken": f"The name {query.get('name', '')!r} is taken: pick another.",
        }.get(query.get("signup_error", ""), "")
        notice = {"signed_out": "You are signed out."}.get(query.get("notice", ""), "")
        fields = {
            "message": login_error, "signup_message": signup_error, "notice": notice,
            "login_username": query.get("username", "") if login_error else "",
            "signup_username": query.get("name", "") if signup_error else "",
            "next": safe_next(query.get("next", "/")),
            "demo_username": self.app.config.demo_username,
            "demo_password": self.app.config.demo_password,
        }
        text = (STATIC_DIR / "login.html").read_text()
        for name in ("message", "signup_message", "notice"):
            text = text.replace(f"{{{{{name}_hidden}}}}", "" if fields[name] else "hidden")
        for name, value in fields.items():
            text = text.replace(f"{{{{{name}}}}}", html.escape(value))
        self.respond(200, text.encode(), "text/html; charset=utf-8")

    def back_to_login(self, **query: str) -> None:
        self.respond(303, b"", None, [("Location", "/login?" + urlencode(query))])

    def form(self) -> dict[str, str]:
        fields = parse_qs(self.read_body().decode("utf-8", "replace"))
        return {key: values[0] for key, values in fields.items()}

    def sign_in(self, user_id: str, target: str) -> None:
        session = self.app.store.create_session(user_id)
        cookies = self.session_cookies(session, expires=False)
        self.respond(303, b"", None, [("Location", safe_next(target)), *cookies])

    def login_form(self) -> None:
        if not self.same_origin():  # login CSRF: a foreign page must not sign anyone in
            self.read_body()
            return self.respond(403, b"This form must be sent from this site.", "text/plain")
        fields = self.form()
        username, target = fields.get("username", ""), safe_next(fields.get("next", "/"))
        user_id = self.app.store.authenticate(username, fields.get("password", ""))
        if user_id is None:
            return self.back_to_login(error="wrong", username=username[:64], next=target)
        return self.sign_in(user_id, target)

    def signup_form(self) -> None:
        if not self.same_origin():
            self.read_body()
            return self.respond(403, b"This form must be sent from this site.", "text/plain")
        fields = self.form()
        username, password = fields.get("username", "").strip(), fields.get("password", "")
        target = safe_next(fields.get("next", "/"))
        if not 1 <= len(username) <= 64 or len(password) < 8:
            return self.back_to_login(signup_error="short", name=username[:64], next=target)
        try:
            user_id = self.app.store.create_user(username, password)
        except KeyError:
            return self.back_to_login(signup_error="taken", name=username, next=target)
        return self.sign_in(user_id, target)


class BadRequest(Exception):
    """A request too malformed to act on: answered with 400."""


def safe_next(target: str) -> str:
    """Where a sign-in may send the browser: a same-origin path, checked as the client checks
    sign-out redirects (no ``//host``, ``/\\host``, control characters or hidden schemes); else ``/``."""
    from lucia_pyodide._redirect import check_redirect  # noqa: PLC0415 - the client's own rules

    if not target.startswith("/"):
        return "/"
    try:
        return check_redirect(target, page_origin=None)
    except ValueError:
        return "/"


class _Server(ThreadingHTTPServer):
    # socketserver's default listen backlog is 5: a burst of 100 connections then
    # waits on SYN retransmits (a second each), which is the server's fault, not the client's.
    request_queue_size = 128


def make_server(app: App, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A server bound to ``host:port`` (0: a free port), not yet serving."""
    if ("/static", STATIC_DIR) not in app.mounts:
        app.mounts.append(("/static", STATIC_DIR))
    handler = type("BoundHandler", (Handler,), {"app": app})
    server = _Server((host, port), handler)
    server.daemon_threads = True
    return server


def seed_demo_user(app: App) -> None:
    with contextlib.suppress(KeyError):  # already there (a --db file kept from last time)
        app.store.create_user(app.config.demo_username, app.config.demo_password)


def start_in_thread(app: App, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Start serving in a daemon thread; ``server.shutdown()`` stops it."""
    server = make_server(app, host, port)
    threading.Thread(target=server.serve_forever, name="refserver", daemon=True).start()
    return server
