"""The browser launcher's own parts that need no browser: the proxy and the Marionette routes."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tools.browser import INSECURE_HOST, HostProxy, _browser_own
from tools.marionette import _route


class _Echo(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self._answer(b"")

    def do_POST(self) -> None:
        self._answer(self.rfile.read(int(self.headers["Content-Length"])))

    def _answer(self, body: bytes) -> None:
        data = f"{self.command} {self.path} host={self.headers['Host']} ".encode() + body
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def origin() -> Iterator[int]:
    server = HTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port
    server.shutdown()


def through(proxy: HostProxy, method: str, target: str, body: bytes | None = None
            ) -> tuple[int, bytes]:
    host, port = proxy.address.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request(method, target, body=body)
    answer = connection.getresponse()
    return answer.status, answer.read()


def test_the_insecure_host_is_served_from_loopback(origin: int) -> None:
    with HostProxy() as proxy:
        status, body = through(proxy, "GET", f"http://{INSECURE_HOST}:{origin}/a/b?c=1")
        assert (status, body) == (200, f"GET /a/b?c=1 host={INSECURE_HOST}:{origin} ".encode())
        status, body = through(proxy, "POST", f"http://{INSECURE_HOST}:{origin}/x", b"x" * 70000)
        assert status == 200 and body.endswith(b"x" * 70000)  # a body longer than one read
        assert proxy.refused() == set()


def test_every_other_host_is_refused_and_recorded(origin: int) -> None:
    with HostProxy() as proxy:
        assert through(proxy, "GET", "http://cdn.example/pyodide.js")[0] == 502
        assert through(proxy, "CONNECT", "cdn.jsdelivr.net:443")[0] == 502
        assert through(proxy, "CONNECT", f"{INSECURE_HOST}:443")[0] == 502  # no TLS here
        assert proxy.refused() == {"cdn.example", "cdn.jsdelivr.net", INSECURE_HOST}


def test_a_browsers_own_hosts_are_named_or_under_a_named_domain() -> None:
    assert _browser_own("update.googleapis.com") and _browser_own("redirector.gvt1.com")
    assert not _browser_own("fonts.googleapis.com")  # a page's CDN, not the browser's
    assert not _browser_own("gvt1.com.example") and not _browser_own("cdn.jsdelivr.net")


def test_marionette_routes() -> None:
    assert _route("POST", "/url") == ("WebDriver:Navigate", {})
    assert _route("POST", "/element/abc-1/click") == ("WebDriver:ElementClick", {"e": "abc-1"})
    assert _route("GET", "/element/e9/attribute/href") == (
        "WebDriver:GetElementAttribute", {"e": "e9", "name": "href"})
    assert _route("DELETE", "/cookie/sid") == ("WebDriver:DeleteCookie", {"name": "sid"})
    assert _route("GET", "/element/e9/click") is None  # a known path, not with that method
    assert _route("POST", "/moz/context") is None
