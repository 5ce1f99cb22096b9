"""The oldest PyScript releases the README names, each with the interpreter it loads by default.

PyScript 0.6.0 (Pyodide 0.26.2) with a ``<py-script>`` and a ``<script type="py">`` page, and
0.6.72 (Pyodide 0.28.2, MicroPython 1.27.0-preview-256) with all three kinds; the newest
(0.7.31) is what the demo's tests load. Each page installs the wheel through ``packages``
and shows the signed-in user, everything served from this machine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tools.browser import hosts_asked
from tools.setup_assets import PYSCRIPT_RELEASES

from .conftest import ROOT, open_booted, serve, sign_in_to
from .test_mpy_files import APP

RELEASES = ROOT / "build" / "releases"
WHEEL = "/wheels/lucia_pyodide-0.1.0-py3-none-any.whl"
TAGS = {"py-script": ('<py-script src="./app.py" config=\'{config}\'></py-script>'),
        "py": '<script type="py" src="./app.py" config=\'{config}\'></script>',
        "mpy": '<script type="mpy" src="./app.py" config=\'{config}\'></script>'}
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><script type="module" src="/r/pyscript-{pyscript}/core.js"></script>
</head><body><p id="who">…</p>
{tag}
</body></html>
"""

#: What this module tests is the wheel and PyScript's loader, the same in every engine; the
#: client in a page is tested in every engine by the demo, README, tabs and lab modules.
ENGINES = ("chromium",)


def pages() -> list[str]:
    """``<pyscript release>/<tag>`` for each page this module loads."""
    kinds = {release: ["py-script", "py"] + (["mpy"] if micropython else [])
             for release, (_pyodide, micropython) in PYSCRIPT_RELEASES.items()}
    return [f"{release}/{kind}" for release, found in kinds.items() for kind in found]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not all((RELEASES / f"pyscript-{release}").is_dir() for release in PYSCRIPT_RELEASES):
        pytest.fail("build/releases is missing: run `make release-assets` (make test does)")
    folder = tmp_path_factory.mktemp("pyscripts")
    for page in pages():
        release, kind = page.split("/")
        pyodide, micropython = PYSCRIPT_RELEASES[release]
        interpreter = (f"/r/micropython-{micropython}/micropython.mjs" if kind == "mpy"
                       else f"/r/pyodide-{pyodide}/pyodide.mjs")
        config = json.dumps({"interpreter": interpreter, "packages": [WHEEL]})
        (folder / page).mkdir(parents=True)
        (folder / page / "index.html").write_text(
            PAGE.format(pyscript=release, tag=TAGS[kind].format(config=config)))
        (folder / page / "app.py").write_text(APP)
    app, url, server = serve()
    app.mounts[:0] = [("/mine", Path(folder)), ("/r", RELEASES)]
    yield url
    server.shutdown()  # type: ignore[attr-defined]


def test_each_release_shows_the_user(browser: WebDriver, site: str) -> None:
    first, *others = pages()
    sign_in_to(browser, site, f"/mine/{first}/", "demo", "demo-password")
    shown = {first: browser.find_element(By.ID, "who").text}
    for page in others:
        open_booted(browser, f"{site}/mine/{page}/")
        shown[page] = browser.find_element(By.ID, "who").text
    assert shown == dict.fromkeys(pages(), "demo")
    assert hosts_asked(browser) == set()  # nothing from a CDN
