"""The session each tab shows is the session the server has: every state, in real Chromium tabs.

Each test runs four times: in Pyodide and in MicroPython, each on http://127.0.0.1 (a
secure context: Web Locks) and on http://lucia.test mapped to 127.0.0.1 (an insecure
context, as a plain-http LAN host is: no Web Locks, BroadcastChannel and localStorage
remain). The tabs are the reference server's lab page: the interpreter with the wheel
under ``script-src 'self' 'wasm-unsafe-eval'``, so every feature runs under a strict
CSP. The Python sent to the tabs runs in both interpreters. Unless a test says
otherwise, the pages use only the seed's three functions.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from .lab import PRELUDE, RESET, TABS, Lab, configure, events, page_user, types


# -- 1. sign_out() ends the server's session, whatever the page believes -------------------
@pytest.mark.parametrize("page", ["fresh", "refused refresh", "no page data", "corrupt page data"])
def test_sign_out_ends_the_session(lab: Lab, user: dict[str, Any], page: str) -> None:
    tab = lab.tabs[0]
    if page == "refused refresh":
        lab.run(tab, "lucia_pyodide.default_client().forget_user('a refresh was refused'); None")
    elif page == "no page data":
        lab.js(tab, "document.getElementById('lucia-user').remove()")
    elif page == "corrupt page data":
        lab.js(tab, "document.getElementById('lucia-user').textContent = '{\"userId\": 5'")
    lab.run(tab, RESET)
    assert lab.run(tab, "await outcome(sign_out())") is None
    assert page_user(lab, tab) is None  # a reload of any page: nobody signed in
    assert lab.run(tab, "get_user()") is None


def test_sign_out_with_an_expired_access_cookie(lab: Lab, user: dict[str, Any]) -> None:
    """The browser dropped the access cookie; the refresh token would sign the user back in."""
    tab = lab.tabs[0]
    lab.driver.delete_cookie("access_token")
    assert lab.run(tab, "await outcome(sign_out())") is None
    assert page_user(lab, tab) is None
    assert lab.call("/__test__/stats")["POST /api/auth/logout"] == 2  # refused, then done


def test_sign_out_with_no_session_anywhere(lab: Lab, user: dict[str, Any]) -> None:
    tab = lab.tabs[0]
    lab.driver.delete_all_cookies()
    assert lab.run(tab, "await outcome(sign_out('/elsewhere'))") == "AUTH_NOT_AUTHENTICATED"
    assert lab.js(tab, "return location.pathname") == "/__test__/lab"  # no navigation
    assert lab.run(tab, "get_user()") is None


def test_sign_out_that_fails_keeps_everything(lab: Lab, user: dict[str, Any]) -> None:
    tab = lab.tabs[0]
    result = lab.run(tab, """
        client = LuciaClient(logout_path='/__test__/fault/empty502')
        result = [await outcome(client.sign_out('/elsewhere')), client.get_user() is not None]
        client.close()  # left open, it would hear later tests' tabs as this test's user
        result
    """)
    assert result == ["UNKNOWN_ERROR", True]
    assert lab.js(tab, "return location.pathname") == "/__test__/lab"
    assert page_user(lab, tab) == {"userId": user["userId"], "username": "alice"}


def test_sign_out_racing_a_refresh_in_the_same_tab(lab: Lab, user: dict[str, Any]) -> None:
    configure(lab, refresh_delay=0.5)
    tab = lab.tabs[0]
    lab.run(tab, """
        refreshing = asyncio.create_task(outcome(refresh_session()))
        await asyncio.sleep(0.1)  # the refresh is on its way
        await sign_out()
        await refreshing
    """)
    assert types(lab, tab) == ["SESSION_REFRESHED", "SIGNED_OUT"]  # never a refresh after it
    assert page_user(lab, tab) is None


def test_sign_out_racing_a_refresh_in_another_tab(lab: Lab, user: dict[str, Any]) -> None:
    """The refresh reaches the server first but its cookies land after the sign-out's."""
    configure(lab, refresh_delay=0.2, refresh_answer_delay=2.0)
    refresher, leaver = lab.tabs[0], lab.tabs[1]
    before = lab.refreshes()
    lab.start(refresher, "await outcome(refresh_session())")
    # Staged on the server's clock, not the test's: a loaded tab may take a while to send.
    deadline = time.monotonic() + 30
    while lab.refreshes() == before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert lab.refreshes() == before + 1, "the refresh never reached the server"
    time.sleep(0.4)  # processed by the server (0.2 s in), its answer 2 s on its way
    lab.run(leaver, "await sign_out()")
    refreshed = lab.result(refresher)
    time.sleep(1.0)  # the refresher's clean-up, where its cookies outlived the sign-out's
    assert page_user(lab, leaver) is None
    assert lab.run(refresher, "get_user()") is None and lab.run(leaver, "get_user()") is None
    logouts = lab.call("/__test__/stats")["POST /api/auth/logout"]
    # With Web Locks the sign-out waited for the refresh; without, the refresher ended
    # what its late cookies revived.
    assert logouts == (1 if lab.base.startswith("http://127.0.0.1") else 2), (
        f"{logouts} logouts; the refresh: {refreshed!r}\n{lab.story(refresher, leaver)}")


