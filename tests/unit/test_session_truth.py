"""The session the client shows is the session the server has: every state, on CPython.

``LuciaModel`` plays lucia-sveltekit 0.10 and one browser's shared cookie jar;
``Origin`` the tabs' channel, storage and (optionally) Web Locks. After each
scenario, ``model.signed_in_user()`` is what a reload would show. The same states
run for real in Chromium in tests/e2e/test_session_truth.py.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable

import pytest

from lucia_pyodide import AuthEvent, LuciaClient, LuciaError
from lucia_pyodide._tabs import TabSync, now_ms

from .fakes import FakePage, FakeTabs, LuciaModel, Origin, page_data

DAY_MS = 24 * 3600 * 1000


def tab(model: LuciaModel, origin: Origin, user: str | None = "u1") -> LuciaClient:
    page = FakePage(page_data(user) if user else None)
    return LuciaClient(transport=model.transport(), page=page, tabs=origin.tab(), verify_delay=0.05)


def events_of(client: LuciaClient) -> list[str]:
    heard: list[str] = []
    client.on_change(lambda e: heard.append(e.type + (" (remote)" if e.remote else "")))
    return heard


async def outcome(call: Awaitable[object]) -> object:
    try:
        return await call
    except LuciaError as err:
        return err.code


def run(coroutine: Awaitable[object]) -> object:
    async def main() -> object:
        result = await coroutine
        await asyncio.sleep(0.1)  # let messages land
        return result

    return asyncio.run(main())  # type: ignore[arg-type]


@pytest.mark.parametrize("page_user", ["u1", None], ids=["signed-in page", "page without user data"])
def test_sign_out_after_a_lost_user_or_without_page_data_still_ends_the_session(
        page_user: str | None) -> None:
    model = LuciaModel()
    model.sign_in()
    client = tab(model, Origin(), page_user)
    client.forget_user("as after a refused refresh")
    assert run(client.sign_out()) is None
    assert model.signed_in_user() is None


def test_corrupt_page_data_does_not_block_sign_out() -> None:
    model = LuciaModel()
    model.sign_in()
    client = LuciaClient(transport=model.transport(), page=FakePage("{not json"), tabs=FakeTabs())
    run(client.sign_out())
    assert model.signed_in_user() is None


def test_expired_access_cookie_refresh_then_sign_out() -> None:
    """The browser dropped the access cookie; the refresh token would revive the session on reload."""
    model = LuciaModel()
    model.sign_in()
    del model.jar["access_token"]
    client = tab(model, Origin())
    run(client.sign_out())
    assert model.transport is not None
    assert [entry.split()[0] for entry in model.log] == ["logout", "refresh-session", "logout"]
    assert model.signed_in_user() is None


def test_no_session_anywhere_is_not_authenticated_after_asking() -> None:
    model = LuciaModel()
    client = tab(model, Origin())
    heard = events_of(client)
    assert run(outcome(client.sign_out("/login"))) == "AUTH_NOT_AUTHENTICATED"
    assert client.get_user() is None and heard == ["SESSION_LOST"]
    assert client._page.navigated == []  # type: ignore[attr-defined]


def test_sign_out_racing_a_refresh_in_the_same_tab() -> None:
    model = LuciaModel()
    model.sign_in()
    model.delay = model.answer_delay = 0.05
    client = tab(model, Origin())
    heard = events_of(client)

    async def scenario() -> None:
        refreshing = asyncio.ensure_future(client.refresh_session())
        await asyncio.sleep(0.01)  # the refresh is on its way
        await client.sign_out()
        await refreshing

    run(scenario())
    assert heard == ["SESSION_REFRESHED", "SIGNED_OUT"]  # never a refresh after the sign-out
    assert model.signed_in_user() is None


@pytest.mark.parametrize("locks", [True, False], ids=["web locks", "no web locks"])
def test_sign_out_racing_a_refresh_in_another_tab(locks: bool) -> None:
    """Without locks the refresh's cookies land after the sign-out's: the refreshing tab ends it."""
    model = LuciaModel()
    model.sign_in()
    origin = Origin(locks=locks)
    refresher, leaver = tab(model, origin), tab(model, origin)
    # The refresh reaches the server first, but its cookies land after the sign-out's.
    model.delays = {"refresh-session": (0.02, 0.1), "logout": (0.03, 0.0)}

    async def scenario() -> object:
        refreshing = asyncio.ensure_future(outcome(refresher.refresh_session()))
        await asyncio.sleep(0.005)
        await leaver.sign_out()
        result = await refreshing
        await asyncio.sleep(0.3)  # the refresher's clean-up, if any
        return result

    run(scenario())
    assert refresher.get_user() is None and leaver.get_user() is None
    assert model.signed_in_user() is None, model.log


@pytest.mark.parametrize(("locks", "news_delay"), [(True, 0), (True, 0.1), (False, 0)],
                         ids=["web locks", "web locks, news slower than the lock", "no web locks"])
def test_three_tabs_refreshing_at_once_keep_one_session(locks: bool, news_delay: float) -> None:
    model = LuciaModel()
    model.sign_in()
    model.delay = 0.02
    origin = Origin(locks=locks, news_delay=news_delay)
    tabs = [tab(model, origin) for _ in range(3)]
    heard = [events_of(t) for t in tabs]

    async def scenario() -> list[object]:
        return list(await asyncio.gather(*(outcome(t.refresh_session()) for t in tabs)))

    results = run(scenario())
    assert isinstance(results, list) and len(set(results)) == 1 and isinstance(results[0], int)
    assert all(t.get_user() is not None for t in tabs)
    assert not any("SESSION_LOST" in e for h in heard for e in h)
    sent = [e for e in model.log if e.startswith("refresh-session")]
    if locks:
        assert sent == ["refresh-session 200"]  # one request for three tabs
    else:
        assert len(sent) <= 3  # the cost of no locks: the losers' refused requests
    assert model.signed_in_user() == "u1"


def test_a_token_rotated_by_a_page_load_meanwhile_is_not_a_lost_session() -> None:
    model = LuciaModel()
    model.sign_in()
    client = tab(model, Origin())
    heard = events_of(client)
    model.delay = 0.05

    async def scenario() -> object:
        refreshing = asyncio.ensure_future(outcome(client.refresh_session()))
        await asyncio.sleep(0.01)  # on its way with the old token
        del model.jar["access_token"]
        assert model.page_load() == "u1"  # another tab loads a page: the server rotates
        return await refreshing

    assert isinstance(run(scenario()), int)
    assert heard == ["SESSION_REFRESHED"] and client.get_user() is not None
    assert model.signed_in_user() == "u1"


def test_a_really_lost_session_is_lost_after_one_check() -> None:
    model = LuciaModel()
    model.sign_in()
    model.refresh_tokens.clear()  # the server forgot it (e.g. signed out elsewhere)
    client = tab(model, Origin())
    heard = events_of(client)
    assert run(outcome(client.refresh_session())) == "AUTH_INVALID_REFRESH_TOKEN"
    assert heard == ["SESSION_LOST"] and client.get_user() is None
    assert [e for e in model.log if e.startswith("refresh")] == ["refresh-session 500"] * 2


def test_sign_out_in_one_tab_reaches_the_others_get_user() -> None:
    model = LuciaModel()
    model.sign_in()
    origin = Origin()
    leaver, stayer = tab(model, origin), tab(model, origin)
    assert stayer.get_user() is not None  # a page that shows a user hears the others
    heard = events_of(stayer)
    run(leaver.sign_out())
    assert stayer.get_user() is None and heard == ["SIGNED_OUT (remote)"]


def test_new_tabs_learn_the_expiry_from_the_first() -> None:
    model = LuciaModel()
    model.sign_in()
    origin = Origin()
    first = tab(model, origin)
    expires = run(first.refresh_session())
    later = [tab(model, origin) for _ in range(9)]
    assert all(t.recall_expiry() == expires for t in later)
    assert [e for e in model.log if e.startswith("refresh")] == ["refresh-session 200"]
    run(first.sign_out())
    assert tab(model, origin).recall_expiry() is None  # the record ended with the session


def test_events_are_authevents() -> None:
    model = LuciaModel()
    model.sign_in()
    client = tab(model, Origin())
    heard: list[AuthEvent] = []
    client.on_change(heard.append)
    expires = run(client.refresh_session())
    assert heard == [AuthEvent("SESSION_REFRESHED", expires)]  # type: ignore[arg-type]


def test_without_locks_two_retries_at_once_do_not_lose_the_session() -> None:
    """A page load rotates the token under two tabs' refreshes: both are refused, both retry
    at the same moment, one retry wins and the other is refused again. That second refusal
    must adopt the winner's result, not declare the session lost."""
    model = LuciaModel()
    model.sign_in()
    origin = Origin(locks=False)
    tabs = [tab(model, origin) for _ in range(2)]
    heard = [events_of(t) for t in tabs]
    model.delay = 0.02

    async def scenario() -> list[object]:
        refreshing = [asyncio.ensure_future(outcome(t.refresh_session())) for t in tabs]
        await asyncio.sleep(0.005)  # both on their way with the old token
        del model.jar["access_token"]
        assert model.page_load() == "u1"  # rotated by a page load: no tab hears of it
        return list(await asyncio.gather(*refreshing))

    results = run(scenario())
    assert isinstance(results, list) and all(isinstance(r, int) for r in results), (results, model.log)
    assert len(set(results)) == 1  # the one that lost the retry adopted the other's result
    assert [e for e in model.log if e.startswith("refresh")].count("refresh-session 500") == 3
    assert not any("SESSION_LOST" in e for h in heard for e in h)
    assert model.signed_in_user() == "u1"


