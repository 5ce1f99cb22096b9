"""``get_user()`` is what a reload would show: Back, someone else signing in or out, the network.

Real Chromium tabs (Selenium's Chromium keeps its back-forward cache on) of the lab page,
in both interpreters and both contexts (the ``lab`` fixture). The pages are sent with no
``Cache-Control`` here, as lucia-sveltekit 0.10.1 sends them, so that Back may re-show
them from the back-forward cache or the HTTP cache: the client must be right anyway.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import pytest

from tools.browser import freeze, set_offline

from .conftest import wait_for
from .lab import PRELUDE, RESET, Lab, configure, types

#: Waits (in the tab) up to 2 s for get_user() to become ``{want}``: [its user id, how long].
SHOWS_WITHIN_2_S = """
started = now_ms()
def shown():
    user = get_user()
    return user.user_id if user is not None else None
while shown() != {want!r} and now_ms() - started < 2000:
    await asyncio.sleep(0.02)
[shown(), now_ms() - started]
"""


def shows(lab: Lab, handle: str, want: str | None) -> None:
    shown, took = lab.run(handle, SHOWS_WITHIN_2_S.format(want=want))
    assert shown == want, f"shown {shown!r} after {took} ms\n{lab.story(handle)}"


@pytest.fixture
def cacheable(lab: Lab, user: dict[str, Any]) -> str:
    """The first tab, its page rendered now with the user in it, sent as lucia-sveltekit does."""
    configure(lab, page_cache="none")
    render_signed_in(lab, lab.tabs[0], user["userId"])
    return lab.tabs[0]


def render_signed_in(lab: Lab, tab: str, user_id: str) -> None:
    """Load the tab's page anew (the server renders ``user_id`` in) and note a restore."""
    lab.reload(tab)
    lab.run(tab, PRELUDE)
    lab.run(tab, RESET)
    assert lab.run(tab, "get_user().user_id") == user_id
    lab.js(tab, "window.restored = false; addEventListener('pageshow', e => {"
                " if (e.persisted) window.restored = true; });")


def back_to(lab: Lab, tab: str) -> bool:
    """Press Back; wait until the page works again. Whether it came from the back-forward cache."""
    lab.driver.switch_to.window(tab)
    lab.driver.back()
    wait_for(lab.driver, "document.body && (document.body.dataset.ready || document.body.dataset.failed)")
    restored = bool(lab.js(tab, "return window.restored === true"))
    if not restored:  # a new document (from the HTTP cache): its Python starts afresh
        lab.run(tab, PRELUDE)
        lab.run(tab, RESET)
    return restored


def open_other_page(lab: Lab, tab: str) -> None:
    """Another page of the same tab running the client: a MicroPython lab page, whatever the
    page under test runs (one site, both interpreters; and a Pyodide boot saved)."""
    lab.reload(tab, "&page=b", interpreter="micropython")
    lab.run(tab, PRELUDE)


def test_back_after_a_sign_out_without_this_client(lab: Lab, cacheable: str,
                                                    user: dict[str, Any]) -> None:
    """A form, lucia's own JS client, any POST to the logout endpoint: this client saw nothing.

    The page must come back from the back-forward cache, the case this test is for. An
    engine may keep a page out of it now and then (Firefox does while the page has a
    request in flight or a Web Lock asked for, and tells no script why): the new document
    must show nobody as well, and the case is tried once more, signed in again.
    """
    tab = cacheable
    for attempt in (1, 2):
        lab.driver.get(f"{lab.base}/login")
        status = lab.driver.execute_async_script(
            "const done = arguments[0]; fetch('/api/auth/logout', {method: 'POST'})"
            ".then(r => done(r.status))")
        assert status == 200
        restored = back_to(lab, tab)
        shows(lab, tab, None)
        if restored:
            break
        assert attempt == 1, "the browser did not restore the page from its back-forward cache"
        warnings.warn("the page was not restored from the back-forward cache; once more",
                      stacklevel=1)
        lab.sign_in(tab, "alice")
        render_signed_in(lab, tab, user["userId"])
    assert types(lab, tab) == ["SIGNED_OUT (remote)"]


def test_back_after_a_sign_out_in_another_page_of_the_tab(lab: Lab, cacheable: str) -> None:
    tab = cacheable
    open_other_page(lab, tab)
    assert lab.run(tab, "await sign_out()") is None
    restored = back_to(lab, tab)  # Chromium evicts a cached page that gets a tab message
    cached = lab.js(tab, "const n = performance.getEntriesByType('navigation')[0];"
                         "return [n.type, n.transferSize]")
    assert restored or cached == ["back_forward", 0], cached  # an old rendering, either way
    shows(lab, tab, None)


def test_back_after_signing_in_as_someone_else(lab: Lab, cacheable: str) -> None:
    tab = cacheable
    lab.sign_in(tab, "bob")
    open_other_page(lab, tab)
    bob = lab.run(tab, "get_user().user_id")
    assert lab.run(tab, "get_user().attributes['username']") == "bob"
    back_to(lab, tab)
    shows(lab, tab, bob)
    assert types(lab, tab)[-1:] == ["SIGNED_IN (remote)"]


