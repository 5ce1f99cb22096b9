"""Events, tab messages and keep-alive on CPython, with a fake clock and fake tabs.

The real thing (Web Locks, BroadcastChannel, several Chromium tabs) is tested in
tests/e2e/test_tabs.py; these pin down ordering, validation and backoff exactly.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time

import pytest

from lucia_pyodide import AuthEvent, LuciaClient
from lucia_pyodide._compat._protocols import HttpResponse
from lucia_pyodide._events import EventHub
from lucia_pyodide._keepalive import KeepAlive, backoff_seconds, seconds_until_due
from lucia_pyodide._tabs import SessionRecord, decode_event, decode_record, encode_event, encode_record

from .fakes import (
    PAGE_DATA,
    REFUSED,
    ClockedServer,
    FakePage,
    FakeTabs,
    FakeTime,
    ScriptedTransport,
    ok,
)

EXPIRES = int(time.time() * 1000) + 3_600_000  # an hour from now: a believable expiry
LIFETIME = 8 * 3600 * 1000


def client_with(*answers: HttpResponse, tabs: FakeTabs | None = None) -> LuciaClient:
    return LuciaClient(transport=ScriptedTransport(*answers), page=FakePage(PAGE_DATA),
                       tabs=tabs or FakeTabs(), verify_delay=0)


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
    client = client_with(ok(EXPIRES), ok(EXPIRES + 1), REFUSED, REFUSED)
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


def test_a_closed_client_tells_its_listeners_nothing_more() -> None:
    """What was on its way when the client was closed (reset_default_client) ends quietly:
    its listeners would take it for news from the client that replaced this one."""
    client = client_with(ok(EXPIRES))
    events: list[AuthEvent] = []

    async def scenario() -> int:
        client.on_change(events.append)
        flight = asyncio.ensure_future(client.refresh_session())
        client.close()
        return await flight

    assert asyncio.run(scenario()) == EXPIRES
    assert events == []


def test_tab_messages_are_announced_validated_and_believed() -> None:
    tabs = FakeTabs()
    heard: list[object] = []
    tabs.origin.listeners.append((FakeTabs(), heard.append))  # another tab's ear
    client = client_with(ok(EXPIRES), tabs=tabs)
    events: list[AuthEvent] = []
    client.on_change(events.append)

    async def scenario() -> None:
        await client.refresh_session()
        await asyncio.sleep(0)

    asyncio.run(scenario())
    message = json.loads(str(heard[-1]))
    assert (message["v"], message["type"], message["expires"]) == (2, "SESSION_REFRESHED", EXPIRES)
    on_message = tabs.origin.listeners[-1][1]
    now = int(time.time() * 1000)
    for junk in (None, 5, "{", "[]", '{"v": 1, "type": "SIGNED_OUT", "at": 1}',
                 f'{{"v": 2, "type": "PWNED", "at": {now}}}',
                 f'{{"v": 2, "type": "SESSION_REFRESHED", "expires": "soon", "at": {now}}}',
                 f'{{"v": 2, "type": "SIGNED_OUT", "at": {now + 3_600_000}}}',  # from the future
                 encode_event(AuthEvent("SESSION_REFRESHED", now + 3 * LIFETIME), now),  # too far
                 encode_event(AuthEvent("SESSION_REFRESHED", now - 1000), now),  # already past
                 "x" * 5000):
        on_message(junk)
    assert client.get_user() is not None and len(events) == 1
    on_message(encode_event(AuthEvent("SESSION_REFRESHED", EXPIRES + 5), now))
    assert client.expires == EXPIRES + 5 and events[-1].remote
    on_message(encode_event(AuthEvent("SIGNED_OUT"), int(time.time() * 1000) + 5))
    assert client.get_user() is None and events[-1] == AuthEvent("SIGNED_OUT", None, remote=True)
    assert client.expires is None  # another tab's sign-out ends the session here too


def test_a_tab_that_waited_for_the_lock_adopts_the_winners_result() -> None:
    tabs = FakeTabs()
    transport = ScriptedTransport(ok(EXPIRES))
    client = LuciaClient(transport=transport, page=FakePage(PAGE_DATA), tabs=tabs)
    now = int(time.time() * 1000)
    tabs.record = encode_record(SessionRecord(now + 50_000, EXPIRES + 9))  # "finished after we started"
    assert asyncio.run(client.refresh_session()) == EXPIRES + 9
    assert transport.calls == [] and tabs.locked == 1
    tabs.record = encode_record(SessionRecord(now - 1000, EXPIRES + 9))  # an old refresh: not adopted
    assert asyncio.run(client.refresh_session()) == EXPIRES
    assert len(transport.calls) == 1


def test_a_record_from_the_future_is_not_believed() -> None:
    """Stamped past the allowed skew, it would otherwise answer every refresh at once, forever."""
    tabs = FakeTabs()
    transport = ScriptedTransport(ok(EXPIRES), ok(EXPIRES + 1))
    client = LuciaClient(transport=transport, page=FakePage(PAGE_DATA), tabs=tabs)
    tabs.record = encode_record(SessionRecord(int(time.time() * 1000) + 10**9, EXPIRES + 9))
    assert asyncio.run(client.refresh_session()) == EXPIRES
    assert asyncio.run(client.refresh_session()) == EXPIRES + 1  # and the next one is sent too
    assert len(transport.calls) == 2


def test_record_validation() -> None:
    now = int(time.time() * 1000)

    def decode(text: object) -> SessionRecord | None:
        return decode_record(text, now=now, max_ahead_ms=2 * LIFETIME)

    good = SessionRecord(now, EXPIRES, "u1")
    assert decode(encode_record(good)) == good
    assert decode(encode_record(SessionRecord(now))) == SessionRecord(now)  # ended
    for junk in (None, "", "{", '{"v":2,"expires":true,"at":200}', '{"v":2,"expires":5,"at":"x"}',
                 encode_record(SessionRecord(now + 10**7, EXPIRES)),  # stamped in the future
                 encode_record(SessionRecord(now, now - 1)),  # expired
                 encode_record(SessionRecord(now, now + 3 * LIFETIME)),  # beyond any sane lifetime
                 json.dumps({"v": 2, "at": now, "expires": EXPIRES, "user": 7})):
        assert decode(junk) is None, junk
    assert decode_event(encode_event(AuthEvent("SESSION_LOST"), now), now=now, max_ahead_ms=1) == (
        AuthEvent("SESSION_LOST", remote=True), now, None)


def test_storage_that_throws_is_storage_that_is_absent() -> None:
    client = client_with(ok(EXPIRES), ok(EXPIRES + 1), tabs=FakeTabs(broken=True))
    assert asyncio.run(client.refresh_session()) == EXPIRES
    assert asyncio.run(client.refresh_session()) == EXPIRES + 1
    assert client.recall_expiry() == EXPIRES + 1


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


def keep_alive(client: LuciaClient, fake: FakeTime, **options: float) -> KeepAlive:
    settings: dict[str, float] = {"margin": 20, "check_interval": 30, "retry_base": 1,
                                  "retry_cap": 8, **options}
    return KeepAlive(client, clock=fake.clock, wait=fake.wait, rng=random.Random(1),
                     **settings).start()  # type: ignore[arg-type]


def run_until_stopped(keeper_factory: object, fake: FakeTime, seconds: float = 5) -> KeepAlive:
    async def scenario() -> KeepAlive:
        keeper = keeper_factory()  # type: ignore[operator]
        try:
            await asyncio.wait_for(keeper.wait_stopped(), seconds)
        except TimeoutError:
            keeper.stop("test over")
        return keeper  # type: ignore[no-any-return]

    return asyncio.run(scenario())


def test_keep_alive_schedules_retries_and_stops_on_loss() -> None:
    fake = FakeTime()
    server_error = HttpResponse(502, "")
    lifetime = 100_000
    now = int(time.time() * 1000)
    transport = ScriptedTransport(ok(now + lifetime), server_error, server_error,
                                  ok(now + 2 * lifetime), REFUSED, REFUSED)
    client = LuciaClient(transport=transport, page=FakePage(PAGE_DATA), tabs=FakeTabs(),
                         verify_delay=0)
    fake.now = now / 1000
    keeper = run_until_stopped(lambda: keep_alive(client, fake, min_interval=0.5), fake)
    assert len(transport.calls) == 6
    assert keeper.stopped and keeper.stop_reason == "SESSION_LOST"
    # Unknown expiry: refresh at once; then wait in check_interval slices until margin
    # before expiry (100 s - 20 s = 80 s), retry twice with growing backoff, and so on.
    assert fake.waits[:3] == [30, 30, 20]
    assert 0.5 <= fake.waits[3] <= 1 and 1 <= fake.waits[4] <= 2


def test_keep_alive_with_a_margin_longer_than_the_session_does_not_hammer() -> None:
    """lucia's 8 h sessions and keep_alive(margin=9 h): refresh at half-life, not back to back."""
    fake = FakeTime()
    fake.now = time.time()
    server = ClockedServer(fake, lifetime_s=8 * 3600)
    client = LuciaClient(transport=server, page=FakePage(PAGE_DATA), tabs=FakeTabs())
    keeper = run_until_stopped(lambda: keep_alive(client, fake, margin=9 * 3600,
                                                  check_interval=3600), fake, seconds=0.3)
    gaps = [b - a for a, b in itertools.pairwise(server.calls)]
    assert keeper.stop_reason == "test over" and len(gaps) > 3
    assert all(gap == pytest.approx(4 * 3600, abs=1) for gap in gaps), gaps


