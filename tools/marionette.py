"""A WebDriver endpoint for Firefox, speaking Firefox's own Marionette protocol.

No geckodriver exists in any registry this project installs from (Debian has none, and
npm's package downloads a binary at install time), so Selenium's ``webdriver.Remote``
talks to this small HTTP server instead. It starts Firefox with a fresh profile and
Marionette on, and hands each W3C WebDriver command to Marionette, whose commands are the
WebDriver commands under their own names (``WebDriver:Navigate`` for ``POST /url``).
Only the routes the project's tests and benchmark use are mapped; another gives
"unknown command", as any WebDriver server would.

Marionette's framing: each message is ``<length>:<json>``; a command is
``[0, id, name, params]``, its answer ``[1, id, error, result]``, and the server greets
with ``{"marionetteProtocol": 3, ...}`` on connect.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIREFOX = "/usr/bin/firefox-esr"

#: (HTTP method, route under /session/{id}, Marionette command); ``{e}`` is an element id.
ROUTES: tuple[tuple[str, str, str], ...] = (
    ("POST", "/url", "WebDriver:Navigate"),
    ("GET", "/url", "WebDriver:GetCurrentURL"),
    ("POST", "/back", "WebDriver:Back"),
    ("POST", "/forward", "WebDriver:Forward"),
    ("POST", "/refresh", "WebDriver:Refresh"),
    ("GET", "/title", "WebDriver:GetTitle"),
    ("GET", "/source", "WebDriver:GetPageSource"),
    ("POST", "/timeouts", "WebDriver:SetTimeouts"),
    ("GET", "/timeouts", "WebDriver:GetTimeouts"),
    ("POST", "/execute/sync", "WebDriver:ExecuteScript"),
    ("POST", "/execute/async", "WebDriver:ExecuteAsyncScript"),
    ("GET", "/window", "WebDriver:GetWindowHandle"),
    ("GET", "/window/handles", "WebDriver:GetWindowHandles"),
    ("POST", "/window", "WebDriver:SwitchToWindow"),
    ("DELETE", "/window", "WebDriver:CloseWindow"),
    ("POST", "/window/new", "WebDriver:NewWindow"),
    ("GET", "/window/rect", "WebDriver:GetWindowRect"),
    ("POST", "/window/rect", "WebDriver:SetWindowRect"),
    ("POST", "/element", "WebDriver:FindElement"),
    ("POST", "/elements", "WebDriver:FindElements"),
    ("POST", "/element/{e}/element", "WebDriver:FindElement"),
    ("POST", "/element/{e}/elements", "WebDriver:FindElements"),
    ("POST", "/element/{e}/click", "WebDriver:ElementClick"),
    ("POST", "/element/{e}/clear", "WebDriver:ElementClear"),
    ("POST", "/element/{e}/value", "WebDriver:ElementSendKeys"),
    ("GET", "/element/{e}/text", "WebDriver:GetElementText"),
    ("GET", "/element/{e}/name", "WebDriver:GetElementTagName"),
    ("GET", "/element/{e}/enabled", "WebDriver:IsElementEnabled"),
    ("GET", "/element/{e}/displayed", "WebDriver:IsElementDisplayed"),
    ("GET", "/element/{e}/selected", "WebDriver:IsElementSelected"),
    ("GET", "/element/{e}/attribute/{name}", "WebDriver:GetElementAttribute"),
    ("GET", "/element/{e}/property/{name}", "WebDriver:GetElementProperty"),
    ("GET", "/element/{e}/rect", "WebDriver:GetElementRect"),
    ("GET", "/cookie", "WebDriver:GetCookies"),
    ("POST", "/cookie", "WebDriver:AddCookie"),
    ("DELETE", "/cookie", "WebDriver:DeleteAllCookies"),
    ("DELETE", "/cookie/{name}", "WebDriver:DeleteCookie"),
    ("GET", "/screenshot", "WebDriver:TakeScreenshot"),
    ("POST", "/actions", "WebDriver:PerformActions"),
    ("DELETE", "/actions", "WebDriver:ReleaseActions"),
)

#: What a fresh profile needs to stay off the network and keep background tabs at full
#: speed (as ``tools.browser``'s Chromium flags do), and to leave plain http alone.
PREFS: Mapping[str, object] = {
    "marionette.port": 0,  # any free port; Firefox writes it to MarionetteActivePort
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.page": 0,
    "browser.startup.homepage_override.mstone": "ignore",
    "startup.homepage_welcome_url": "about:blank",
    "browser.aboutwelcome.enabled": False,
    "app.update.disabledForTesting": True,
    "app.normandy.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "toolkit.telemetry.server": "",
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "browser.safebrowsing.update.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "network.dns.disablePrefetch": True,
    "network.prefetch-next": False,
    "extensions.update.enabled": False,
    "extensions.getAddons.cache.enabled": False,
    "extensions.blocklist.enabled": False,
    "browser.newtabpage.enabled": False,
    "browser.topsites.contile.enabled": False,
    "browser.ping-centre.telemetry": False,
    "media.gmp-manager.updateEnabled": False,
    "geo.provider.network.url": "",
    "browser.search.update": False,
    "dom.security.https_first": False,
    "dom.security.https_first_schemeless": False,
    "dom.security.https_only_mode": False,
    "dom.min_background_timeout_value": 4,
    "dom.min_background_timeout_value_without_budget_throttling": 4,
    "dom.timeout.enable_budget_timer_throttling": False,
    "dom.timeout.throttling_delay": -1,
    "browser.tabs.remote.unloadOnLowMemory": False,
    "browser.tabs.warnOnClose": False,
    "browser.warnOnQuit": False,
    "dom.disable_open_during_load": False,
    "messaging-system.rsexperimentloader.enabled": False,
    "devtools.console.stdout.content": True,  # the console, for Endpoint.console()
}


class MarionetteError(Exception):
    """An answer of Marionette's that carried an error: (error code, message, stack)."""


