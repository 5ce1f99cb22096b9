"""In-Pyodide tests: the reference server *is* pytest-pyodide's web server.

The test page (``module_test.html``) and Pyodide are served by the reference
server itself, so requests from Pyodide in Chromium are same-origin, carry the
page's ``Origin`` and real cookies, exactly as on a user's page. Each module's
Pyodide installs the built wheel over HTTP, as a page would.
"""

from __future__ import annotations

import json
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_pyodide

from refserver.server import App, Config, start_in_thread
from refserver.store import Store

TESTKIT = Path(__file__).with_name("lucia_testkit.py")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--wheel", required=True, help="the lucia_pyodide wheel to install")


@pytest.fixture(scope="session")
def refserver_app(request: pytest.FixtureRequest) -> App:
    dist = Path(request.config.option.dist_dir).resolve()
    templates = Path(pytest_pyodide.__file__).parent / "_templates"
    wheel_dir = Path(request.config.getoption("--wheel")).resolve().parent
    mounts = [("/", templates), ("/", dist), ("/wheels", wheel_dir)]
    return App(Store(), Config(test_api=True), mounts=mounts)


@pytest.fixture(scope="session")
def web_server_main(refserver_app: App) -> Iterator[tuple[str, int, Path]]:
    """Overrides pytest-pyodide's static server with the reference server."""
    server = start_in_thread(refserver_app)
    host, port = server.server_address[:2]
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "refserver.log"
        log.write_text("")
        yield str(host), int(port), log
    server.shutdown()


@pytest.fixture(scope="session")
def server_url(web_server_main: tuple[str, int, Path]) -> str:
    host, port, _ = web_server_main
    return f"http://{host}:{port}"


@pytest.fixture(scope="module")
def lucia_module(selenium_module_scope: Any, request: pytest.FixtureRequest, server_url: str) -> Any:
    """A Pyodide (per module and runtime) with the wheel and the test kit installed."""
    selenium = selenium_module_scope
    wheel = Path(request.config.getoption("--wheel")).name
    errors = selenium.run_js(
        f"""
        const errors = [];
        await pyodide.loadPackage({json.dumps(server_url + "/wheels/" + wheel)},
                                  {{errorCallback: (m) => errors.push(m)}});
        return errors;
        """
    )
    assert not errors, errors
    selenium.run_js(
        f"pyodide.FS.writeFile('/home/pyodide/lucia_testkit.py', {json.dumps(TESTKIT.read_text())});"
        f"pyodide.runPython('import sys; sys.path.insert(0, \"/home/pyodide\")');"
    )
    return selenium


def server_call(server_url: str, path: str, payload: dict[str, Any] | None = None) -> Any:
    """A request from the test host itself (no browser), for setup and inspection."""
    data = None if payload is None else json.dumps(payload).encode()
    with urllib.request.urlopen(urllib.request.Request(server_url + path, data=data)) as answer:
        return json.loads(answer.read() or b"null")


@pytest.fixture
def selenium_lucia(lucia_module: Any, server_url: str) -> Iterator[Any]:
    """A clean slate per test: server settings and counters, page globals, cookies, client."""
    selenium = lucia_module
    server_call(server_url, "/__test__/reset", {})
    if selenium.browser == "chrome":
        selenium.driver.delete_all_cookies()
    selenium.run_js(
        """
        delete globalThis._lucia_page_data;
        if (globalThis.document) {
            for (const el of document.querySelectorAll('#lucia-user')) el.remove();
            localStorage.clear();
        }
        pyodide.runPython(`
import lucia_pyodide, lucia_testkit
lucia_testkit.close_all()
lucia_pyodide.reset_default_client()`);
        """
    )
    selenium.clean_logs()
    yield selenium


@pytest.fixture
def stats(server_url: str) -> Any:
    """Request counts seen by the server since the test began: ``stats()["POST /path"]``."""
    return lambda: server_call(server_url, "/__test__/stats")