# -- 2. a refused refresh is verified before it is believed ---------------------------------
def test_a_token_rotated_by_a_page_load_meanwhile_is_not_a_lost_session(
        lab: Lab, user: dict[str, Any]) -> None:
    configure(lab, refresh_delay=1.0)
    refresher, other = lab.tabs[0], lab.tabs[1]
    lab.start(refresher, "await outcome(refresh_session())")
    time.sleep(0.3)  # on its way with the old refresh token
    lab.driver.delete_cookie("access_token")
    # Another tab loads a page: the server refreshes from the refresh token and rotates it.
    assert page_user(lab, other) == {"userId": user["userId"], "username": "alice"}
    assert isinstance(lab.result(refresher), int)
    assert "SESSION_LOST" not in types(lab, refresher)
    assert lab.run(refresher, "get_user() is not None")
    assert page_user(lab, other) is not None


def test_a_lost_session_is_lost(lab: Lab, user: dict[str, Any]) -> None:
    tab = lab.tabs[0]
    lab.driver.delete_cookie("refresh_token")
    assert lab.run(tab, "await outcome(refresh_session())") == "AUTH_INVALID_REFRESH_TOKEN"
    assert types(lab, tab) == ["SESSION_LOST"] and lab.run(tab, "get_user()") is None
    assert lab.call("/__test__/stats")["POST /api/auth/refresh-session"] == 2  # checked once


# -- 3. tabs coordinate by default -------------------------------------------------------------
def test_tabs_refreshing_at_the_same_instant_keep_one_session(
        lab: Lab, user: dict[str, Any]) -> None:
    # A slow server: a request stays open a second, so tabs that set off together overlap
    # even when a busy machine starts one of them a few hundred milliseconds late.
    configure(lab, refresh_delay=1.0)
    when = lab.js(lab.tabs[0], "return Date.now() + 3000")
    for handle in lab.tabs:
        lab.start(handle, f"await at({when}); [now_ms(), await outcome(refresh_session())]")
    started, results = zip(*(lab.result(handle) for handle in lab.tabs), strict=True)
    assert max(started) - min(started) < 900, started  # they did set off together
    assert all(isinstance(result, int) for result in results), results  # nobody lost it
    sent = lab.refreshes()
    if lab.base.startswith("http://127.0.0.1"):  # Web Locks: one request, one expiry for all
        assert sent == 1 and len(set(results)) == 1, (
            f"{sent} refreshes, {results}\n{lab.story(*lab.tabs)}")
    else:
        # No locks: the losers are refused, then adopt the winner's result, or (when it is
        # slow to reach them) refresh once more; either way every tab ends on the newest.
        assert sent <= 2 * TABS, sent
        time.sleep(1)
        known = {lab.run(handle, "lucia_pyodide.default_client().expires") for handle in lab.tabs}
        assert known == {max(results)}, (known, results)
    for handle in lab.tabs:
        assert not any(t.startswith("SESSION_LOST") for t in types(lab, handle))
        assert lab.run(handle, "get_user() is not None")
    assert page_user(lab, lab.tabs[0]) is not None


def test_a_sign_out_reaches_every_other_tabs_get_user_within_two_seconds(
        lab: Lab, user: dict[str, Any]) -> None:
    watchers = lab.tabs[1:]
    for handle in watchers:  # pages that read the user, then keep asking
        lab.start(handle, """
            assert get_user() is not None
            while get_user() is not None:
                await asyncio.sleep(0.02)
            now_ms()
        """)
    lab.run(lab.tabs[0], "await sign_out()")
    done_at = lab.run(lab.tabs[0], "heard[-1][2]")  # when the sign-out finished here
    for handle in watchers:  # 2 s: WebKit throttles background tabs' timers (as in test_tabs)
        assert lab.result(handle) - done_at < 2000


# -- 4./5. keep-alive never hammers, never dies silently, learns the expiry from the others --
def test_keep_alive_with_a_margin_longer_than_the_session_does_not_hammer(
        lab: Lab, user: dict[str, Any]) -> None:
    tab = lab.tabs[0]
    state = lab.run(tab, """
        keeper = lucia_pyodide.keep_alive(margin=9 * 3600)  # sessions last 8 h
        await asyncio.sleep(3)
        [keeper.stopped, keeper.stop_reason]
    """)
    assert state == [False, ""]
    assert lab.refreshes() == 1  # to learn the expiry; then half-life, 4 h away