class Marionette:
    """One Marionette connection: send a command, get its result (one at a time)."""

    def __init__(self, port: int) -> None:
        self._socket = socket.create_connection(("127.0.0.1", port), timeout=300)
        self._buffer = b""
        self._next_id = 0
        self._lock = threading.Lock()
        greeting = self._read()
        if not isinstance(greeting, dict) or greeting.get("marionetteProtocol") != 3:
            raise MarionetteError("session not created", f"not Marionette 3: {greeting!r}", "")

    def send(self, name: str, params: Mapping[str, Any]) -> Any:
        with self._lock:
            self._next_id += 1
            data = json.dumps([0, self._next_id, name, dict(params)]).encode()
            self._socket.sendall(str(len(data)).encode() + b":" + data)
            while True:
                kind, answer_id, error, result = self._read()
                if kind == 1 and answer_id == self._next_id:
                    break
        if error:
            raise MarionetteError(error.get("error", "unknown error"),
                                  error.get("message", ""), error.get("stacktrace", ""))
        return result

    def _read(self) -> Any:
        while b":" not in self._buffer:
            self._receive()
        length, _, rest = self._buffer.partition(b":")
        size = int(length)
        while len(rest) < size:
            self._receive()
            length, _, rest = self._buffer.partition(b":")
        self._buffer = rest[size:]
        return json.loads(rest[:size])

    def _receive(self) -> None:
        chunk = self._socket.recv(1 << 16)
        if not chunk:
            raise MarionetteError("unknown error", "Firefox closed the Marionette connection", "")
        self._buffer += chunk

    def close(self) -> None:
        self._socket.close()


