"""The wheel installs the ways the README documents (PyScript's config is the e2e demo test)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


def test_micropip_installs_the_wheel_from_a_url(
    selenium_standalone: Any, server_url: str, request: pytest.FixtureRequest
) -> None:
    wheel = Path(request.config.getoption("--wheel")).name
    selenium_standalone.load_package("micropip")
    version = selenium_standalone.run_async(
        f"""
        import micropip
        await micropip.install({json.dumps(server_url + "/wheels/" + wheel)})
        import lucia_pyodide
        lucia_pyodide.__version__
        """
    )
    assert wheel.startswith(f"lucia_pyodide-{version}-")
