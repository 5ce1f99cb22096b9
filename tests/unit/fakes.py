"""The one home of the CPython test fakes: a page, transports, a Lucia server and an origin.

``LuciaModel`` keeps sessions and single-use refresh tokens as lucia-sveltekit 0.10
does, and one cookie jar per browser, so races between tabs play out as they would
(only in memory, in one event loop). ``Origin`` is what the tabs of one browser share:
a BroadcastChannel, localStorage and (optionally) Web Locks. The real thing is tested
in Chromium (tests/pyodide, tests/e2e); these pin down orderings exactly and fast.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable, Mapping

from lucia_pyodide._compat._protocols import HttpResponse, LockGrant, LockTimeout
from lucia_pyodide._tabs import RECORD_KEY

PAGE_DATA = '[{"type":"data","data":{"_lucia":{"userId":"u1","username":"al"}},"uses":{}},null]'
REFUSED = HttpResponse(500, '{"message":"AUTH_INVALID_REFRESH_TOKEN"}')
NO_ACCESS_TOKEN = HttpResponse(500, '{"message":"AUTH_INVALID_ACCESS_TOKEN"}')


def ok(expires: int) -> HttpResponse:
    return HttpResponse(200, json.dumps({"expires": expires}))


def page_data(user_id: str) -> str:
    return json.dumps([{"type": "data", "data": {"_lucia": {"userId": user_id}}, "uses": {}}])


class FakePage:
    """A page: its user data, how it was loaded, and its events (``fire``)."""

    def __init__(self, page_data: str | None = None, script: str | None = None,
                 context: str = "page", *, from_cache: bool = False, is_online: bool = True) -> None:
        self.page_data, self.script, self.context = page_data, script, context
        self.from_cache, self.is_online = from_cache, is_online
        self.reads = 0
        self.navigated: list[str] = []
        self.watcher: Callable[[str], None] | None = None

    def user_script_in(self, html: str) -> str | None:
        match = re.search(r'<script type="application/json" id="lucia-user">(.*?)</script>', html)
        return match.group(1) if match else None

    def shown_from_cache(self) -> bool:
        return self.from_cache

    def age_ms(self) -> float:
        return 100.0

    def online(self) -> bool:
        return self.is_online

    def watch(self, on_change: Callable[[str], None]) -> bool:
        self.watcher = on_change
        return True

    def unwatch(self) -> None:
        self.watcher = None

    def fire(self, kind: str) -> None:
        """The browser says: "restored", "visible", "hidden", "online" or "offline"."""
        if kind in ("online", "offline"):
            self.is_online = kind == "online"
        if self.watcher is not None:
            self.watcher(kind)

    def page_data_json(self) -> str | None:
        self.reads += 1
        return self.page_data

    def user_script_text(self) -> str | None:
        return self.script

    def origin(self) -> str | None:
        return "http://127.0.0.1:8000"

    def path(self) -> str | None:
        return "/account?tab=keys"

    def where(self) -> str:
        return self.context

    def navigate(self, url: str) -> None:
        self.navigated.append(url)


class ScriptedTransport:
    """Answers with the given responses in order, after ``delay`` seconds each."""

    def __init__(self, *answers: HttpResponse, delay: float = 0.0) -> None:
        self.answers = list(answers)
        self.calls: list[str] = []
        self.delay = delay

    async def post(self, url: str, *, timeout: float, headers: Mapping[str, str]) -> HttpResponse:
        self.calls.append(url)
        await asyncio.sleep(self.delay)
        return self.answers.pop(0)

    async def get(self, url: str, *, timeout: float, headers: Mapping[str, str]) -> HttpResponse:
        return await self.post(url, timeout=timeout, headers=headers)


class LuciaModel:
    """A Lucia 0.10 server and one browser's cookie jar, in memory.

    A request reads the jar when it is sent, the server acts after ``delay`` seconds,
    and its Set-Cookie lands in the jar ``answer_delay`` seconds later: enough to
    replay every race between tabs, page loads and sign-outs.
    """

    def __init__(self, lifetime_ms: int = 8 * 3600 * 1000, now: Callable[[], int] | None = None) -> None:
        self.lifetime_ms = lifetime_ms
        self._now = now or (lambda: int(time.time() * 1000))
        self._ids = itertools.count(1)
        self.sessions: dict[str, str] = {}  # access token -> user
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> user
        self.jar: dict[str, str] = {}
        self.log: list[str] = []
        self.delay = 0.0
        self.answer_delay = 0.0
        #: Per endpoint ("logout", "refresh-session"): (delay, answer_delay), overriding both.
        self.delays: dict[str, tuple[float, float]] = {}

    def sign_in(self, user: str = "u1") -> None:
        self.jar.update(self._new_session(user))

    def _new_session(self, user: str) -> dict[str, str]:
        n = next(self._ids)
        access, refresh = f"at_{n}", f"rt_{n}"
        self.sessions[access], self.refresh_tokens[refresh] = user, user
        return {"access_token": access, "refresh_token": refresh}

    def page_load(self) -> str | None:
        """A GET of a page: lucia-sveltekit refreshes on the server when the access token is gone."""
        self.log.append("GET page")
        access, refresh = self.jar.get("access_token"), self.jar.get("refresh_token")
        if access in self.sessions:
            return self.sessions[access]
        user = self.refresh_tokens.pop(refresh or "", None)
        if user is None:
            self.jar.clear()
            return None
        self.jar.update(self._new_session(user))
        return user

    def signed_in_user(self) -> str | None:
        """What a reload would show (and do)."""
        return self.page_load()

    def transport(self) -> ModelTransport:
        return ModelTransport(self)

    def handle(self, path: str, cookies: dict[str, str]) -> tuple[HttpResponse, dict[str, str] | None]:
        if path.endswith("refresh-session"):
            user = self.refresh_tokens.pop(cookies.get("refresh_token", ""), None)
            if user is None:
                return REFUSED, None
            return ok(self._now() + self.lifetime_ms), self._new_session(user)
        access = cookies.get("access_token")
        if not access:
            return NO_ACCESS_TOKEN, None
        self.sessions.pop(access, None)
        self.refresh_tokens.pop(cookies.get("refresh_token", ""), None)
        return HttpResponse(200, ""), {}


class ModelTransport:
    def __init__(self, model: LuciaModel) -> None:
        self.model = model
        self.calls: list[str] = []

    async def post(self, url: str, *, timeout: float, headers: Mapping[str, str]) -> HttpResponse:
        model = self.model
        name = url.rsplit("/", 1)[-1]
        self.calls.append(name)
        cookies = dict(model.jar)  # what the browser sends: the jar as it is now
        delay, answer_delay = model.delays.get(name, (model.delay, model.answer_delay))
        await asyncio.sleep(delay)
        response, set_cookies = model.handle(url, cookies)
        model.log.append(f"{name} {response.status}")
        await asyncio.sleep(answer_delay)
        if set_cookies is not None:  # the answer lands in the shared jar
            if set_cookies:
                model.jar.update(set_cookies)
            else:
                model.jar.clear()
        return response

    async def get(self, url: str, *, timeout: float, headers: Mapping[str, str]) -> HttpResponse:
        """A page, rendered with the user a reload shows (``#lucia-user``)."""
        self.calls.append(f"GET {url}")
        await asyncio.sleep(self.model.delay)
        user = self.model.page_load()
        shown = json.dumps({"userId": user} if user else None)
        return HttpResponse(200, f'<script type="application/json" id="lucia-user">{shown}</script>')


class Origin:
    """What the tabs of one browser origin share: a channel, localStorage, maybe Web Locks."""

    def __init__(self, *, locks: bool = True, news_delay: float = 0) -> None:
        #: How long a tab's record write and messages take to reach the others (WebKit's
        #: tabs are processes of their own); the lock's grant is not delayed.
        self.news_delay = news_delay
        self.storage: dict[str, str] = {}
        self.listeners: list[tuple[FakeTabs, Callable[[object], None]]] = []
        self.lock = asyncio.Lock() if locks else None
        self.messages: list[str] = []

    def tab(self) -> FakeTabs:
        return FakeTabs(self)


class FakeTabs:
    """One tab's view of an ``Origin``; ``broken`` makes storage throw, as private modes do."""

    def __init__(self, origin: Origin | None = None, *, broken: bool = False,
                 lock_timeout: bool = False) -> None:
        self.origin = origin or Origin()
        self.broken, self.lock_timeout = broken, lock_timeout
        self.locked = 0

    def listen(self, on_message: Callable[[object], None]) -> bool:
        self.origin.listeners.append((self, on_message))
        return True

    def post(self, message: str) -> None:
        self.origin.messages.append(message)
        for tab, listener in list(self.origin.listeners):
            if tab is not self:  # delivered later, as a browser does
                asyncio.get_running_loop().call_later(self.origin.news_delay, listener, message)

    async def lock(self, timeout: float) -> LockGrant | None:
        if self.lock_timeout:
            raise LockTimeout("held elsewhere")
        lock = self.origin.lock
        if lock is None:
            return None
        waited = lock.locked()
        await lock.acquire()
        self.locked += 1
        return LockGrant(lock.release, waited=waited)

    def read_record(self, key: str) -> str | None:
        if self.broken:
            raise OSError("SecurityError: localStorage is not available")
        return self.origin.storage.get(key)

    def write_record(self, key: str, record: str) -> None:
        if self.broken:
            raise OSError("QuotaExceededError")
        if self.origin.news_delay:
            asyncio.get_running_loop().call_later(
                self.origin.news_delay, self.origin.storage.__setitem__, key, record)
        else:
            self.origin.storage[key] = record

    @property
    def record(self) -> str | None:
        """The refresh's (or end's) record, as ``TabSync`` keeps it."""
        return self.origin.storage.get(RECORD_KEY)

    @record.setter
    def record(self, value: str) -> None:
        self.origin.storage[RECORD_KEY] = value

    def close(self) -> None:
        self.origin.listeners = [(t, f) for t, f in self.origin.listeners if t is not self]


class ClockedServer:
    """Answers every refresh with ``{"expires": now + lifetime}`` on a fake clock's time."""

    def __init__(self, fake: FakeTime, lifetime_s: float) -> None:
        self.fake, self.lifetime_s = fake, lifetime_s
        self.calls: list[float] = []

    async def post(self, url: str, *, timeout: float, headers: Mapping[str, str]) -> HttpResponse:
        self.calls.append(self.fake.now)
        await asyncio.sleep(0)
        return ok(int((self.fake.now + self.lifetime_s) * 1000))


class FakeTime:
    """A wall clock that moves only when keep-alive waits."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    async def wait(self, seconds: float) -> None:
        self.waits.append(round(seconds, 3))
        self.now += seconds
        await asyncio.sleep(0)
