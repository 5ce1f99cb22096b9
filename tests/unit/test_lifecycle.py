"""Events, tab messages and keep-alive on CPython, with a fake clock and fake tabs.

The real thing (Web Locks, BroadcastChannel, several Chromium tabs) is tested in
tests/e2e/test_tabs.py; these pin down ordering, validation and backoff exactly.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable, Mapping

import pytest

from lucia_pyodide import AuthEvent, LuciaClient
from lucia_pyodide._events import EventHub
from lucia_pyodide._keepalive import KeepAlive, backoff_seconds, seconds_until_due
from lucia_pyodide._responses import HttpResponse
from lucia_pyodide._tabs import adoptable_expiry, decode_event, encode_event, encode_record

PAGE_DATA = '[{"type":"data","data":{"_lucia":{"userId":"u1"}},"uses":{}}]'
EXPIRES = 1_700_000_000_000


class Page:
    def page_data_json(self) -> str | None:
        return PAGE_DATA

    def user_script_text(self) -> str | None:
        return None

    def origin(self) -> str | None:
        return "http://127.0.0.1:1"

    def navigate(self, url: str) -> None:
        pass


class Transport:
    def __init__(self, *answers: HttpResponse) -> None:
        self.answers, self.calls = list(answers), 0

    async def post(self, url: str, *, timeout: float, headers: Mapping[str, str]) -> HttpResponse:
        self.calls += 1
        await asyncio.sleep(0)
        return self.answers.pop(0)


class Tabs:
    """Another tab's side of BroadcastChannel/localStorage, in memory."""

    def __init__(self) -> None:
        self.posted: list[str] = []
        self.record: str | None = None
        self.on_message: Callable[[object], None] | None = None
        self.locked = 0

    def listen(self, on_message: Callable[[object], None], on_visible: Callable[[], None]) -> bool:
        self.on_message = on_message
        return True

    def post(self, message: str) -> None:
        self.posted.append(message)

    async def lock(self, timeout: float) -> Callable[[], None] | None:
        self.locked += 1
        return lambda: None

    def read_record(self) -> str | None:
        return self.record

    def write_record(self, record: str) -> None:
        self.record = record

    def close(self) -> None:
        pass


def ok(expires: int = EXPIRES) -> HttpResponse:
    return HttpResponse(200, json.dumps({"expires": expires}))


REFUSED = HttpResponse(500, '{"message":"AUTH_INVALID_REFRESH_TOKEN"}')


def test_listeners_sync_async_and_failing() -> None:
    hub, heard = EventHub(), []

    def bad(event: AuthEvent) -> None:
        raise RuntimeError("listener bug")

    async def later(event: AuthEvent) -> None:
        heard.append(("async", event.type))

    async def scenario() -> None:
        hub.subscribe(bad)
        unsubscribe = hub.subscribe(lambda e: heard.append(("sync", e.type)))
        hub.subscribe(later)
        hub.emit(AuthEvent("SIGNED_OUT"))
        await asyncio.sleep(0)
        unsubscribe()
        unsubscribe()  # harmless twice
        hub.emit(AuthEvent("SESSION_LOST"))
        await asyncio.sleep(0)

    asyncio.run(scenario())
    assert heard == [("sync", "SIGNED_OUT"), ("async", "SIGNED_OUT"), ("async", "SESSION_LOST")]


def test_refresh_and_loss_events_in_order_and_listener_can_refresh_again() -> None:
    transport = Transport(ok(), ok(EXPIRES + 1), REFUSED)
    client = LuciaClient(transport=transport, page=Page(), tabs=Tabs())
    events: list[AuthEvent] = []
    again: list[asyncio.Future[int]] = []

    def listener(event: AuthEvent) -> None:
        events.append(event)
        if len(events) == 1:  # calling back in from a listener must not deadlock
            again.append(asyncio.ensure_future(client.refresh_session()))

    async def scenario() -> None:
        client.on_change(listener)
        await client.refresh_session()
        await again[0]
        with pytest.raises(Exception, match="AUTH_INVALID_REFRESH_TOKEN"):
            await client.refresh_session()

    asyncio.run(scenario())
    assert [(e.type, e.expires) for e in events] == [
        ("SESSION_REFRESHED", EXPIRES), ("SESSION_REFRESHED", EXPIRES + 1), ("SESSION_LOST", None)]
    assert client.get_user() is None and client.expires is None


