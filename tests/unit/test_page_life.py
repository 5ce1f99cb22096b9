"""What a reload would show: route data, the page's stale moments, looks at the server (CPython).

The same flows run in real browsers in tests/e2e/test_reload_truth.py; here the
orderings are pinned down with the in-memory Lucia model.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lucia_pyodide import SIGNED_IN, SIGNED_OUT, AuthEvent, LuciaClient, LuciaError
from lucia_pyodide._compat._protocols import HttpResponse
from lucia_pyodide._devalue import DevalueError, unflatten
from lucia_pyodide._keepalive import OFFLINE_ATTEMPTS
from lucia_pyodide._lifecycle import route_data_url
from lucia_pyodide._tabs import SessionRecord, encode_event, encode_record, now_ms
from lucia_pyodide._user import read_route_data
from lucia_pyodide.server import route_data_json

from .fakes import FakePage, FakeTabs, LuciaModel, ModelTransport, Origin, ScriptedTransport

# What lucia-sveltekit 0.10.1's app answers for /__data.json (PROTOCOL.md), signed out.
SIGNED_OUT_DATA = ('[{"type":1,"nodes":2},"data",[3,5],{"type":1,"data":4,"uses":6},{"_lucia":5},'
                   'null,{"dependencies":-1,"params":-1,"parent":-1,"url":-1}]')


def script_page(user_id: str | None) -> str:
    return json.dumps({"userId": user_id} if user_id else None)


# -- route data ------------------------------------------------------------------------
def test_route_data_as_lucia_sveltekit_sends_it() -> None:
    assert read_route_data(SIGNED_OUT_DATA) == (None, None)
    signed_in = SIGNED_OUT_DATA.replace('{"_lucia":5},null', '{"_lucia":7},null').replace(
        '"url":-1}]', '"url":-1},{"userId":8,"username":9},"u-1","alice"]')
    user, redirect = read_route_data(signed_in)
    assert redirect is None and user is not None
    assert (user.user_id, user.attributes) == ("u-1", {"username": "alice"})


def test_route_data_of_later_sveltekit_and_redirects() -> None:
    data = [{"_lucia": 1}, {"userId": 2, "when": 3}, "u", ["Date", "2022-10-01T00:00:00.000Z"]]
    node = {"type": "data", "data": data, "uses": {}}
    user, _ = read_route_data(json.dumps({"type": "data", "nodes": [node, {"type": "skip"}]}) + "\n{}")
    assert user is not None and user.attributes["when"] == "2022-10-01T00:00:00.000Z"
    assert read_route_data('[{"type":1,"location":2},"redirect","/login"]') == (None, "/login")


@pytest.mark.parametrize("text, why", [
    ("<!doctype html><p>502</p>", "not JSON"),
    ("[]", "non-empty array"),
    ("[[0]]", "contains itself"),
    ("[[5]]", "outside"),
    ('[{"a": "x"}]', "outside"),
    ("[[null]]", "outside"),
    ('[{"type":1,"nodes":2},"data",[3],{"type":1,"data":4},{"_lucia":5},["Map",6,7],"k","v"]', "'Map'"),
    ('[{"a": 1}, 2]', "not route data"),
    ('[{"type":1,"nodes":2},"data",[3],{"type":1,"data":4},{"_lucia":5},{"userId":6},7]', "userId"),
])
def test_route_data_that_is_not_is_refused_clearly(text: str, why: str) -> None:
    with pytest.raises(LuciaError) as caught:
        read_route_data(text)
    assert caught.value.code == "AUTH_INVALID_USER_DATA" and why in caught.value.detail


def test_shared_references_cannot_unfold_into_a_billion_values() -> None:
    values: list[object] = [[i + 1] * 2 for i in range(40)] + ["x"]  # each level refers twice to the next
    with pytest.raises(DevalueError, match="more than"):
        unflatten(values, max_depth=100)
    with pytest.raises(DevalueError, match="deeper"):
        unflatten([[i + 1] for i in range(80)] + ["x"])


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=12)


@given(st.dictionaries(st.text(max_size=4).filter(lambda k: k != "userId"), json_values, max_size=4))
def test_the_server_half_writes_what_the_client_reads(attributes: dict[str, object]) -> None:
    user, _ = read_route_data(route_data_json({"userId": "u1", **attributes}))
    assert user is not None and user.user_id == "u1"
    assert json.loads(json.dumps(attributes)) == user.attributes
    assert read_route_data(route_data_json(None)) == (None, None)


@pytest.mark.parametrize("path, url", [("/", "/__data.json"), ("/harness", "/harness/__data.json"),
                                       ("/a/b/?q=1#top", "/a/b/__data.json?q=1")])
def test_route_data_url(path: str, url: str) -> None:
    assert route_data_url(path) == url


# -- the page's stale moments ------------------------------------------------------------
def client_on(model: LuciaModel, origin: Origin, page: FakePage, **options: float) -> LuciaClient:
    return LuciaClient(transport=model.transport(), page=page, tabs=origin.tab(), verify_delay=0.01,
                       **options)


def signed_in_tab(**options: float) -> tuple[LuciaModel, Origin, FakePage, LuciaClient]:
    """u1 signed in, and a tab whose page the server rendered with u1."""
    model, origin = LuciaModel(), Origin()
    model.sign_in("u1")
    page = FakePage(script=script_page("u1"))
    return model, origin, page, client_on(model, origin, page, **options)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0.01)


def test_back_to_a_page_after_a_sign_out_elsewhere_shows_nobody() -> None:
    async def main() -> None:
        model, _origin, page, client = signed_in_tab()
        heard: list[AuthEvent] = []
        client.on_change(heard.append)
        assert client.get_user() is not None
        model.jar.clear()  # signed out by a form, not by this client
        page.fire("restored")  # Back: the page comes out of the back-forward cache
        await asyncio.sleep(0.1)
        assert client.get_user() is None and heard == [AuthEvent(SIGNED_OUT, remote=True)]
        assert model.log.count("GET page") == 1  # one look

    asyncio.run(main())


@pytest.mark.parametrize("answer_lost", [False, True], ids=["sign-out answered", "its answer lost"])
def test_a_look_answered_during_this_pages_sign_out_is_not_news_of_its_own(answer_lost: bool) -> None:
    """The look saw the sign-out's own effect: one SIGNED_OUT, this page's. Should the
    sign-out's answer be lost, the look's "nobody" is what the page then learns."""
    class LostAnswer(ModelTransport):
        async def post(self, url: str, *, timeout: float, headers: Mapping[str, str]) -> HttpResponse:
            await super().post(url, timeout=timeout, headers=headers)  # the server acted on it
            raise LuciaError("UNKNOWN_ERROR", "the connection was cut")

    async def main() -> None:
        model = LuciaModel()
        model.sign_in("u1")
        transport = LostAnswer(model) if answer_lost else model.transport()
        client = LuciaClient(transport=transport, page=FakePage(script=script_page("u1")),
                             tabs=Origin().tab(), verify_delay=0.01)
        heard: list[AuthEvent] = []
        client.on_change(heard.append)
        model.delays["logout"] = (0.05, 0.1)  # ended on the server at 0.05, answered at 0.15
        model.delay = 0.07  # the look's GET, sent at 0, reaches the server after the logout
        looking = asyncio.ensure_future(client.check_user())
        try:
            await client.sign_out()
        except LuciaError as err:
            assert answer_lost and err.code == "UNKNOWN_ERROR"
        await looking
        assert client.get_user() is None and model.log.count("GET page") == 1
        assert heard == [AuthEvent(SIGNED_OUT, remote=answer_lost)]

    asyncio.run(main())


def test_an_ended_record_answers_without_a_request() -> None:
    async def main() -> None:
        model, origin, page, client = signed_in_tab()
        assert client.get_user() is not None
        await settle()
        other = origin.tab()
        other.record = encode_record(SessionRecord(now_ms() + 5))  # another tab signed out
        page.fire("restored")
        assert client.get_user() is None
        await settle()
        assert "GET page" not in model.log

    asyncio.run(main())


def test_a_sign_in_travels_to_the_other_tabs_through_the_server() -> None:
    async def main() -> None:
        model, origin = LuciaModel(), Origin()
        page_a = FakePage(script=script_page(None))
        watcher = client_on(model, origin, page_a)
        heard: list[AuthEvent] = []
        watcher.on_change(heard.append)
        assert watcher.get_user() is None
        model.sign_in("bob")
        newcomer = client_on(model, origin, FakePage(script=script_page("bob")))
        assert newcomer.get_user() is not None  # its page shows bob: it says so
        for _ in range(100):  # its claim, 0.05 s on; then the watcher's look (a loaded CPU: seconds)
            if watcher.get_user() is not None:
                break
            await asyncio.sleep(0.05)
        user = watcher.get_user()
        assert user is not None and user.user_id == "bob"
        assert [(e.type, e.remote, e.user) for e in heard] == [(SIGNED_IN, True, user)]
        # The same user again is no event, and a tab that knows the user sends nothing.
        model.log.clear()
        client_on(model, origin, FakePage(script=script_page("bob"))).get_user()
        await asyncio.sleep(0.1)
        assert len(heard) == 1 and "GET page" not in model.log

    asyncio.run(main())


@pytest.mark.parametrize("own", [True, False], ids=["by its own sign_out()", "in another tab"])
def test_a_tab_that_never_read_its_page_still_hears_a_later_sign_in(own: bool) -> None:
    """A page that only keeps the session (no ``get_user()`` yet) whose session ends still
    knows how to ask the server, so a later sign-in elsewhere reaches it."""
    async def main() -> None:
        model, origin, _page, client = signed_in_tab()
        heard: list[AuthEvent] = []
        client.on_change(heard.append)
        if own:
            await client.sign_out()
        else:
            client.sync_tabs()
            await client_on(model, origin, FakePage(script=script_page("u1"))).sign_out()
        await settle()
        assert client.get_user() is None
        model.sign_in("bob")
        assert client_on(model, origin, FakePage(script=script_page("bob"))).get_user() is not None
        await asyncio.sleep(0.1)
        user = client.get_user()
        assert user is not None and user.user_id == "bob"
        assert [(e.type, e.remote) for e in heard] == [(SIGNED_OUT, not own), (SIGNED_IN, True)]

    asyncio.run(main())


def test_a_forged_sign_in_message_only_makes_a_tab_ask() -> None:
    async def main() -> None:
        model, origin, _page, client = signed_in_tab()
        heard: list[AuthEvent] = []
        client.on_change(heard.append)
        client.get_user()
        forger = origin.tab()
        for _ in range(20):
            forger.post(encode_event(AuthEvent(SIGNED_IN), now_ms(), "mallory"))
        await asyncio.sleep(0.1)
        user = client.get_user()
        assert user is not None and user.user_id == "u1" and heard == []
        assert model.log.count("GET page") == 1  # twenty messages, one look (so far: spaced)

    asyncio.run(main())


def test_a_tab_visible_again_asks_only_after_the_floor() -> None:
    async def main() -> None:
        model, _origin, page, client = signed_in_tab(recheck_floor=0.2)
        client.get_user()
        page.fire("hidden")
        page.fire("visible")  # the page was rendered a moment ago: nothing to ask
        await settle()
        assert "GET page" not in model.log
        await asyncio.sleep(0.25)
        page.fire("visible")
        await settle()
        assert model.log.count("GET page") == 1

    asyncio.run(main())


def test_a_tab_never_heard_from_the_server_says_so_when_visible(
        caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        model, origin = LuciaModel(), Origin()
        page = FakePage(script=script_page("u1"), from_cache=True)  # no time it was rendered
        client = client_on(model, origin, page)
        client.get_user()
        page.fire("visible")
        await settle()

    with caplog.at_level("INFO", logger="lucia_pyodide"):
        asyncio.run(main())
    said = [r.getMessage() for r in caplog.records if "visible again" in r.getMessage()]
    assert said == ["lucia_pyodide: visible again, the server not heard since the page "
                    "loaded: asking the server who is signed in"], said


def test_a_page_from_the_http_cache_is_checked_at_once_and_offline_waits() -> None:
    async def main() -> None:
        model, origin = LuciaModel(), Origin()
        page = FakePage(script=script_page("u1"), from_cache=True, is_online=False)
        client = client_on(model, origin, page)
        assert client.get_user() is not None  # the old rendering, for now
        await settle()
        assert "GET page" not in model.log  # offline: nothing sent
        page.fire("online")
        await asyncio.sleep(0.1)
        assert client.get_user() is None and model.log.count("GET page") == 1

    asyncio.run(main())


def test_check_user_asks_and_a_garbage_answer_changes_nothing() -> None:
    async def main() -> None:
        page = FakePage(script=script_page("u1"))
        client = LuciaClient(transport=ScriptedTransport(HttpResponse(200, "<p>Bad gateway</p>")),
                             page=page, tabs=FakeTabs())
        with pytest.raises(LuciaError, match="no <script"):
            await client.check_user()
        assert client.get_user() is not None

    asyncio.run(main())


# -- keep-alive and the network ------------------------------------------------------------
def test_keep_alive_offline_tries_a_few_times_then_waits_for_online() -> None:
    async def main() -> None:
        class DeadNetwork(ScriptedTransport):
            async def post(self, url: str, *, timeout: float, headers: object) -> HttpResponse:  # type: ignore[override]
                self.calls.append(url)
                raise LuciaError("UNKNOWN_ERROR", "network error")

        transport = DeadNetwork()
        page = FakePage(script=script_page("u1"), is_online=False)
        client = LuciaClient(transport=transport, page=page, tabs=FakeTabs())
        client.get_user()
        keeper = client.keep_alive(margin=60, min_interval=0.01, retry_base=0.01, retry_cap=0.02,
                                   check_interval=0.05)
        await asyncio.sleep(0.5)
        assert len(transport.calls) == OFFLINE_ATTEMPTS and not keeper.stopped
        page.fire("online")
        await asyncio.sleep(0.01)
        assert len(transport.calls) == OFFLINE_ATTEMPTS + 1  # at once, not after the backoff
        keeper.stop()

    asyncio.run(main())
