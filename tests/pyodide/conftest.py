"""In-browser tests, in Pyodide and in MicroPython: the reference server *is* pytest-pyodide's.

The test page (``module_test.html``), Pyodide and MicroPython are served by the
reference server itself, so requests from either interpreter in Chromium are
same-origin, carry the page's ``Origin`` and real cookies, exactly as on a user's
page. The run's one Pyodide installs the built wheel over HTTP, as a page would;
MicroPython gets the same wheel's files written into its file system
(``interpreters.py``). Every test runs in {node, chrome} x {pyodide, micropython}.
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
from pytest_pyodide.fixture import selenium_common

from refserver.server import App, Config, start_in_thread
from refserver.store import Store
from refserver.testapi import wheel_sources

from .interpreters import MICROPYTHON, Interpreter

TESTKIT = Path(__file__).with_name("lucia_testkit.py")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--wheel", required=True, help="the lucia_pyodide wheel to install")
    parser.addoption("--micropython", type=Path, default=MICROPYTHON,
                     help="the MicroPython build's micropython.mjs (default: PyScript's, in build/)")
    parser.addoption("--interpreters", default="pyodide,micropython",
                     help="which of pyodide,micropython to run the tests in")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "interpreter_name" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--interpreters").split(",")
        metafunc.parametrize("interpreter_name", chosen, scope="module")


@pytest.fixture(scope="session")
def refserver_app(request: pytest.FixtureRequest) -> App:
    dist = Path(request.config.option.dist_dir).resolve()
    templates = Path(pytest_pyodide.__file__).parent / "_templates"
    wheel_dir = Path(request.config.getoption("--wheel")).resolve().parent
    mounts = [("/", templates), ("/", dist), ("/wheels", wheel_dir),
              ("/micropython", Path(request.config.getoption("--micropython")).resolve().parent)]
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


@pytest.fixture(scope="session")
def selenium_module_scope(request: pytest.FixtureRequest,
                          web_server_main: tuple[str, int, Path]) -> Iterator[Any]:
    """pytest-pyodide's page (or Node process) with Pyodide up, once per run, not per module.

    Each test starts from a clean slate anyway (``selenium_lucia``), so a boot per module
    bought nothing: it was most of a Node run's time (8 of 9 boots, ~5.5 s each here).
    """
    runtime = request.config.option.runtime
    if "," in runtime:
        raise pytest.UsageError("--runtime: one runtime per run (make runs node and chrome apart)")
    with selenium_common(request, runtime, web_server_main, browsers={}) as selenium:
        yield selenium


@pytest.fixture(scope="module")
def lucia_module(selenium_module_scope: Any, request: pytest.FixtureRequest, server_url: str,
                 interpreter_name: str) -> Iterator[Interpreter]:
    """An interpreter (per module, runtime and interpreter) with the wheel and the test kit."""
    selenium = selenium_module_scope
    if selenium.browser == "chrome" and not selenium.driver.current_url.endswith("/module_test.html"):
        # A test of the other interpreter navigated the shared page away: a new one, as
        # pytest-pyodide makes it.
        selenium.prepare_driver()
        selenium.javascript_setup()
        selenium.load_pyodide()
        selenium.initialize_pyodide()
        selenium.save_state()
    target = Interpreter(selenium, interpreter_name,
                         Path(request.config.getoption("--micropython")).resolve())
    wheel = Path(request.config.getoption("--wheel"))
    if interpreter_name == "micropython":
        target.install({**wheel_sources(wheel), "lucia_testkit.py": TESTKIT.read_text()})
        yield target
        target.close()
        return
    errors = selenium.run_js(
        f"""
        const errors = [];
        await pyodide.loadPackage({json.dumps(server_url + "/wheels/" + wheel.name)},
                                  {{errorCallback: (m) => errors.push(m)}});
        return errors;
        """
    )
    assert not errors, errors
    selenium.run_js(
        f"pyodide.FS.writeFile('/home/pyodide/lucia_testkit.py', {json.dumps(TESTKIT.read_text())});"
        f"pyodide.runPython('import sys; sys.path.insert(0, \"/home/pyodide\")');"
    )
    yield target


def server_call(server_url: str, path: str, payload: dict[str, Any] | None = None) -> Any:
    """A request from the test host itself (no browser), for setup and inspection."""
    data = None if payload is None else json.dumps(payload).encode()
    with urllib.request.urlopen(urllib.request.Request(server_url + path, data=data)) as answer:
        return json.loads(answer.read() or b"null")


#: Run before each test, in the test's interpreter: a page, a client and tabs as new.
RESET = """
import lucia_pyodide, lucia_testkit
lucia_testkit.reset_page()
lucia_testkit.close_all()
lucia_pyodide.reset_default_client()
"""


@pytest.fixture
def selenium_lucia(lucia_module: Interpreter, server_url: str) -> Iterator[Interpreter]:
    """A clean slate per test: server settings and counters, page globals, cookies, client."""
    target = lucia_module
    server_call(server_url, "/__test__/reset", {})
    if target.browser == "chrome":
        target.driver.delete_all_cookies()
    if target.name == "micropython":
        target.run_micropython(RESET)
    else:
        target.run_js(f"pyodide.runPython({json.dumps(RESET)})")
    target.clean_logs()
    yield target


@pytest.fixture
def stats(server_url: str) -> Any:
    """Request counts seen by the server since the test began: ``stats()["POST /path"]``."""
    return lambda: server_call(server_url, "/__test__/stats")
