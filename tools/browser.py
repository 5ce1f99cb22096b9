"""The one browser launcher of the project's tests and benchmark: Chromium, Firefox, WebKit.

Each engine is Debian's build (``chromium``, ``firefox-esr``, WebKitGTK's MiniBrowser),
never a browser that a test tool downloads, and each is given the same intent:
- a fresh profile, quit on exit;
- off the network (no background networking, updates, telemetry or safe-browsing lists);
- background tabs at full speed where the engine allows it (Chromium throttles a hidden
  tab's timers to once a second, Firefox too, unless told not to; WebKitGTK has no switch);
- ``INSECURE_HOST`` resolving to 127.0.0.1, so that a page there is an insecure context
  (no Web Locks), as a plain-http LAN host is. Chromium maps it with a resolver rule,
  Firefox with ``network.dns.localDomains``, WebKitGTK (which has neither) through a
  forwarding proxy of ours that only knows that host.

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
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Literal

from selenium import webdriver
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.webkitgtk.service import Service as WebKitService

from tools import marionette

Engine = Literal["chromium", "firefox", "webkit"]
ENGINES: tuple[Engine, ...] = ("chromium", "firefox", "webkit")
#: The Debian packages each engine comes from (the Makefile installs them).
PACKAGES: dict[Engine, tuple[str, ...]] = {
    "chromium": ("chromium", "chromium-driver"),
    "firefox": ("firefox-esr",),
    "webkit": ("webkit2gtk-driver", "xvfb"),
}

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"
WEBKITDRIVER = "/usr/bin/WebKitWebDriver"
#: Host names that resolve to 127.0.0.1 in the launched browser. A page on one of
#: them is an insecure context (no Web Locks), as a plain-http LAN host is.
INSECURE_HOST = "lucia.test"
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--no-first-run",
    "--disable-sync", "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows",
    f"--host-resolver-rules=MAP {INSECURE_HOST} 127.0.0.1",
)
FIREFOX_PREFS = {"network.dns.localDomains": INSECURE_HOST}


@contextmanager
def launch(engine: Engine, *, window: str = "1100,900", logs: bool = False) -> Iterator[WebDriver]:
    """A browser of ``engine`` on a fresh profile, quit on exit.

    ``logs`` keeps the browser console and the network log where the engine's driver
    can give them (Chromium's ``get_log``); other engines' drivers have no logs.
    """
    starts = {"chromium": chromium, "firefox": firefox, "webkit": webkit}
    with starts[engine](window=window, logs=logs) as driver:
        yield driver


@contextmanager
def chromium(*, window: str = "1100,900", logs: bool = False,
             extra_flags: Iterable[str] = ()) -> Iterator[WebDriver]:
    """Headless Chromium; ``logs`` keeps the console and the performance (network) log."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    with tempfile.TemporaryDirectory() as profile:
        for flag in (*CHROMIUM_FLAGS, f"--window-size={window}", f"--user-data-dir={profile}",
                     *extra_flags):
            options.add_argument(flag)
        if logs:
            options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        driver = webdriver.Chrome(options=options, service=ChromeService(CHROMEDRIVER))
        try:
            yield driver
        finally:
            driver.quit()


@contextmanager
def firefox(*, window: str = "1100,900", logs: bool = False) -> Iterator[WebDriver]:
    """Headless Firefox ESR through ``tools.marionette``."""
    width, height = window.split(",")
    with marionette.endpoint(FIREFOX_PREFS, [f"--width={width}", f"--height={height}"]) as url:
        driver = webdriver.Remote(command_executor=url, options=webdriver.FirefoxOptions())
        try:
            yield driver
        finally:
            driver.quit()


@contextmanager
def webkit(*, window: str = "1100,900", logs: bool = False) -> Iterator[WebDriver]:
    """WebKitGTK's MiniBrowser in automation mode (an ephemeral profile), on its own Xvfb."""
    width, height = window.split(",")
    options = webdriver.WebKitGTKOptions()
    options.binary_location = MINIBROWSER
    options.add_argument("--automation")
    with xvfb(f"{width}x{height}") as display, host_proxy() as proxy:
        options.set_capability("proxy", {"proxyType": "manual", "httpProxy": proxy,
                                         "noProxy": ["127.0.0.1", "localhost"]})
        service = WebKitService(WEBKITDRIVER, env={**os.environ, "DISPLAY": display})
        driver = webdriver.WebKitGTK(options=options, service=service)
        try:
            yield driver
        finally:
            driver.quit()


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


@contextmanager
def host_proxy() -> Iterator[str]:
    """An HTTP proxy (``host:port``) that sends requests for ``INSECURE_HOST:<port>`` to
    127.0.0.1:<port> and refuses every other host: the browser stays off the network."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=_forward, args=(client,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()


def _forward(client: socket.socket) -> None:
    """One proxied request: rewritten to origin form, sent with ``Connection: close``,
    its answer piped back until the server closes."""
    with client:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(65536)
            if not chunk:
                return
            head += chunk
        head, _, body = head.partition(b"\r\n\r\n")
        request_line, *headers = head.decode("latin-1").split("\r\n")
        method, target, version = request_line.split(" ", 2)
        prefix = f"http://{INSECURE_HOST}:"
        if not target.startswith(prefix):
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n"
                           b"Connection: close\r\n\r\n")
            return
        port_and_path = target[len(prefix):]
        port, slash, path = port_and_path.partition("/")
        kept = [h for h in headers
                if not h.lower().startswith(("connection:", "proxy-connection:", "keep-alive:"))]
        out = "\r\n".join([f"{method} /{path if slash else ''} {version}", *kept,
                           "Connection: close", "", ""]).encode("latin-1")
        length = next((int(h.split(":", 1)[1]) for h in headers
                       if h.lower().startswith("content-length:")), 0)
        with socket.create_connection(("127.0.0.1", int(port))) as upstream:
            upstream.sendall(out + body)
            sent = len(body)
            while sent < length:
                chunk = client.recv(65536)
                if not chunk:
                    break
                upstream.sendall(chunk)
                sent += len(chunk)
            while chunk := upstream.recv(65536):
                with contextlib.suppress(OSError):
                    client.sendall(chunk)
