"""sign_out(redirect) in Chromium: the page really moves, and only to a safe target.

Its own module: a successful redirect unloads the page, and with it the Pyodide
that the module's other tests would share.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import pytest

from ..unit.test_redirect import UNSAFE_TARGETS
from .interpreters import run_in_pyodide_or_micropython


@run_in_pyodide_or_micropython
async def _start_sign_out(selenium_lucia: Any, server_url: str, target: str) -> list[Any]:
    import js
    from lucia_testkit import new_session, set_page_data

    import lucia_pyodide

    session = await new_session(server_url, "navigator")
    set_page_data([{"type": "data", "data": {"_lucia": {"userId": session["userId"]}}}])
    try:
        await lucia_pyodide.sign_out(target)
    except lucia_pyodide.LuciaError as err:
        return [err.code, str(js.location.href)]
    # The navigation is under way: the host test watches where the page lands.
    return ["NO ERROR", str(js.location.href)]


@pytest.fixture
def chrome_only(selenium_lucia: Any) -> Any:
    if selenium_lucia.browser != "chrome":
        pytest.skip("navigation needs a browser page")
    return selenium_lucia


def test_unsafe_redirects_are_refused_before_signing_out(
    chrome_only: Any, server_url: str, stats: Any
) -> None:
    for target in UNSAFE_TARGETS:
        code, href = _start_sign_out(chrome_only, server_url, target)
        assert code == "UNSAFE_REDIRECT", target
        assert href.endswith("/module_test.html")
    assert "POST /api/auth/logout" not in stats()


def test_redirect_after_sign_out_moves_the_page(chrome_only: Any, server_url: str) -> None:
    driver = chrome_only.driver
    driver.set_script_timeout(20)
    # The page unloading under the running script is the expected end of this call.
    with contextlib.suppress(Exception):
        _start_sign_out(chrome_only, server_url, "/login?from=sign-out")
    deadline = time.monotonic() + 10
    while not driver.current_url.endswith("/login?from=sign-out") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert driver.current_url == f"{server_url}/login?from=sign-out"
    assert "Sign in" in driver.page_source
