"""sign_out() inside real Pyodide against the reference server, in Node and Chromium."""

from __future__ import annotations

from typing import Any

from .interpreters import run_in_pyodide_or_micropython


@run_in_pyodide_or_micropython
async def _signed_in_page(selenium_lucia: Any, server_url: str) -> dict[str, Any]:
    """Sign in through the server and hydrate the page with that user, as the server would."""
    from lucia_testkit import new_session, set_page_data

    session = await new_session(server_url, "leaver")
    user = {"userId": session["userId"], "username": session["username"]}
    set_page_data([{"type": "data", "data": {"_lucia": user}, "uses": {}}, None])
    return session


@run_in_pyodide_or_micropython
async def _sign_out(selenium_lucia: Any, server_url: str, cookies: Any) -> dict[str, Any]:
    from lucia_testkit import client

    import lucia_pyodide
    from lucia_pyodide import LuciaError

    lucia = client(server_url, cookies)
    lucia_pyodide.reset_default_client(lucia)
    result: dict[str, Any] = {"before": getattr(lucia_pyodide.get_user(), "user_id", None)}
    try:
        await lucia_pyodide.sign_out()
    except LuciaError as err:
        result["error"] = [err.code, err.status, err.detail]
    result["after"] = getattr(lucia_pyodide.get_user(), "user_id", None)
    # Is the session over on the server? Its refresh token must now be refused.
    try:
        await client(server_url, cookies).refresh_session()
        result["refresh_after"] = "ok"
    except LuciaError as err:
        result["refresh_after"] = err.code
    return result


def _cookies(selenium: Any, session: dict[str, Any]) -> dict[str, str] | None:
    if selenium.browser == "chrome":
        return None  # the browser holds the server's HttpOnly cookies
    return {"access_token": session["access_token"], "refresh_token": session["refresh_token"]}


def test_sign_out_ends_the_session_and_forgets_the_user(
    selenium_lucia: Any, server_url: str, stats: Any
) -> None:
    session = _signed_in_page(selenium_lucia, server_url)
    result = _sign_out(selenium_lucia, server_url, _cookies(selenium_lucia, session))
    assert "error" not in result, result
    assert result["before"] == session["userId"]
    assert result["after"] is None  # unlike the 0.10 client, the user is not kept
    assert result["refresh_after"] == "AUTH_INVALID_REFRESH_TOKEN"
    assert stats()["POST /api/auth/logout"] == 1
    if selenium_lucia.browser == "chrome":
        names = {c["name"] for c in selenium_lucia.driver.get_cookies()}
        assert not names & {"access_token", "refresh_token"}  # blanked by the server


def test_sign_out_with_no_session_anywhere_asks_then_says_so(
    selenium_lucia: Any, server_url: str, stats: Any
) -> None:
    result = _sign_out(selenium_lucia, server_url, None)
    code, status, detail = result["error"]
    assert code == "AUTH_NOT_AUTHENTICATED" and "refused the refresh token" in detail
    assert status == 500  # the server's refusal it rests on
    # Asked, not assumed: a logout, then the refresh token checked (refused, and again).
    counts = stats()
    assert counts["POST /api/auth/logout"] == 1
    assert counts["POST /api/auth/refresh-session"] == 2 + 2  # + the test's own check after


def test_sign_out_with_an_expired_access_cookie_still_ends_the_session(
    selenium_lucia: Any, server_url: str, stats: Any
) -> None:
    """The browser dropped the access cookie; a reload would revive the session from the refresh token."""
    session = _signed_in_page(selenium_lucia, server_url)
    if selenium_lucia.browser == "chrome":
        selenium_lucia.driver.delete_cookie("access_token")
        result = _sign_out(selenium_lucia, server_url, None)
        assert "error" not in result, result
        assert result["after"] is None and result["refresh_after"] == "AUTH_INVALID_REFRESH_TOKEN"
        assert stats()["POST /api/auth/logout"] == 2  # refused, then after the refresh: ended
    else:
        # Node keeps no cookies: the refresh's new access token never reaches the second
        # logout, so the session cannot be ended from here, and the call says so.
        result = _sign_out(selenium_lucia, server_url, {"refresh_token": session["refresh_token"]})
        assert result["error"][:2] == ["AUTH_INVALID_ACCESS_TOKEN", 500]
        assert result["after"] == session["userId"]  # a failed sign-out loses nothing
