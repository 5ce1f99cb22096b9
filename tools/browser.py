"""The one browser launcher of the project's tests and benchmark: Chromium, Firefox, WebKit.

Each engine is Debian's build (``chromium``, ``firefox-esr``, WebKitGTK's MiniBrowser),
never a browser that a test tool downloads, and each is given the same intent:
- a fresh profile, quit on exit;
- off the network (no background networking, updates, telemetry or safe-browsing lists);
- background tabs at full speed where the engine allows it (Chromium throttles a hidden
  tab's timers to once a second, Firefox too, unless told not to; WebKitGTK has no switch);
- one proxy of ours for every host but 127.0.0.1 (``HostProxy``): it serves
  ``INSECURE_HOST`` from 127.0.0.1, so that a page there is an insecure context (no Web
  Locks), as a plain-http LAN host is, and refuses and records any other host, so a test
  can say that nothing left the machine (``hosts_asked``). One mechanism for the three:
  WebKitGTK has no host-resolver switch, and the proxy sees what any engine asks for;
- for the tests (``optimizing_wasm=False``), no WebAssembly tier that costs a Pyodide boot
  more than it saves (WebKit's OMG); the benchmark keeps every engine as a user has it.

Chromium and WebKitGTK are driven by their own WebDriver servers (``chromedriver``,
``WebKitWebDriver``); Firefox by ``tools.marionette`` (no geckodriver in any registry
here). WebKitGTK needs a display: each launch starts its own Xvfb.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.remote.client_config import ClientConfig
from selenium.webdriver.remote.remote_connection import RemoteConnection
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.webkitgtk.service import Service as WebKitService
from urllib3.exceptions import ReadTimeoutError

from tools import marionette

Engine = Literal["chromium", "firefox", "webkit"]
ENGINES: tuple[Engine, ...] = ("chromium", "firefox", "webkit")
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"
WEBKITDRIVER = "/usr/bin/WebKitWebDriver"
#: The longest a driver command may take (a page load, a script, a click), in seconds.
PAGE_LOAD_TIMEOUT_S = 90
COMMAND_TIMEOUT_S = 150
SESSION_START_TIMEOUT_S = 30
#: Host names that resolve to 127.0.0.1 in the launched browser. A page on one of
#: them is an insecure context (no Web Locks), as a plain-http LAN host is.
INSECURE_HOST = "lucia.test"
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--no-first-run",
    "--disable-sync", "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows",
)

#: JavaScriptCore's options (its environment variables, which MiniBrowser's web process
#: inherits) for ``launch(optimizing_wasm=False)``: no OMG tier, BBQ's code only. Measured
#: here, a Pyodide lab page's boot: 17.4 CPU-s with OMG, 7.4 without (wall 9.0 s, 6.7 s).
#: Chromium's and Firefox's tiering gain nothing from the like (V8 Liftoff-only 7.2 CPU-s
#: against 5.0; Firefox with no Ion 6.5 against 6.1), so they keep theirs.
WEBKIT_LEAN_WASM = {"JSC_useOMGJIT": "0"}


@dataclass
class _Extras:
    """What a launched browser has besides its WebDriver session."""

    engine: Engine
    proxy: HostProxy
    optimizing_wasm: bool = True
    firefox: marionette.Endpoint | None = None
    #: Chromium's console so far (its driver gives each entry once, then forgets it).
    logged: list[str] = field(default_factory=list)


_LAUNCHED: dict[str, _Extras] = {}


@contextmanager
def launch(engine: Engine, *, window: str = "1100,900", logs: bool = False,
           optimizing_wasm: bool = True) -> Iterator[WebDriver]:
    """A browser of ``engine`` on a fresh profile, quit on exit.

    Every request for a host other than 127.0.0.1 goes to a proxy of ours, which forwards
    ``INSECURE_HOST`` to 127.0.0.1 and refuses and records the rest (``hosts_asked``).
    ``logs`` keeps Chromium's console and network log (``get_log``); the console of any
    engine that can give it is ``console()``. ``optimizing_wasm=False`` (the tests: what a
    page does is the same in every tier, only how fast) leaves out an engine's optimizing
    WebAssembly compiler where it costs a Pyodide boot more than it saves: WebKit's OMG
    (``WEBKIT_LEAN_WASM``). The benchmark keeps every engine as a user has it.
    """
    with HostProxy() as proxy:
        extras = _Extras(engine, proxy, optimizing_wasm=optimizing_wasm)
        start = {"chromium": _chromium, "firefox": _firefox, "webkit": _webkit}[engine]
        with start(window, logs, extras) as driver:
            # Never wait forever on the driver: WebKitWebDriver, for one, never answers once
            # its MiniBrowser has crashed (seen under load). A page load gets its own limit.
            executor = driver.command_executor
            assert isinstance(executor, RemoteConnection)
            executor.client_config.timeout = COMMAND_TIMEOUT_S
            driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT_S)
            _LAUNCHED[driver.session_id or ""] = extras
            try:
                yield driver
            finally:
                _LAUNCHED.pop(driver.session_id or "", None)
                with contextlib.suppress(WebDriverException, ReadTimeoutError):  # already gone
                    driver.quit()


def _extras(driver: WebDriver) -> _Extras:
    try:
        return _LAUNCHED[driver.session_id or ""]
    except KeyError:
        raise ValueError("not a browser of tools.browser.launch(), or one that quit") from None


#: Hosts a browser asks for by itself, whatever its flags and profile say (seen here, at
#: start-up and now and then after); a name starting with "." stands for every host under
#: it. Firefox ESR 153 polls its remote settings (``services.settings.server`` is not
#: honoured in a release build); Debian's Chromium 156 its component updater (also through
#: its download CDN, gvt1.com, despite ``--disable-component-update``), sign-in,
#: optimization hints, autofill and password-leak checks (after a sign-in form), and its
#: default search engine. A page's own request to any of them would go unseen; the tests'
#: pages name none of them.
BROWSER_OWN_HOSTS = frozenset({
    "firefox.settings.services.mozilla.com",
    "update.googleapis.com", "clients2.google.com", "accounts.google.com",
    "optimizationguide-pa.googleapis.com", "content-autofill.googleapis.com",
    "passwordsleakcheck-pa.googleapis.com", "start.duckduckgo.com", ".gvt1.com",
})


def _browser_own(host: str) -> bool:
    return host in BROWSER_OWN_HOSTS or any(
        host.endswith(name) for name in BROWSER_OWN_HOSTS if name.startswith("."))


def hosts_asked(driver: WebDriver) -> set[str]:
    """Every host other than 127.0.0.1 and ``INSECURE_HOST`` that the browser's pages tried
    to reach (the browser's own, ``BROWSER_OWN_HOSTS``, left out)."""
    return {host for host in _extras(driver).proxy.refused() if not _browser_own(host)}


def console(driver: WebDriver) -> list[str] | None:
    """Everything the browser's pages and workers logged so far, in every engine alike, or
    None where the engine's driver cannot tell (WebKitWebDriver: no log endpoint, no
    WebDriver BiDi in WebKitGTK 2.50)."""
    extras = _extras(driver)
    if extras.firefox is not None:
        return extras.firefox.console()
    if extras.engine == "chromium":
        extras.logged += [f"{e['level']} {e['message']}"
                          for e in driver.get_log("browser")]  # type: ignore[attr-defined]
        return list(extras.logged)
    return None


def freeze(driver: WebDriver, seconds: float) -> str:
    """Keep the current page from running anything for ``seconds``, as a phone does to a
    background tab, then let it go on; how it was done. Chromium freezes the page (its page
    life-cycle API: no task, no timer runs); the other engines' drivers have no such call, so
    the page's main thread is kept busy instead, which stops the same tasks and timers."""
    if _extras(driver).engine == "chromium":
        driver.execute_cdp_cmd("Page.setWebLifecycleState", {"state": "frozen"})
        time.sleep(seconds)
        driver.execute_cdp_cmd("Page.setWebLifecycleState", {"state": "active"})
        return "frozen"
    driver.execute_script("const end = performance.now() + arguments[0] * 1000;"
                          "while (performance.now() < end) {}", seconds)
    return "busy"


def set_offline(driver: WebDriver, offline: bool) -> bool:
    """Take the browser's network away (``offline`` fired, ``navigator.onLine`` false) or give
    it back; False where the engine's driver has no way to (WebKitWebDriver)."""
    extras = _extras(driver)
    if extras.firefox is not None:
        extras.firefox.set_offline(offline)
        return True
    if extras.engine != "chromium":
        return False
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    return True


@contextmanager
def chromium(*, window: str = "1100,900", logs: bool = False) -> Iterator[WebDriver]:
    """Headless Chromium (``launch("chromium")``)."""
    with launch("chromium", window=window, logs=logs) as driver:
        yield driver


@contextmanager
def _chromium(window: str, logs: bool, extras: _Extras) -> Iterator[WebDriver]:
    """Each engine's start: a new session, quit by ``launch`` before its context ends."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    with tempfile.TemporaryDirectory() as profile:
        for flag in (*CHROMIUM_FLAGS, f"--window-size={window}", f"--user-data-dir={profile}",
                     f"--proxy-server=http://{extras.proxy.address}"):
            options.add_argument(flag)
        if logs:
            options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        yield webdriver.Chrome(options=options, service=ChromeService(CHROMEDRIVER))


@contextmanager
def _firefox(window: str, logs: bool, extras: _Extras) -> Iterator[WebDriver]:
    width, height = window.split(",")
    host, port = extras.proxy.address.split(":")
    prefs = {"network.proxy.type": 1, "network.proxy.http": host,
             "network.proxy.http_port": int(port), "network.proxy.ssl": host,
             "network.proxy.ssl_port": int(port)}
    with marionette.endpoint(prefs, [f"--width={width}", f"--height={height}"]) as endpoint:
        extras.firefox = endpoint
        yield webdriver.Remote(command_executor=endpoint.url, options=webdriver.FirefoxOptions())


@contextmanager
def _webkit(window: str, logs: bool, extras: _Extras) -> Iterator[WebDriver]:
    width, height = window.split(",")
    options = webdriver.WebKitGTKOptions()
    options.binary_location = MINIBROWSER
    options.add_argument("--automation")
    options.set_capability("proxy", {"proxyType": "manual", "httpProxy": extras.proxy.address,
                                     "sslProxy": extras.proxy.address,
                                     "noProxy": ["127.0.0.1", "localhost"]})
    for attempt in (1, 2, 3):
        with xvfb(f"{width}x{height}") as display:
            lean = {} if extras.optimizing_wasm else WEBKIT_LEAN_WASM
            service = WebKitService(WEBKITDRIVER, env={**os.environ, **lean, "DISPLAY": display})
            service.start()
            try:
                # A session normally starts in a second; when MiniBrowser dies while starting
                # (seen under load), WebKitWebDriver waits for it forever: start anew.
                config = ClientConfig(remote_server_addr=service.service_url,
                                      timeout=SESSION_START_TIMEOUT_S)
                try:
                    driver = webdriver.Remote(RemoteConnection(client_config=config),
                                              options=options)
                except ReadTimeoutError:
                    if attempt == 3:
                        raise
                    continue
                yield driver
                return
            finally:
                service.stop()


@contextmanager
def xvfb(size: str) -> Iterator[str]:
    """A virtual screen of its own (the display Xvfb picked), stopped on exit."""
    read, write = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", f"{size}x24",
                               "-nolisten", "tcp"], pass_fds=[write],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as answer:
        number = answer.readline().strip()
    try:
        if not number:
            raise RuntimeError("Xvfb did not start (is Debian's xvfb installed?)")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait()


class HostProxy:
    """An HTTP proxy on 127.0.0.1 that sends requests for ``INSECURE_HOST:<port>`` to
    127.0.0.1:<port>, and refuses (502) and records every other host asked for."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self._refused: set[str] = set()
        self._lock = threading.Lock()

    def __enter__(self) -> HostProxy:
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._listener.close()

    def refused(self) -> set[str]:
        with self._lock:
            return set(self._refused)

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self._forward, args=(client,), daemon=True).start()

    def _forward(self, client: socket.socket) -> None:
        """One request: rewritten to origin form with ``Connection: close``, its answer
        piped back until the server closes."""
        with client, contextlib.suppress(OSError):
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(65536)
                if not chunk:
                    return
                head += chunk
            head, _, body = head.partition(b"\r\n\r\n")
            request_line, *headers = head.decode("latin-1").split("\r\n")
            method, target, version = request_line.split(" ", 2)
            url = urlsplit(target if "//" in target else f"//{target}")  # CONNECT host:port
            if url.hostname != INSECURE_HOST or method == "CONNECT" or not url.port:
                with self._lock:
                    self._refused.add(url.hostname or target)
                client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n"
                               b"Connection: close\r\n\r\n")
                return
            kept = [h for h in headers if not h.lower().startswith(
                ("connection:", "proxy-connection:", "keep-alive:"))]
            path = url.path or "/"
            out = "\r\n".join([f"{method} {path}{'?' + url.query if url.query else ''} {version}",
                                *kept, "Connection: close", "", ""]).encode("latin-1")
            length = next((int(h.split(":", 1)[1]) for h in headers
                           if h.lower().startswith("content-length:")), 0)
            with socket.create_connection(("127.0.0.1", url.port)) as upstream:
                upstream.sendall(out + body)
                sent = len(body)
                while sent < length and (chunk := client.recv(65536)):
                    upstream.sendall(chunk)
                    sent += len(chunk)
                while chunk := upstream.recv(65536):
                    client.sendall(chunk)
