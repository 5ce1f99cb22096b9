"""refresh_session() inside real Pyodide against the reference server, in Node and Chromium."""

from __future__ import annotations

from typing import Any

from .conftest import server_call
from .interpreters import run_in_pyodide_or_micropython

EIGHT_HOURS_MS = 8 * 3600_000


@run_in_pyodide_or_micropython
async def _refresh(selenium_lucia: Any, server_url: str, options: dict[str, Any]) -> list[Any]:
    import time

    from lucia_testkit import client, new_session, session_cookies

    session = await new_session(server_url, "refresher")
    lucia = client(server_url, session_cookies(session), **options)
    before = int(time.time() * 1000)
    expires = await lucia.refresh_session()
    return [before, expires, session["refresh_token"]]


def test_refresh_with_json_body_returns_servers_expiry(
    selenium_lucia: Any, server_url: str, stats: Any
) -> None:
    before, expires, _ = _refresh(selenium_lucia, server_url, {})
    assert before + EIGHT_HOURS_MS - 5_000 < expires < before + EIGHT_HOURS_MS + 60_000
    assert stats()["POST /api/auth/refresh-session"] == 1


def test_refresh_with_empty_body_like_lucia_sveltekit_0_10(
    selenium_lucia: Any, server_url: str
) -> None:
    server_call(server_url, "/__test__/config", {"refresh_body": "empty"})
    lifetime = 1_234_567  # not the server's: proves the client computed it
    before, expires, _ = _refresh(selenium_lucia, server_url, {"session_lifetime_ms": lifetime})
    assert before + lifetime <= expires < before + lifetime + 60_000


@run_in_pyodide_or_micropython
async def _refresh_error(selenium_lucia: Any, server_url: str, cookies: Any,
                         headers: Any = None) -> list[Any]:
    from lucia_testkit import client

    from lucia_pyodide import LuciaError

    lucia = client(server_url, cookies)
    if headers is not None:
        lucia.headers = headers
    try:
        await lucia.refresh_session()
    except LuciaError as err:
        return [err.code, err.status, err.detail]
    return ["NO ERROR"]


def test_missing_or_malformed_refresh_token(selenium_lucia: Any, server_url: str) -> None:
    for cookies in (None, {"refresh_token": "rt_short"}, {"refresh_token": "garbage"},
                    {"refresh_token": "rt_" + "x" * 40}):  # well-formed but unknown
        code, status, detail = _refresh_error(selenium_lucia, server_url, cookies)
        assert (code, status) == ("AUTH_INVALID_REFRESH_TOKEN", 500), (cookies, detail)
        assert "HTTP 500" in detail


def test_refresh_rotates_the_token_and_the_old_one_is_refused(
    selenium_lucia: Any, server_url: str
) -> None:
    _, _, old_token = _refresh(selenium_lucia, server_url, {})
    if selenium_lucia.browser == "chrome":
        # The browser got the new cookie: a second refresh works...
        assert _refresh_error(selenium_lucia, server_url, None)[0] == "NO ERROR"
        # ...and the old token, planted by script in place of the server's cookies, does not.
        selenium_lucia.driver.delete_all_cookies()
    code, _, _ = _refresh_error(selenium_lucia, server_url, {"refresh_token": old_token})
    assert code == "AUTH_INVALID_REFRESH_TOKEN"


def test_csrf_check_failure_is_reported(selenium_lucia: Any, server_url: str) -> None:
    if selenium_lucia.browser == "chrome":
        # A browser always sends the page's true Origin: the check can only be failed
        # from another origin, which is covered as a Node request with a foreign Origin.
        headers = {}
    else:
        headers = {"Origin": "http://evil.example"}
        code, status, _ = _refresh_error(selenium_lucia, server_url, None, headers)
        assert (code, status) == ("AUTH_INVALID_REQUEST", 500)
        headers = {}  # no Origin at all, as Node sends by default
    code, _, _ = _refresh_error(selenium_lucia, server_url, None, headers)
    expected = "AUTH_INVALID_REFRESH_TOKEN" if selenium_lucia.browser == "chrome" else "AUTH_INVALID_REQUEST"
    assert code == expected