def test_keep_alive_floor_and_backoff_for_expiries_in_the_past() -> None:
    """A server clock behind ours (or a lying answer): every refresh "expires" in the past."""
    fake = FakeTime()
    fake.now = time.time()
    transport = ScriptedTransport(*[ok(int(time.time() * 1000) - 5000)] * 40)
    client = LuciaClient(transport=transport, page=FakePage(PAGE_DATA), tabs=FakeTabs())
    run_until_stopped(lambda: keep_alive(client, fake, min_interval=5, retry_cap=60), fake, 0.5)
    elapsed = sum(fake.waits)
    assert len(transport.calls) >= 2
    # Backoff grows to the cap; never two refreshes closer than the floor.
    assert len(transport.calls) <= elapsed / 5 + 1
    assert max(fake.waits) > 30


def test_keep_alive_never_spins_on_results_that_come_back_at_once() -> None:
    """A refresh answered without a request (adopted from a record) still waits out the floor.

    The record is stamped 30 s ahead (inside the allowed clock skew) with an expiry
    inside the margin: every refresh adopts it at once, and without a floor the loop
    would never yield (a frozen page on Python 3.12+, where tasks start eagerly).
    """
    fake = FakeTime()
    fake.now = time.time()
    tabs = FakeTabs()
    client = LuciaClient(transport=ScriptedTransport(), page=FakePage(PAGE_DATA), tabs=tabs)
    now_ms = int(time.time() * 1000)
    tabs.record = encode_record(SessionRecord(now_ms + 30_000, now_ms + 10_000, "u1"))
    attempts: list[float] = []
    refresh = client.refresh_session

    async def counted() -> int:
        attempts.append(fake.now)
        return await refresh()

    client.refresh_session = counted  # type: ignore[method-assign]
    keeper = run_until_stopped(lambda: keep_alive(client, fake, min_interval=5), fake, 0.3)
    assert keeper.stop_reason == "test over" and len(attempts) > 3
    assert all(b - a >= 5 for a, b in itertools.pairwise(attempts)), attempts


