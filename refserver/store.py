"""Users, sessions and refresh tokens in SQLite, as lucia-sveltekit 0.10 keeps them."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import string
import threading
import time
import uuid
from dataclasses import dataclass

_ALPHANUMERIC = string.ascii_letters + string.digits
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def new_token(prefix: str) -> str:
    """``at_``/``rt_`` + 40 random alphanumerics, as Lucia makes them."""
    return prefix + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(40))


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _, salt, digest = stored.split("$")
        actual = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), **_SCRYPT)
    except ValueError:
        return False
    return hmac.compare_digest(actual.hex(), digest)


@dataclass(frozen=True)
class Session:
    access_token: str
    refresh_token: str
    expires_ms: int
    user_id: str


class Store:
    """Thread-safe (one lock) access to the auth tables."""

    def __init__(self, path: str = ":memory:", session_lifetime_s: float = 8 * 3600) -> None:
        self.session_lifetime_s = session_lifetime_s
        # An unknown user is checked against this, so that refusing one costs what refusing
        # a wrong password costs (one scrypt), and timing does not tell which names exist.
        self._decoy = hash_password(secrets.token_hex(8))
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS users (
                id TEXT PRIMARY KEY, username TEXT UNIQUE NOT NULL, hashed_password TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS sessions (
                access_token TEXT PRIMARY KEY, user_id TEXT NOT NULL, expires INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS refresh_tokens (
                refresh_token TEXT PRIMARY KEY, user_id TEXT NOT NULL);
            """
        )

    def create_user(self, username: str, password: str) -> str:
        """Create a user; raises ``KeyError`` if the name is taken."""
        user_id = str(uuid.uuid4())
        hashed = hash_password(password)
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO users VALUES (?, ?, ?)", (user_id, username, hashed)
                )
            except sqlite3.IntegrityError:
                raise KeyError(username) from None
        return user_id

    def authenticate(self, username: str, password: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, hashed_password FROM users WHERE username = ?", (username,)
            ).fetchone()
        if row is None:
            verify_password(password, self._decoy)  # one scrypt, as for a wrong password
            return None
        return str(row[0]) if verify_password(password, row[1]) else None

    def user(self, user_id: str) -> dict[str, str] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, username FROM users WHERE id = ?", (user_id,)
            ).fetchone()
        return {"userId": row[0], "username": row[1]} if row else None

    def create_session(self, user_id: str) -> Session:
        access, refresh = new_token("at_"), new_token("rt_")
        expires = int((time.time() + self.session_lifetime_s) * 1000)
        with self._lock:
            self._db.execute("INSERT INTO sessions VALUES (?, ?, ?)", (access, user_id, expires))
            self._db.execute("INSERT INTO refresh_tokens VALUES (?, ?)", (refresh, user_id))
        return Session(access, refresh, expires, user_id)

    def session_user(self, access_token: str) -> tuple[str, int] | None:
        """The user and expiry (ms) of a live session, or ``None`` (unknown or expired)."""
        with self._lock:
            row = self._db.execute(
                "SELECT user_id, expires FROM sessions WHERE access_token = ?", (access_token,)
            ).fetchone()
        if row is None or row[1] <= time.time() * 1000:
            return None
        return str(row[0]), int(row[1])

    def use_refresh_token(self, refresh_token: str) -> str | None:
        """Delete a refresh token (single use) and return its user, or ``None`` if unknown."""
        with self._lock:
            row = self._db.execute(
                "DELETE FROM refresh_tokens WHERE refresh_token = ? RETURNING user_id",
                (refresh_token,),
            ).fetchone()
        return str(row[0]) if row else None

    def delete_session(self, access_token: str, refresh_token: str | None) -> None:
        with self._lock:
            self._db.execute("DELETE FROM sessions WHERE access_token = ?", (access_token,))
            if refresh_token:
                self._db.execute(
                    "DELETE FROM refresh_tokens WHERE refresh_token = ?", (refresh_token,)
                )