#: ``ROUTES`` with each path as a compiled pattern, its ``{name}`` parts as named groups.
_ROUTE_PATTERNS = [
    (method, re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$"), command)
    for method, pattern, command in ROUTES
]


def _route(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The Marionette command for a request under /session/{id}, with the ids in its path."""
    for route_method, regex, command in _ROUTE_PATTERNS:
        found = regex.match(path) if route_method == method else None
        if found:
            return command, found.groupdict()
    return None


class FirefoxProcess:
    """Firefox, headless, on a fresh profile with Marionette on."""

    def __init__(self, profile: Path, prefs: Mapping[str, object], args: list[str]) -> None:
        (profile / "user.js").write_text("".join(
            f"user_pref({json.dumps(name)}, {json.dumps(value)});\n"
            for name, value in {**PREFS, **prefs}.items()))
        self.console = profile / "console.txt"  # the pages' and workers' console, as printed
        with self.console.open("w") as out:
            self.process = subprocess.Popen(
                [FIREFOX, "--marionette", "--headless", "--no-remote", "--profile", str(profile),
                 "-remote-allow-system-access",  # the chrome context, for set_offline
                 *args, "about:blank"],
                stdout=out, stderr=subprocess.DEVNULL,
                env={"MOZ_CRASHREPORTER_DISABLE": "1", "HOME": str(profile),
                     "PATH": "/usr/bin:/bin"})
        port_file = profile / "MarionetteActivePort"
        deadline = time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text().strip():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise MarionetteError("session not created", "Firefox did not start Marionette", "")
            time.sleep(0.05)
        port = int(port_file.read_text())
        while True:
            try:
                self.marionette = Marionette(port)
                break
            except ConnectionRefusedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def set_offline(self, offline: bool) -> None:
        """Firefox's "Work Offline": ``navigator.onLine`` false, ``offline`` fired, requests fail."""
        self.marionette.send("Marionette:SetContext", {"value": "chrome"})
        try:
            self.marionette.send("WebDriver:ExecuteScript", {
                "script": "Services.io.manageOfflineStatus = false;"
                          "Services.io.offline = arguments[0];", "args": [offline]})
        finally:
            self.marionette.send("Marionette:SetContext", {"value": "content"})

    def quit(self) -> None:
        with suppress(MarionetteError, OSError):
            self.marionette.send("Marionette:Quit", {"flags": ["eForceQuit"]})
        self.marionette.close()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


#: A profile Firefox has started on once and quit, copied into each launch's own: a first
#: start on an empty profile builds its databases and caches (4-5 s here, idle; a copy
#: starts in about 2 s). It has shown nothing but about:blank, so each copy is as fresh as
#: an empty one: no cookies, storage or cache of any site. Made once per process.
_TEMPLATE: tempfile.TemporaryDirectory[str] | None = None
_TEMPLATE_LOCK = threading.Lock()
#: What a running Firefox leaves in its profile that the next one must not find.
_NOT_COPIED = shutil.ignore_patterns("lock", ".parentlock", "MarionetteActivePort", "console.txt")


def _fresh_profile(into: Path, prefs: Mapping[str, object], args: list[str]) -> None:
    """Fill the empty folder ``into`` with a copy of the once-started profile."""
    global _TEMPLATE
    with _TEMPLATE_LOCK:
        if _TEMPLATE is None:
            made = tempfile.TemporaryDirectory(prefix="firefox-profile-")
            first = FirefoxProcess(Path(made.name), prefs, args)
            first.marionette.send("WebDriver:NewSession", {})  # Marionette quits only a session
            first.quit()
            _TEMPLATE = made
    shutil.copytree(_TEMPLATE.name, into, ignore=_NOT_COPIED, symlinks=True, dirs_exist_ok=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        size = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(size) or b"{}") if size else {}
        try:
            value = self.server.answer(method, self.path, body)
        except MarionetteError as err:
            code, message, stack = err.args
            self._reply(404 if code.startswith(("no such", "unknown command")) else 500,
                        {"error": code, "message": message, "stacktrace": stack})
            return
        self._reply(200, value)

    def _reply(self, status: int, value: Any) -> None:
        data = json.dumps({"value": value}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, prefs: Mapping[str, object], args: list[str]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.prefs, self.args = prefs, args
        self.firefox: FirefoxProcess | None = None
        self.session_id = ""
        self._profile = tempfile.TemporaryDirectory()

    def answer(self, method: str, path: str, body: dict[str, Any]) -> Any:
        if method == "GET" and path == "/status":
            return {"ready": self.firefox is None, "message": ""}
        if method == "POST" and path == "/session":
            return self._new_session()
        prefix = f"/session/{self.session_id}"
        if not self.firefox or not path.startswith(prefix):
            raise MarionetteError("invalid session id", f"no session at {path}", "")
        rest = path[len(prefix):]
        if method == "DELETE" and rest == "":
            self.quit()
            return None
        found = _route(method, rest)
        if found is None:
            raise MarionetteError("unknown command", f"{method} {path} is not mapped", "")
        command, ids = found
        params = dict(body)
        if "e" in ids:
            params["id"] = ids["e"]
        if "name" in ids:
            params["name"] = ids["name"]
        result = self.firefox.marionette.send(command, params)
        # Marionette answers {"value": x} where WebDriver's answer is x itself.
        if isinstance(result, dict) and set(result) == {"value"}:
            return result["value"]
        return result

    def _new_session(self) -> Any:
        if self.firefox:
            raise MarionetteError("session not created", "one session per endpoint", "")
        _fresh_profile(Path(self._profile.name), self.prefs, self.args)
        self.firefox = FirefoxProcess(Path(self._profile.name), self.prefs, self.args)
        answer = self.firefox.marionette.send("WebDriver:NewSession", {
            "pageLoadStrategy": "normal", "acceptInsecureCerts": False,
            "unhandledPromptBehavior": "dismiss and notify"})
        self.session_id = answer.get("sessionId") or uuid.uuid4().hex
        return {"sessionId": self.session_id, "capabilities": answer.get("capabilities", {})}

    def quit(self) -> None:
        if self.firefox:
            self.firefox.quit()
            self.firefox = None

    def server_close(self) -> None:
        self.quit()
        super().server_close()
        self._profile.cleanup()


class Endpoint:
    """A running endpoint: its WebDriver ``url``, and what only Firefox itself can do."""

    def __init__(self, server: _Server) -> None:
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_port}"

    def _firefox(self) -> FirefoxProcess:
        if self._server.firefox is None:
            raise MarionetteError("invalid session id", "no Firefox runs here", "")
        return self._server.firefox

    def console(self) -> list[str]:
        """What the pages and workers logged (``devtools.console.stdout.content``)."""
        return self._firefox().console.read_text(errors="replace").splitlines()

    def set_offline(self, offline: bool) -> None:
        self._firefox().set_offline(offline)


@contextmanager
def endpoint(prefs: Mapping[str, object] = {}, args: list[str] | None = None) -> Iterator[Endpoint]:
    """A WebDriver endpoint whose one session is a fresh headless Firefox; stopped on exit."""
    server = _Server(prefs, list(args or []))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Endpoint(server)
    finally:
        server.shutdown()
        server.server_close()