def test_backoff_never_overflows() -> None:
    assert backoff_seconds(5000, base=1, cap=60, rng=random.Random(1)) <= 60


def test_keep_alive_learns_the_expiry_from_the_record_without_a_request() -> None:
    fake = FakeTime()
    fake.now = time.time()
    tabs = FakeTabs()
    transport = ScriptedTransport()
    tabs.record = encode_record(SessionRecord(int(fake.now * 1000) - 1000, EXPIRES, "u1"))
    client = LuciaClient(transport=transport, page=FakePage(PAGE_DATA), tabs=tabs)

    async def scenario() -> None:
        keeper = KeepAlive(client, margin=60, check_interval=600, clock=fake.clock,
                           wait=lambda s: keeper.stop("first wait") or fake.wait(s))  # type: ignore[func-returns-value]
        await keeper.start().wait_stopped()

    asyncio.run(scenario())
    assert transport.calls == [] and client.expires == EXPIRES and fake.waits == [600]
    # Another user's record is not this page's session.
    tabs.record = encode_record(SessionRecord(int(fake.now * 1000) - 1000, EXPIRES, "u2"))
    other = LuciaClient(transport=transport, page=FakePage(PAGE_DATA), tabs=tabs)
    assert other.recall_expiry() is None


def test_keep_alive_stops_on_sign_out_and_by_hand() -> None:
    fake = FakeTime()
    tabs = FakeTabs()
    client = LuciaClient(transport=ScriptedTransport(HttpResponse(200, "")), page=FakePage(PAGE_DATA),
                         tabs=tabs)

    async def scenario() -> tuple[KeepAlive, KeepAlive]:
        client.sync_tabs()
        first = KeepAlive(client, margin=20, clock=fake.clock, wait=fake.wait).start()
        await asyncio.sleep(0.01)
        tabs.origin.listeners[0][1](encode_event(AuthEvent("SIGNED_OUT"), int(time.time() * 1000)))
        await asyncio.wait_for(first.wait_stopped(), 5)
        second = KeepAlive(client, margin=20, clock=fake.clock, wait=fake.wait).start()
        second.stop()
        await asyncio.wait_for(second.wait_stopped(), 5)
        return first, second

    first, second = asyncio.run(scenario())
    assert first.stop_reason == "SIGNED_OUT" and second.stop_reason == "stopped"


def test_keep_alive_that_crashes_says_so() -> None:
    class Broken(LuciaClient):
        def recall_expiry(self) -> int | None:
            raise RuntimeError("bug")

    keeper = run_until_stopped(lambda: KeepAlive(Broken(page=FakePage(PAGE_DATA), tabs=FakeTabs()),
                                                 margin=20).start(), FakeTime())
    assert keeper.stopped and keeper.stop_reason.startswith("crashed: RuntimeError('bug')")


@pytest.mark.parametrize("options", [{"margin": -1}, {"min_interval": 0}, {"retry_base": 0}])
def test_bad_keep_alive_options(options: dict[str, float]) -> None:
    client = LuciaClient(page=FakePage(PAGE_DATA), tabs=FakeTabs())
    with pytest.raises(ValueError):
        KeepAlive(client, **{"margin": 20, **options})  # type: ignore[arg-type]