def test_tab_messages_are_announced_validated_and_believed() -> None:
    tabs = Tabs()
    client = LuciaClient(transport=Transport(ok()), page=Page(), tabs=tabs)
    assert client.sync_tabs()
    events: list[AuthEvent] = []
    client.on_change(events.append)
    asyncio.run(client.refresh_session())
    assert json.loads(tabs.posted[-1]) == {"v": 1, "type": "SESSION_REFRESHED", "expires": EXPIRES}
    assert tabs.on_message is not None
    for junk in (None, 5, "{", "[]", '{"v": 2, "type": "SIGNED_OUT"}', '{"v": 1, "type": "PWNED"}',
                 '{"v": 1, "type": "SESSION_REFRESHED", "expires": "soon"}', "x" * 5000):
        tabs.on_message(junk)
    assert client.get_user() is not None and len(events) == 1
    tabs.on_message(encode_event(AuthEvent("SESSION_REFRESHED", EXPIRES + 5)))
    assert client.expires == EXPIRES + 5 and events[-1].remote
    tabs.on_message(encode_event(AuthEvent("SIGNED_OUT")))
    assert client.get_user() is None and events[-1] == AuthEvent("SIGNED_OUT", None, remote=True)
    assert client.expires is None  # another tab's sign-out ends the session here too


def test_a_tab_that_waited_for_the_lock_adopts_the_winners_result() -> None:
    tabs = Tabs()
    transport = Transport(ok())
    client = LuciaClient(transport=transport, page=Page(), tabs=tabs)
    client.sync_tabs()
    tabs.record = encode_record(EXPIRES + 9, at_ms=2**52)  # "finished after we started"
    assert asyncio.run(client.refresh_session()) == EXPIRES + 9
    assert transport.calls == 0 and tabs.locked == 1
    tabs.record = encode_record(EXPIRES + 9, at_ms=1)  # an old refresh: not adopted
    assert asyncio.run(client.refresh_session()) == EXPIRES
    assert transport.calls == 1


def test_record_and_message_validation() -> None:
    assert adoptable_expiry(encode_record(5, 100), since_ms=100) == 5
    assert adoptable_expiry(encode_record(5, 99), since_ms=100) is None
    for junk in (None, "", "{", '{"v":1,"expires":true,"at":200}', '{"v":1,"expires":5,"at":"x"}'):
        assert adoptable_expiry(junk, since_ms=0) is None
    assert decode_event(encode_event(AuthEvent("SESSION_LOST"))) == AuthEvent("SESSION_LOST", remote=True)


def test_due_time_and_backoff() -> None:
    assert seconds_until_due(0, None, 60) == 0
    assert seconds_until_due(1_000, 100_000, 60) == pytest.approx(39.0)
    assert seconds_until_due(90_000, 100_000, 60) == 0
    rng = random.Random(7)
    delays = [backoff_seconds(n, base=1, cap=30, rng=rng) for n in range(1, 10)]
    for n, delay in enumerate(delays, start=1):
        ceiling = min(30, 2 ** (n - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert max(delays) <= 30


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_000.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    async def wait(self, seconds: float) -> None:
        self.waits.append(round(seconds, 3))
        self.now += seconds
        await asyncio.sleep(0)


def test_keep_alive_schedules_retries_and_stops_on_loss() -> None:
    fake = FakeTime()
    server_error = HttpResponse(502, "")
    lifetime = 100_000
    answers = [ok(int(fake.now * 1000) + lifetime), server_error, server_error,
               ok(int(fake.now * 1000) + 2 * lifetime), REFUSED]
    transport = Transport(*answers)
    client = LuciaClient(transport=transport, page=Page(), tabs=Tabs())

    async def scenario() -> KeepAlive:
        keeper = KeepAlive(client, margin=20, check_interval=30, retry_base=1, retry_cap=8,
                           clock=fake.clock, wait=fake.wait, rng=random.Random(1)).start()
        await asyncio.wait_for(keeper.wait_stopped(), 5)
        return keeper

    keeper = asyncio.run(scenario())
    assert transport.calls == 5
    assert keeper.stopped and "SESSION_LOST" in keeper.stop_reason
    # Unknown expiry: refresh at once; then wait in check_interval slices until margin
    # before expiry (100 s - 20 s = 80 s), retry twice with growing backoff, and so on.
    assert fake.waits[:3] == [30, 30, 20]
    assert 0.5 <= fake.waits[3] <= 1 and 1 <= fake.waits[4] <= 2


def test_keep_alive_stops_on_sign_out_and_by_hand() -> None:
    fake = FakeTime()
    client = LuciaClient(transport=Transport(HttpResponse(200, "")), page=Page(), tabs=Tabs())

    async def scenario() -> tuple[KeepAlive, KeepAlive]:
        first = KeepAlive(client, margin=20, clock=fake.clock, wait=fake.wait).start()
        await asyncio.sleep(0.01)
        client._on_tab_message(encode_event(AuthEvent("SIGNED_OUT")))
        await asyncio.wait_for(first.wait_stopped(), 5)
        second = KeepAlive(client, margin=20, clock=fake.clock, wait=fake.wait).start()
        second.stop()
        await asyncio.wait_for(second.wait_stopped(), 5)
        return first, second

    first, second = asyncio.run(scenario())
    assert first.stop_reason == "SIGNED_OUT" and second.stop_reason == "stopped"


def test_bad_keep_alive_options() -> None:
    client = LuciaClient(page=Page(), tabs=Tabs())
    with pytest.raises(ValueError):
        KeepAlive(client, margin=-1)