def test_a_sign_in_note_never_replaces_a_refresh_its_tab_did_not_see_yet() -> None:
    """A WebKit run: a page noted its user 13 ms after another tab's refresh, from a copy of
    localStorage that did not show the refresh yet; the next new tab found no expiry and
    refreshed again. The note has a key of its own: the refresh's expiry stays known."""
    async def scenario() -> tuple[int | None, int]:
        origin = Origin(news_delay=0.05)
        refresher, noter, newcomer = (TabSync(origin.tab(), max_lifetime_ms=DAY_MS)
                                      for _ in range(3))
        expires = now_ms() + 3_600_000
        refresher.record_refresh(expires, "u1")
        assert noter.say_signed_in("u1")  # its copy does not show the refresh yet
        await asyncio.sleep(0.2)
        return newcomer.known_expiry("u1"), expires

    known, expires = asyncio.run(scenario())
    assert known == expires


def test_the_later_of_a_sign_in_note_and_a_record_is_the_origins_session() -> None:
    origin = Origin()
    ticks = itertools.count(now_ms())  # one write per millisecond, in order
    one, other = (TabSync(origin.tab(), max_lifetime_ms=DAY_MS, clock_ms=lambda: next(ticks))
                  for _ in range(2))
    expires = now_ms() + 3_600_000
    one.record_refresh(expires, "u1")
    assert not other.say_signed_in("u1") and other.known_expiry("u1") == expires
    assert other.say_signed_in("u2")  # someone else signed in: u1's expiry is no one's now
    assert one.known_expiry("u1") is None and one.known_expiry("u2") is None
    one.record_end()
    ended = other.record()
    assert ended is not None and ended.ended
    assert other.say_signed_in("u3")  # a sign-in after the end
    signed_in = one.record()
    assert signed_in is not None and signed_in.live and signed_in.user_id == "u3"
    assert not one.ended_since(0)
