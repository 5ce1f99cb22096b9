"""Events and tab sync inside real Pyodide against the reference server (Node and Chromium).

Node has no Web Locks or BroadcastChannel: sync_tabs() says so and the client keeps
working with the in-page single flight. The multi-tab behaviour is tests/e2e/test_tabs.py.
"""

from __future__ import annotations

from typing import Any

from .interpreters import run_in_pyodide_or_micropython


@run_in_pyodide_or_micropython
async def _lifecycle(selenium_lucia: Any, server_url: str) -> dict[str, Any]:
    import asyncio

    import js
    from lucia_testkit import IN_BROWSER, client, new_session, session_cookies, set_page_data

    session = await new_session(server_url, "lifer")
    set_page_data([{"data": {"_lucia": {"userId": session["userId"]}}}])
    lucia = client(server_url, session_cookies(session))
    heard: list[list[Any]] = []

    async def listener(event) -> None:  # no annotation: Python 3.11 (Pyodide 0.25) evaluates them
        heard.append([event.type, event.expires, event.remote])

    lucia.on_change(listener)
    synced = lucia.sync_tabs()
    expires = await asyncio.gather(*(lucia.refresh_session() for _ in range(5)))
    keeper = lucia.keep_alive(margin=0)  # the expiry is known and hours away: nothing to do
    await asyncio.sleep(0.1)
    running = not keeper.stopped
    if IN_BROWSER:  # the sign-out needs the cookies the refresh rotated
        await lucia.sign_out()
    else:
        from lucia_pyodide import AuthEvent

        lucia._on_tab_event(AuthEvent("SIGNED_OUT", remote=True))  # as another tab would say
    await asyncio.sleep(0)
    lucia.close()
    return {"synced": synced, "channel": bool(js.Reflect.has(js.globalThis, "BroadcastChannel")),
            "expires": expires, "heard": heard, "running": running,
            "stopped": keeper.stop_reason, "user": lucia.get_user()}


def test_events_tab_sync_and_keep_alive_in_each_runtime(
    selenium_lucia: Any, server_url: str, stats: Any
) -> None:
    result = _lifecycle(selenium_lucia, server_url)
    # Tabs are heard where there is a BroadcastChannel: Chromium, and Node itself (not the
    # sandbox pytest-pyodide runs Pyodide in there).
    assert result["synced"] == result["channel"]
    assert result["synced"] == (selenium_lucia.browser == "chrome" or selenium_lucia.name == "micropython")
    assert len(set(result["expires"])) == 1  # five calls, one refresh
    assert stats()["POST /api/auth/refresh-session"] == 1
    assert result["heard"][0] == ["SESSION_REFRESHED", result["expires"][0], False]
    assert result["heard"][-1][0] == "SIGNED_OUT"
    assert result["running"] and result["stopped"] == "SIGNED_OUT"
    assert result["user"] is None
