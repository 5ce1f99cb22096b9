"""A MicroPython the package does not run on is refused at import, saying which ones it runs on.

MicroPython 1.26.0 (tools/setup_assets.py ``MICROPYTHON_REFUSED``) loses the JavaScript objects
Python holds across an await once ``asyncio`` is imported (requests never finish, the tab
channel reads as undefined): importing the package there raises ``ImportError`` at once.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from refserver.testapi import wheel_sources
from tools.setup_assets import MICROPYTHON_REFUSED

from .interpreters import Interpreter

RELEASES = Path(__file__).resolve().parents[2] / "build" / "releases"
IMPORT = """
import js
try:
    import lucia_pyodide
    js.globalThis._lucia_out = "imported"
except ImportError as err:
    js.globalThis._lucia_out = "ImportError: " + str(err)
"""


def test_an_unsupported_micropython_refuses_at_import(request: pytest.FixtureRequest) -> None:
    build = RELEASES / f"micropython-{MICROPYTHON_REFUSED}" / "micropython.mjs"
    if not build.exists():
        pytest.fail(f"{build} is missing: run `make release-assets` (make test does)")
    target = Interpreter(SimpleNamespace(browser="node"), "micropython", build)
    try:
        target.install(wheel_sources(Path(request.config.getoption("--wheel"))))
        said = target.run_micropython(IMPORT)
    finally:
        target.close()
    assert said == ("ImportError: lucia_pyodide does not run on MicroPython 1.26 (JavaScript "
                    "objects held across an await are lost there): use 1.25, or 1.27 and newer"), \
        json.dumps(said)
