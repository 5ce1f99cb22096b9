"""``TabSync``: how this tab shares one session with every other tab and script of its origin.

The refresh token lives in the cookie jar that all of them share and is single-use,
so coordination is a matter of correctness:

- one refresh or sign-out at a time across the origin (a Web Lock, where the browser has
  them; secure contexts only);
- a shared record (``localStorage``) of the session as last seen: the expiry of the last
  refresh, whose it was and when it finished, or that the session ended. A tab that waited
  for the lock adopts the winner's result; a new tab learns the expiry without a request;
- messages (``BroadcastChannel``) announcing refreshes and sign-outs. They carry no token.

Nothing another party writes is believed unchecked: a record or message must be this
version's, not stamped in the future, and claim an expiry inside a sane lifetime.
Storage or a channel that throws counts as absent.
"""

import asyncio
import json
import logging
import time

from ._compat._lang import JSON_ERRORS, random_id
from ._compat._protocols import LockTimeout
from ._events import EVENT_TYPES, SESSION_REFRESHED, SIGNED_IN, SIGNED_OUT, AuthEvent

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final, TypeVar

    from ._compat._protocols import LockGrant, Tabs
    from ._events import EventType

    T = TypeVar("T")

logger = logging.getLogger("lucia_pyodide")

CHANNEL: "Final" = "lucia_pyodide"
LOCK: "Final" = "lucia_pyodide:session"
RECORD_KEY: "Final" = "lucia_pyodide:session"
#: Where a page notes the user it shows signed in: a key of its own, so that the note never
#: replaces a refresh's record that this tab's copy of localStorage does not show yet
#: (WebKit's tabs are processes of their own, each reading its own copy).
CLAIM_KEY: "Final" = "lucia_pyodide:signed-in"
#: The message format's version, and the record's (3: a record may be live with no
#: expiry known, which a version-2 tab would read as ended).
_VERSION: "Final" = 2
_RECORD_VERSION: "Final" = 3
#: A record or message stamped later than now + this is from the future: not believed.
MAX_SKEW_MS: "Final" = 60_000
#: How often a tab waiting for another's refresh re-reads the shared record.
POLL_SECONDS: "Final" = 0.05
#: How long a tab that waited for the lock gives the holder's news to arrive.
SETTLE_SECONDS: "Final" = 0.5


def now_ms() -> int:
    return int(time.time() * 1000)


class SessionRecord:
    """The origin's shared note of its session: a refresh's result, a sign-in, or that it ended.

    ``at``: when it was written (ms since the epoch); ``expires``: the refreshed
    session's expiry, ``None`` when unknown or ended; ``user_id``: whose session it
    was, where the writer knew; ``writer``: which tab wrote it (a random id per page);
    ``live``: the session goes on (by default: an expiry is known). A live record
    without an expiry says a page showed ``user_id`` signed in.
    """

    def __init__(self, at: int, expires: "int | None" = None, user_id: "str | None" = None,
                 writer: str = "", live: "bool | None" = None) -> None:
        self.at, self.expires, self.user_id, self.writer = at, expires, user_id, writer
        self.live = expires is not None if live is None else live

    @property
    def ended(self) -> bool:
        return not self.live

    def _key(self) -> "tuple[int, int | None, str | None, str, bool]":
        return (self.at, self.expires, self.user_id, self.writer, self.live)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SessionRecord) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return "SessionRecord(at={!r}, expires={!r}, user_id={!r}, writer={!r}, live={!r})".format(
            *self._key())


def _payload(text: object, now: int, version: int = _VERSION) -> "dict[str, Any] | None":
    """A message or record of ``version``, decoded, stamped no later than ``now`` + skew."""
    if not isinstance(text, str) or len(text) > 1000:
        return None
    try:
        payload = json.loads(text)
    except JSON_ERRORS:
        return None
    if not isinstance(payload, dict) or payload.get("v") != version:
        return None
    at = payload.get("at")
    if type(at) is not int or not 0 < at <= now + MAX_SKEW_MS:
        return None
    return payload


def _sane_expiry(value: object, now: int, max_ahead_ms: int) -> bool:
    return type(value) is int and now < value <= now + max_ahead_ms


def encode_event(event: AuthEvent, at_ms: int, user_id: "str | None" = None) -> str:
    """The message announcing ``event`` to other tabs (a sign-in names only the user's id)."""
    message: dict[str, Any] = {"v": _VERSION, "type": event.type, "expires": event.expires,
                               "at": at_ms}
    if user_id is not None:
        message["user"] = user_id
    return json.dumps(message)


def decode_event(message: object, *, now: int,
                 max_ahead_ms: int) -> "tuple[AuthEvent, int, str | None] | None":
    """The event another tab announced, when, and the user id it names (``SIGNED_IN``);
    ``None`` for anything not to believe.

    A ``SIGNED_IN`` comes without its user: a message is only a reason to ask the server.
    """
    payload = _payload(message, now)
    if payload is None or payload.get("type") not in EVENT_TYPES:
        return None
    kind: EventType = payload["type"]
    expires = payload.get("expires")
    if kind == SIGNED_IN and not isinstance(payload.get("user"), str):
        return None
    if kind != SESSION_REFRESHED:
        return AuthEvent(kind, None, remote=True), payload["at"], payload.get("user")
    if not _sane_expiry(expires, now, max_ahead_ms):
        return None
    return AuthEvent(kind, expires, remote=True), payload["at"], None


