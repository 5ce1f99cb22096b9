"""Any standard build of the wheel installs under PyScript's MicroPython, as a user's would.

``pip wheel .``, ``python -m build`` (whose wheel is built from its sdist) and ``pip wheel``
of that sdist: each has the files ``make wheel`` ships, and a ``<script type="mpy">`` page
loading it through ``packages`` (PyScript unzips it itself there) shows the signed-in user.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from .conftest import ROOT, open_booted, serve, sign_in_to
from .test_mpy_files import APP

WHEEL = "lucia_pyodide-0.1.0-py3-none-any.whl"
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><script type="module" src="/pyscript/core.js"></script></head>
<body>
<p id="who">…</p>
<script type="mpy" src="./app.py" config='{{
    "interpreter": "/pyscript/micropython/micropython.mjs", "packages": ["./{wheel}"]}}'></script>
</body></html>
"""
BUILDS = ("pip-wheel", "build", "from-sdist")

#: What this module tests is the wheel and PyScript's loader, the same in every engine; the
#: client in a page is tested in every engine by the demo, README, tabs and lab modules.
ENGINES = ("chromium",)


def _run(*argv: str) -> None:
    subprocess.run([sys.executable, "-m", *argv], check=True, timeout=300,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _contents(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as opened:
        return {info.filename: opened.read(info) for info in opened.infolist()}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Path]]]:
    out = tmp_path_factory.mktemp("standard")
    _run("pip", "wheel", "--no-deps", "-q", "-w", str(out / "pip-wheel"), str(ROOT))
    _run("build", "-q", "-o", str(out / "build"), str(ROOT))
    [sdist] = (out / "build").glob("*.tar.gz")
    _run("pip", "wheel", "--no-deps", "-q", "-w", str(out / "from-sdist"), str(sdist))
    for kind in BUILDS:
        (out / kind / "index.html").write_text(PAGE.format(wheel=WHEEL))
        (out / kind / "app.py").write_text(APP)
    app, url, server = serve()
    app.mounts.insert(0, ("/std", out))
    yield url, {kind: out / kind / WHEEL for kind in BUILDS}
    server.shutdown()  # type: ignore[attr-defined]


def test_each_build_ships_what_make_wheel_ships(built: tuple[str, dict[str, Path]]) -> None:
    shipped = _contents(ROOT / "build" / "wheel" / WHEEL)
    for kind, wheel in built[1].items():
        assert _contents(wheel) == shipped, kind
        names = list(_contents(wheel))
        for index, name in enumerate(names):  # every folder's entry before anything in it
            parent = name.rstrip("/").rpartition("/")[0]
            assert not parent or parent + "/" in names[:index], (kind, name)


def test_each_build_installs_under_micropython(browser: WebDriver,
                                              built: tuple[str, dict[str, Path]]) -> None:
    url, _ = built
    sign_in_to(browser, url, f"/std/{BUILDS[0]}/", "demo", "demo-password")
    shown = {BUILDS[0]: browser.find_element(By.ID, "who").text}
    for kind in BUILDS[1:]:
        open_booted(browser, f"{url}/std/{kind}/")
        shown[kind] = browser.find_element(By.ID, "who").text
    assert shown == dict.fromkeys(BUILDS, "demo")
