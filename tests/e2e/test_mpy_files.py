"""The README's other way into a MicroPython page: the wheel through PyScript's ``files``.

``"files": {"<wheel URL>": "./*"}`` has PyScript unzip the wheel into the interpreter's
working directory, as ``packages`` does; the signed-in user then shows as on the demo.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from .conftest import serve, sign_in_to

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><script type="module" src="/pyscript/core.js"></script></head>
<body>
<p id="who">…</p>
<script type="mpy" src="./app.py" config='{
    "interpreter": "/pyscript/micropython/micropython.mjs",
    "files": {"/wheels/lucia_pyodide-0.1.0-py3-none-any.whl": "./*"}}'></script>
</body></html>
"""
APP = """from pyscript import document

from lucia_pyodide import get_user

user = get_user()
document.getElementById("who").textContent = user.attributes["username"] if user else "nobody"
document.body.dataset.ready = "true"
"""

#: What this module tests is the wheel and PyScript's loader, the same in every engine; the
#: client in a page is tested in every engine by the demo, README, tabs and lab modules.
ENGINES = ("chromium",)


@pytest.fixture(scope="module")
def files_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("files")
    (folder / "index.html").write_text(PAGE)
    (folder / "app.py").write_text(APP)
    app, url, server = serve()
    app.mounts.insert(0, ("/mine", Path(folder)))
    yield url
    server.shutdown()  # type: ignore[attr-defined]


def test_the_wheel_through_files_in_micropython(browser: WebDriver, files_page: str) -> None:
    sign_in_to(browser, files_page, "/mine/", "demo", "demo-password")
    assert browser.find_element(By.ID, "who").text == "demo"