def encode_record(record: SessionRecord) -> str:
    return json.dumps({"v": _RECORD_VERSION, "at": record.at, "expires": record.expires,
                       "user": record.user_id, "tab": record.writer, "live": record.live})


def decode_record(text: object, *, now: int, max_ahead_ms: int) -> "SessionRecord | None":
    """The shared record, or ``None`` if there is none to believe (or its session expired)."""
    payload = _payload(text, now, _RECORD_VERSION)
    if payload is None:
        return None
    user, expires, writer = payload.get("user"), payload.get("expires"), payload.get("tab", "")
    live = payload.get("live")
    if (user is not None and not isinstance(user, str)) or not isinstance(writer, str):
        return None
    if not isinstance(live, bool) or (expires is not None and not live):
        return None
    if expires is not None and not _sane_expiry(expires, now, max_ahead_ms):
        return None
    return SessionRecord(payload["at"], expires, user, writer, live)


class TabSync:
    """This tab's side of the origin-wide session: the lock, the shared record, the messages.

    ``max_lifetime_ms`` bounds how far ahead a believable expiry may lie.
    """

    def __init__(self, tabs: "Tabs", *, max_lifetime_ms: int,
                 clock_ms: "Callable[[], int]" = now_ms) -> None:
        self._tabs, self._max_ahead, self._clock = tabs, max_lifetime_ms, clock_ms
        self._started = False
        #: Whether other tabs can be heard (``False`` in Node, or before ``start``).
        self.available = False
        self._on_event: Callable[[AuthEvent], None] = lambda event: None
        #: When (ms) another tab last said it ended the session; 0: never heard.
        self.ended_at = 0
        self._heard_refresh: tuple[int, int] | None = None  # (heard at, expires)
        self._on_sign_in: Callable[[str], None] = lambda user_id: None
        self._failed: set[str] = set()
        self._id = random_id()  # tells this tab's records from others'

    # -- the raw side, guarded -------------------------------------------------------
    def _failure(self, what: str, err: Exception) -> None:
        if what not in self._failed:  # once per kind: a storage that throws throws every time
            self._failed.add(what)
            logger.warning("lucia_pyodide: %s failed (%r); treated as absent", what, err)

    def start(self, on_event: "Callable[[AuthEvent], None]",
              on_sign_in: "Callable[[str], None]") -> bool:
        """Hear other tabs from now on (idempotent); ``False`` where they cannot be heard.

        ``on_sign_in(user_id)`` hears a tab's claim that ``user_id`` signed in: a reason
        to ask the server, not an event to pass on.
        """
        if not self._started:
            self._started, self._on_event, self._on_sign_in = True, on_event, on_sign_in
            try:
                self.available = self._tabs.listen(self._on_message)
            except Exception as err:
                self._failure("listening to other tabs", err)
        return self.available

    def _on_message(self, message: object) -> None:
        decoded = decode_event(message, now=self._clock(), max_ahead_ms=self._max_ahead)
        if decoded is None:
            logger.debug("lucia_pyodide: ignored a tab message: %.80r", message)
            return
        event, at, user_id = decoded
        logger.debug("lucia_pyodide: another tab says %s (at %s%s)", event.type, at,
                     f", user {user_id}" if user_id is not None else "")
        if event.type == SESSION_REFRESHED:
            self._heard_refresh = (self._clock(), int(event.expires or 0))
        elif event.type == SIGNED_OUT:
            self.ended_at = max(self.ended_at, at)
        elif event.type == SIGNED_IN:
            self._on_sign_in(str(user_id))
            return
        self._on_event(event)

    def record(self) -> "SessionRecord | None":
        """The origin's session as its tabs noted it: the refresh's (or end's) record, or a
        later page's note that another user, or a user after an end, is signed in."""
        kept, claim = self._read(RECORD_KEY), self._read(CLAIM_KEY)
        if claim is None or (kept is not None and (
                kept.at >= claim.at or (kept.live and kept.user_id == claim.user_id))):
            return kept
        return claim

    def _read(self, key: str) -> "SessionRecord | None":
        try:
            text = self._tabs.read_record(key)
        except Exception as err:
            self._failure("reading the shared session record", err)
            return None
        return decode_record(text, now=self._clock(), max_ahead_ms=self._max_ahead)

    def _write(self, record: SessionRecord, key: str = RECORD_KEY) -> None:
        try:
            self._tabs.write_record(key, encode_record(record))
        except Exception as err:
            self._failure("writing the shared session record", err)

    async def take_lock(self, timeout: float) -> "LockGrant | None":
        """The session lock; ``None`` if it could not be had (see ``holding``)."""
        try:
            return await self._tabs.lock(timeout)
        except LockTimeout:
            logger.warning("lucia_pyodide: the session lock was held elsewhere for %g s; "
                           "going ahead without it", timeout)
        except Exception as err:
            self._failure("taking the session lock", err)
        return None

    def holding(self, timeout: float) -> "_Held":
        """Hold the origin-wide session lock for an ``async with`` block.

        The block gets whether another tab held the lock first (see ``settle``).
        Without Web Locks, or when another tab holds the lock past ``timeout`` (stuck),
        the block runs without it: refusals are verified before they are believed, so
        that costs at most an extra request, never the session.
        """
        return _Held(self, timeout)

    # -- what the client asks ------------------------------------------------------
    def adoptable(self, since_ms: int) -> "int | None":
        """The expiry of a refresh another tab finished at or after ``since_ms``, if any.

        A tab that waited while another refreshed adopts its result instead of
        spending the refresh token the other already used.
        """
        record = self.record()
        if (record is not None and record.expires is not None and record.at >= since_ms
                and record.writer != self._id):
            return record.expires
        if self._heard_refresh is not None and self._heard_refresh[0] >= since_ms:
            expires = self._heard_refresh[1]
            if _sane_expiry(expires, self._clock(), self._max_ahead):
                return expires
        return None

    def ended_since(self, since_ms: int) -> bool:
        """Whether a tab of the origin ended the session after ``since_ms``.

        Strictly after: what ended in the very millisecond a refresh began came first.
        """
        if self.ended_at > since_ms:
            return True
        record = self.record()
        return record is not None and record.ended and record.at > since_ms

    def known_expiry(self, user_id: "str | None") -> "int | None":
        """The live session's expiry as the record has it, if it is ``user_id``'s session."""
        record = self.record()
        if record is None or record.ended or user_id is None or record.user_id != user_id:
            return None
        return record.expires

    async def settle(self, since_ms: int, seconds: float = SETTLE_SECONDS) -> None:
        """After a wait for the lock: give the holder's news up to ``seconds`` to arrive.

        The lock's grant may reach this tab before the record the holder wrote or its
        message (WebKit's tabs are processes of their own): until either shows, a
        refresh here would spend the token the holder just rotated. Returns at once
        when a refresh or a sign-out since ``since_ms`` is known.
        """
        await self._poll(lambda: self.adoptable(since_ms) is not None
                         or self.ended_since(since_ms), seconds)

    async def wait_for_refresh(self, since_ms: int, seconds: float) -> "int | None":
        """Wait up to ``seconds`` for another tab's refresh finished since ``since_ms``."""
        return await self._poll(lambda: self.adoptable(since_ms), seconds)

    async def _poll(self, found: "Callable[[], T]", seconds: float) -> "T":
        """``found()``, asked again every ``POLL_SECONDS`` until it is truthy (an expiry is
        never 0) or ``seconds`` have passed."""
        deadline = self._clock() + seconds * 1000
        while True:
            value = found()
            if value or self._clock() >= deadline:
                return value
            await asyncio.sleep(POLL_SECONDS)

    def record_refresh(self, expires: int, user_id: "str | None") -> None:
        self._write(SessionRecord(self._clock(), expires, user_id, self._id))

    def record_end(self) -> None:
        self._write(SessionRecord(self._clock(), writer=self._id))

    def say_signed_in(self, user_id: str) -> bool:
        """A page of this tab shows ``user_id``, as the server just rendered it: note it for
        the other tabs and tell them, unless the record knows already. Whether it was news."""
        record = self.record()
        if record is not None and record.live and record.user_id == user_id:
            return False
        logger.debug("lucia_pyodide: telling the other tabs %s signed in (the record: %r)",
                     user_id, record)
        self._write(SessionRecord(self._clock(), None, user_id, self._id, live=True), CLAIM_KEY)
        self.announce(AuthEvent(SIGNED_IN), user_id)
        return True

    def announce(self, event: AuthEvent, user_id: "str | None" = None) -> None:
        """Tell the other tabs (they never hear their own messages)."""
        if not self.available:
            return
        try:
            self._tabs.post(encode_event(event, self._clock(), user_id))
        except Exception as err:
            self._failure("messaging other tabs", err)

    def close(self) -> None:
        try:
            self._tabs.close()
        except Exception as err:
            self._failure("closing the tab channel", err)
        self._started = self.available = False


class _Held:
    """``TabSync.holding()``: the session lock, taken on entry and let go on exit (if it was had)."""

    def __init__(self, sync: TabSync, timeout: float) -> None:
        self._sync, self._timeout = sync, timeout
        self._grant: LockGrant | None = None

    async def __aenter__(self) -> bool:
        """Whether another tab held the lock first."""
        self._grant = await self._sync.take_lock(self._timeout)
        waited = self._grant is not None and self._grant.waited
        logger.debug("lucia_pyodide: the session lock: %s",
                     "none" if self._grant is None else "waited for" if waited else "free")
        return waited

    async def __aexit__(self, *exc_info: object) -> None:
        grant, self._grant = self._grant, None
        if grant is not None:
            grant.release()
            logger.debug("lucia_pyodide: the session lock: let go")