def test_ten_new_tabs_with_keep_alive_cost_at_most_one_refresh(
        lab: Lab, user: dict[str, Any]) -> None:
    """Each new client is a fresh page's: no expiry known, the page's user, the origin's record."""
    for n in range(10):
        lab.run(lab.tabs[n % TABS], """
            fresh = LuciaClient()
            fresh.keep_alive(margin=60)
            await asyncio.sleep(0.3)  # opened one after another, as a person does
            globals().setdefault('keepers', []).append(fresh)
            None
        """)
    time.sleep(1)
    sent = lab.refreshes()
    assert sent <= 1, f"{sent} refreshes\n{lab.story(*lab.tabs)}"
    for handle in lab.tabs:
        known = lab.run(handle, """
            known = [k.expires for k in keepers]
            for k in keepers:
                k.close()
            keepers.clear()
            known
        """)
        assert known and all(isinstance(value, int) for value in known), known


def test_storage_that_throws_is_storage_that_is_absent(lab: Lab, user: dict[str, Any]) -> None:
    tab = lab.tabs[0]
    lab.js(tab, """window.realStorage = Object.getOwnPropertyDescriptor(window, 'localStorage');
        Object.defineProperty(window, 'localStorage', {configurable: true,
            get() { throw new DOMException('The operation is insecure.', 'SecurityError'); }});""")
    try:
        result = lab.run(tab, """
            expires = await outcome(refresh_session())
            keeper = lucia_pyodide.keep_alive(margin=60)
            await asyncio.sleep(0.5)
            newcomer = LuciaClient()  # starts hearing the tabs with the storage blocked
            hears = newcomer.sync_tabs()
            newcomer.close()
            [expires, keeper.stopped, hears]
        """)
    finally:
        lab.js(tab, "Object.defineProperty(window, 'localStorage', window.realStorage)")
    assert isinstance(result[0], int) and result[1] is False, result
    assert result[2] is True, result  # blocked storage costs the record, not the messages


def test_forged_and_stale_tab_messages_change_nothing(lab: Lab, user: dict[str, Any]) -> None:
    tab, forger = lab.tabs[0], lab.tabs[1]
    assert lab.run(tab, "get_user() is not None")
    lab.js(forger, """const channel = new BroadcastChannel('lucia_pyodide');
        const now = Date.now();
        for (const message of ['garbage', '{"v": 2}', {v: 2, type: 'SIGNED_OUT', at: now},
                JSON.stringify({v: 2, type: 'SIGNED_OUT', at: now + 3600e3}),
                JSON.stringify({v: 2, type: 'SESSION_REFRESHED', expires: now + 1e12, at: now}),
                JSON.stringify({v: 2, type: 'SESSION_REFRESHED', expires: now - 1000, at: now})])
            channel.postMessage(message);
        channel.close();""")
    time.sleep(0.3)
    assert lab.run(tab, "get_user() is not None") and events(lab, tab) == []


def test_strict_csp_is_in_force_and_the_client_works_under_it(lab: Lab, user: dict[str, Any]) -> None:
    tab = lab.tabs[0]
    # The policy holds: an inline script the page adds does not run. (WebDriver's own
    # scripts are not held to it, so it is asked from the page's Python.)
    blocked = lab.run(tab, """
        script = js.document.createElement('script')
        script.textContent = 'window.inlineRan = true'
        js.document.head.appendChild(script)
        not js.Reflect.has(js.globalThis, 'inlineRan')
    """)
    assert blocked
    # Every call that takes the lock and touches the other tabs, under that policy.
    assert isinstance(lab.run(tab, "await outcome(refresh_session())"), int)
    assert lab.run(tab, "await outcome(sign_out())") is None


def test_require_user_sends_the_signed_out_to_sign_in_and_back(lab: Lab, user: dict[str, Any]) -> None:
    tab = lab.tabs[0]
    assert lab.run(tab, "lucia_pyodide.require_user('/login').user_id") == user["userId"]
    assert lab.js(tab, "return location.pathname") == "/__test__/lab"
    lab.run(tab, "await sign_out(); None")
    lab.start(tab, "lucia_pyodide.require_user('/login')")
    lab.driver.switch_to.window(tab)
    WebDriverWait(lab.driver, 30).until(lambda d: "/login" in d.current_url)
    here = f"/__test__/lab?interpreter={lab.interpreter}"
    assert lab.driver.current_url.endswith("/login?next=" + quote(here, safe=""))
    assert f'value="{here}"' in lab.driver.page_source  # the form will come back here
    lab.reload(tab)  # the lab again, for the tests after this one
    lab.run(tab, PRELUDE)
