"""A real PyScript worker (``<script type="py" worker>``, and ``type="mpy"``): the wheel loads,
and get_user() says why not.

A worker cannot see the page, so there is no user to read there; the client must say
so in the console rather than blame the server. The wheel's URL in the worker's config
is relative to the page, as the README says (a root-relative ``/wheels/...`` is resolved
by PyScript 0.7.31 against the worker's ``blob:`` URL and fails).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tools.browser import console

from .conftest import serve

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><script type="module" src="/pyscript/core.js"></script></head>
<body>
<script type="{kind}" worker src="./worker.py" config='{{
    "interpreter": "/pyscript/{interpreter}",
    "packages": ["../../wheels/lucia_pyodide-0.1.0-py3-none-any.whl"]}}'></script>
</body></html>
"""
INTERPRETERS = {"py": "pyodide/pyodide.mjs", "mpy": "micropython/micropython.mjs"}
WORKER = """from lucia_pyodide import default_client, get_user
print("worker get_user:", get_user(), "|", default_client().user_reason)
"""


@pytest.fixture(scope="module")
def worker_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("worker")
    for kind, interpreter in INTERPRETERS.items():
        (folder / kind).mkdir()
        (folder / kind / "index.html").write_text(PAGE.format(kind=kind, interpreter=interpreter))
        (folder / kind / "worker.py").write_text(WORKER)
    app, url, server = serve()
    app.mounts.insert(0, ("/mine", Path(folder)))
    yield url + "/mine/"
    server.shutdown()  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", list(INTERPRETERS))
def test_a_pyscript_worker_is_named_as_such(browser: WebDriver, worker_page: str, kind: str) -> None:
    if console(browser) is None:
        pytest.skip("WebKitWebDriver gives no console (no log endpoint; no WebDriver BiDi in "
                    "WebKitGTK 2.50), and a worker's console is out of the page's reach")
    browser.get(f"{worker_page}{kind}/")
    said: list[str] = []

    def worker_spoke(driver: WebDriver) -> bool:
        said[:] = console(driver) or []
        return any("worker get_user:" in line for line in said)

    WebDriverWait(browser, 90).until(worker_spoke)
    assert any("worker get_user: None | this runs in a web worker" in line for line in said), said
    warnings = [line for line in said if "lucia_pyodide: get_user() is None" in line]
    assert len(warnings) == 1 and "main thread" in warnings[0], said  # said once, where seen