def test_a_sign_out_then_a_sign_in_in_another_tab(lab: Lab, user: dict[str, Any]) -> None:
    watcher, other = lab.tabs[0], lab.tabs[1]
    assert lab.run(watcher, "get_user().user_id") == user["userId"]
    lab.run(other, "await sign_out()")
    shows(lab, watcher, None)
    lab.sign_in(other, "bob")
    lab.reload(other)  # the page the sign-in leads to, rendered with bob
    lab.run(other, PRELUDE)
    bob = lab.run(other, "get_user().user_id")
    shows(lab, watcher, bob)
    assert types(lab, watcher) == ["SIGNED_OUT (remote)", "SIGNED_IN (remote)"], (
        f"shows {lab.run(watcher, 'get_user().user_id')}, was {user['userId']}, bob {bob}\n"
        f"{lab.story(watcher)}")
    assert lab.run(watcher, "[e.user.attributes['username'] for e in heard_events if e.user]") == ["bob"]


@pytest.mark.parametrize("own", [True, False], ids=["by its own sign_out()", "in another tab"])
def test_a_tab_that_never_read_its_page_still_hears_a_later_sign_in(
        lab: Lab, user: dict[str, Any], own: bool) -> None:
    """A page that only keeps the session (no ``get_user()`` yet) whose session ends still
    knows how to ask the server: the next sign-in, in another tab, reaches it."""
    keeper, other = lab.tabs[0], lab.tabs[1]
    if own:
        lab.run(keeper, "await sign_out()")
    else:
        lab.run(keeper, "lucia_pyodide.default_client().sync_tabs()")  # hears, reads nothing
        lab.run(other, "await sign_out()")
        heard = lab.run(keeper, """
            started = now_ms()
            while not heard and now_ms() - started < 5000:
                await asyncio.sleep(0.02)
            [e[0] for e in heard]
        """)
        assert heard == ["SIGNED_OUT"], f"{heard}\n{lab.story(keeper)}"
    bob = lab.sign_in(other, "bob")["userId"]
    lab.render_user(other, bob, "bob")  # the page the sign-in leads to
    assert lab.run(other, "get_user().user_id") == bob
    shows(lab, keeper, bob)
    assert types(lab, keeper) == ["SIGNED_OUT" if own else "SIGNED_OUT (remote)",
                                  "SIGNED_IN (remote)"], lab.story(keeper, other)


def test_offline_keep_alive_keeps_the_user_and_refreshes_once_back_online(
        lab: Lab, user: dict[str, Any]) -> None:
    tab = lab.tabs[0]
    driver = lab.driver
    driver.switch_to.window(tab)
    if not set_offline(driver, True):
        pytest.skip("WebKitWebDriver has no way to take the network away (no CDP, no "
                    "Marionette, no BiDi): the offline path is the same code in every engine")
    try:
        state = lab.run(tab, """
            client = lucia_pyodide.default_client()
            client.get_user()
            client.expires = now_ms() + 1500  # due in half a second
            keeper = client.keep_alive(margin=1, min_interval=0.5, retry_base=0.2, retry_cap=0.4,
                                       check_interval=0.5)
            await asyncio.sleep(4)
            [keeper.stopped, get_user() is not None, client.online]
        """)
        assert state == [False, True, False], (
            f"{state}, {lab.run(tab, 'client.user_reason')!r}\n{lab.story(tab)}")
    finally:
        set_offline(driver, False)
    back = time.monotonic()
    while lab.refreshes() == 0 and time.monotonic() - back < 3:
        time.sleep(0.05)
    assert lab.refreshes() == 1, "no refresh after coming back online"
    assert time.monotonic() - back < 1.5  # within a second of `online` (plus this poll)
    assert lab.run(tab, "keeper.stop(); [t for t in heard if t[0] == 'SESSION_LOST']") == []


def test_a_tab_frozen_past_its_expiry_refreshes_soon_after_it_thaws(
        lab: Lab, user: dict[str, Any]) -> None:
    """A phone's background tab is frozen, and thaws past its session's expiry: one refresh
    within 2 s, the user kept, nothing lost (the server's session was never in danger)."""
    tab = lab.tabs[0]
    lab.run(tab, """
        client = lucia_pyodide.default_client()
        client.get_user()
        client.expires = now_ms() + 2500  # due in 1.5 s, expired in 2.5 s: both while frozen
        keeper = client.keep_alive(margin=1, min_interval=0.5, retry_base=0.2, retry_cap=0.4,
                                   check_interval=0.5)
        None
    """)
    before = lab.refreshes()
    how = freeze(lab.driver, 3.5)
    thawed = time.monotonic()
    while lab.refreshes() == before and time.monotonic() - thawed < 4:
        time.sleep(0.05)
    took = time.monotonic() - thawed
    assert lab.refreshes() == before + 1, (how, lab.refreshes() - before)
    assert took < 2, (how, took)
    state = lab.run(tab, "keeper.stop(); [get_user() is not None, "
                         "[t[0] for t in heard if t[0] == 'SESSION_LOST']]")
    assert state == [True, []], (how, state)
