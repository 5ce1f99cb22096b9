"""A Flask app with Lucia 0.10's session protocol and a PyScript page that uses lucia_pyodide.

Flask because it is what Python developers reach for first to serve HTML pages with
cookies: synchronous, small, and close to the protocol. Everything Lucia-specific a
Python backend needs is here, in one file (PROTOCOL.md says why each part is there):
the two POST endpoints with their CSRF check, single-use rotating refresh tokens, the
page load that refreshes from the refresh token, and the user rendered into the page
with ``lucia_pyodide.server.user_script_tag``.

Run it from the repository root, after ``make demo-assets wheel``::

    pip install flask
    PYTHONPATH=. python3 examples/flask_app/server.py   # http://127.0.0.1:5000/

Users, sessions and tokens live in memory: a real app keeps them in its database.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import string
import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, jsonify, redirect, request, send_from_directory
from werkzeug.wrappers import Response as BaseResponse

from lucia_pyodide.server import NO_STORE, user_script_tag

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
HERE = Path(__file__).resolve().parent
SESSION_S = 8 * 3600  # lucia-sveltekit 0.10's access-token lifetime
REFRESH_MAX_AGE = 525600  # seconds, as 0.10 sets the refresh cookie
_ALNUM = string.ascii_letters + string.digits


def token(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(40))


def hash_password(password: str, salt: bytes | None = None) -> tuple[bytes, bytes]:
    salt = salt or secrets.token_bytes(16)
    return salt, hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)


class Sessions:
    """Users, sessions and single-use refresh tokens, as Lucia 0.10 keeps them (in memory here)."""

    def __init__(self, lifetime_s: float = SESSION_S) -> None:
        self.lifetime_s = lifetime_s
        self.lock = threading.Lock()
        self.users: dict[str, tuple[str, bytes, bytes]] = {}  # username -> (id, salt, hash)
        self.sessions: dict[str, tuple[str, float]] = {}  # access token -> (user id, expires)
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> user id
        self._decoy = hash_password("decoy")

    def add_user(self, username: str, password: str) -> None:
        self.users[username] = (secrets.token_hex(16), *hash_password(password))

    def check_password(self, username: str, password: str) -> str | None:
        user_id, salt, digest = self.users.get(username, ("", *self._decoy))
        ok = hmac.compare_digest(hash_password(password, salt)[1], digest)
        return user_id if ok and user_id else None

    def user(self, user_id: str) -> dict[str, str]:
        name = next(n for n, (i, _, _) in self.users.items() if i == user_id)
        return {"userId": user_id, "username": name}

    def create(self, user_id: str) -> tuple[str, str, float]:
        access, refresh = token("at_"), token("rt_")
        expires = time.time() + self.lifetime_s
        with self.lock:
            self.sessions[access] = (user_id, expires)
            self.refresh_tokens[refresh] = user_id
        return access, refresh, expires

    def live_user(self, access: str) -> str | None:
        with self.lock:
            user_id, expires = self.sessions.get(access, ("", 0.0))
        return user_id if expires > time.time() else None

    def use_refresh_token(self, refresh: str) -> str | None:
        with self.lock:
            return self.refresh_tokens.pop(refresh, None)

    def end(self, access: str, refresh: str) -> None:
        with self.lock:
            self.sessions.pop(access, None)
            self.refresh_tokens.pop(refresh, None)


def set_session_cookies(response: BaseResponse, access: str, refresh: str,
                        expires: float | None = None) -> BaseResponse:
    response.set_cookie("access_token", access, path="/", httponly=True, samesite="Lax",
                        expires=expires)
    response.set_cookie("refresh_token", refresh, path="/", httponly=True, samesite="Lax",
                        max_age=REFRESH_MAX_AGE)
    return response


def blank_cookies(response: BaseResponse) -> BaseResponse:
    for name in ("access_token", "refresh_token"):
        response.set_cookie(name, "", path="/", httponly=True, samesite="Lax", max_age=0)
    return response


def failure(code: str) -> Response:
    """An error as Lucia 0.10 sends it: 500, {"message": CODE}, labelled text/plain."""
    response = jsonify(message=code)
    response.status_code, response.content_type = 500, "text/plain;charset=UTF-8"
    return response


def create_app(store: Sessions | None = None) -> Flask:
    app = Flask(__name__)
    sessions = store or Sessions()
    if "demo" not in sessions.users:
        sessions.add_user("demo", "demo-password")

    @app.before_request
    def same_origin_only() -> Any:
        """Lucia's CSRF check: every non-GET request comes from a page of this origin."""
        if request.method not in ("GET", "HEAD"):
            origin = request.headers.get("Origin", "")
            if origin != request.host_url.rstrip("/"):
                return failure("AUTH_INVALID_REQUEST") if request.path.startswith("/api/") \
                    else abort(403)
        return None

    @app.post("/api/auth/refresh-session")
    def refresh_session() -> BaseResponse:
        user_id = sessions.use_refresh_token(request.cookies.get("refresh_token", ""))
        if user_id is None:
            return failure("AUTH_INVALID_REFRESH_TOKEN")
        access, refresh, expires = sessions.create(user_id)
        answer = jsonify(expires=int(expires * 1000))  # the extension; 0.10 sends an empty body
        return set_session_cookies(answer, access, refresh, expires)

    @app.post("/api/auth/logout")
    def logout() -> BaseResponse:
        access = request.cookies.get("access_token", "")
        if not access:
            return failure("AUTH_INVALID_ACCESS_TOKEN")
        sessions.end(access, request.cookies.get("refresh_token", ""))
        return blank_cookies(Response(b""))

    def page_user() -> tuple[dict[str, str] | None, tuple[str, str] | None]:
        """The page's user, refreshing from the refresh token as 0.10's server load does."""
        access, refresh = request.cookies.get("access_token"), request.cookies.get("refresh_token")
        user_id = sessions.live_user(access or "")
        if user_id:
            return sessions.user(user_id), None
        user_id = sessions.use_refresh_token(refresh or "")
        if user_id is None:
            return None, None
        new_access, new_refresh, _ = sessions.create(user_id)
        return sessions.user(user_id), (new_access, new_refresh)

    @app.get("/")
    def index() -> Response:
        user, renewed = page_user()
        page = (HERE / "index.html").read_text().replace("<!--user-->", user_script_tag(user))
        wheel = sorted((BUILD / "wheel").glob("lucia_pyodide-*.whl"))[-1].name
        response = Response(page.replace("{{wheel}}", f"/wheels/{wheel}"), content_type="text/html",
                            headers=NO_STORE)  # Back never re-shows a signed-in page from a cache
        if renewed:
            set_session_cookies(response, *renewed)
        elif user is None and ("access_token" in request.cookies or "refresh_token" in request.cookies):
            blank_cookies(response)  # dead tokens, as 0.10 blanks them
        return response

    @app.get("/login")
    def login_page() -> Response:
        return send_from_directory(HERE, "login.html")

    @app.post("/login")
    def login() -> BaseResponse:
        user_id = sessions.check_password(request.form.get("username", ""),
                                          request.form.get("password", ""))
        if user_id is None:
            return redirect("/login?error=1", 303)
        access, refresh, _ = sessions.create(user_id)
        return set_session_cookies(redirect("/", 303), access, refresh)

    @app.get("/app.py")
    def page_script() -> Response:
        return send_from_directory(HERE, "app.py")

    @app.get("/pyscript/<path:name>")
    def pyscript(name: str) -> Response:
        return send_from_directory(BUILD / "pyscript", name)

    @app.get("/wheels/<path:name>")
    def wheels(name: str) -> Response:
        return send_from_directory(BUILD / "wheel", name)

    return app


if __name__ == "__main__":
    create_app().run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")), threaded=True)
