"""``SessionRequests``: the two endpoints, in the order a session needs them.

A refresh whose refusal is verified before it is believed, a logout, the sign-out that
refreshes first when the access cookie is gone, and the clean-up of what a refresh
revived after another tab's sign-out. No events and no page state: the client
(``_client.LuciaClient``) holds the turn and the lock, and says what happened.
"""

import logging

from ._errors import (
    AUTH_INVALID_ACCESS_TOKEN,
    AUTH_INVALID_REFRESH_TOKEN,
    AUTH_NOT_AUTHENTICATED,
    LuciaError,
)
from ._tabs import now_ms

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Protocol

    from ._compat._protocols import Transport
    from ._tabs import TabSync

    class Settings(Protocol):
        """What the requests (and ``PageLife``'s looks) read of the client's configuration,
        at each request: a setting changed later applies from then on."""

        base_url: "str | None"
        refresh_url: str
        logout_url: str
        timeout: float
        headers: "Mapping[str, str]"
        verify_delay: float
        session_lifetime_ms: int

logger = logging.getLogger("lucia_pyodide")


class SessionRequests:
    """Refresh and logout requests for one client; ``user_id()`` names the page's user."""

    def __init__(self, settings: "Settings", transport: "Transport", sync: "TabSync",
                 user_id: "Callable[[], str | None]") -> None:
        self._settings, self._transport, self._sync, self._user_id = settings, transport, sync, user_id
        #: When (ms) a refresh request of ours last succeeded.
        self.refreshed_at = 0

    async def verified_refresh(self, started: int) -> "tuple[int, bool]":
        """A refresh, or another tab's since ``started``; a refusal is checked before it is believed.

        Whether the expiry was adopted from another tab comes with it. The refresh token
        may have been rotated by someone else a moment ago (another tab, a page load,
        another script): their cookies then hold a live token, so a refusal is retried
        once, after giving another tab ``verify_delay`` to report.
        """
        adopted = self._sync.adoptable(started)
        if adopted is not None:
            return adopted, True
        if self._sync.ended_since(started):
            raise LuciaError(AUTH_NOT_AUTHENTICATED, "refresh: another tab signed out meanwhile")
        delay = self._settings.verify_delay
        refusals: list[LuciaError] = []
        while len(refusals) < 2:
            try:
                return await self._send_refresh(started), False
            except LuciaError as err:
                if err.code != AUTH_INVALID_REFRESH_TOKEN:
                    raise
                refusals.append(err)
            # Someone else may have rotated the token a moment ago (or, without Web Locks,
            # retried at the same moment and won): adopt their result if it comes.
            adopted = await self._sync.wait_for_refresh(started, delay)
            if adopted is not None:
                return adopted, True
        raise LuciaError(
            AUTH_INVALID_REFRESH_TOKEN,
            f"{refusals[0].detail}, and again {delay:g} s later, with no other tab "
            "refreshing: the session is gone",
            status=refusals[-1].status,
        )

    async def _send_refresh(self, started: int) -> int:
        settings = self._settings
        logger.debug("lucia_pyodide: refresh: sent")
        response = await self._transport.post(
            settings.refresh_url, timeout=settings.timeout, headers=settings.headers
        )
        logger.debug("lucia_pyodide: refresh: answered %s", response.status)
        from ._responses import refresh_result  # noqa: PLC0415

        expires = refresh_result(
            response, now_ms=now_ms(), session_lifetime_ms=settings.session_lifetime_ms
        )
        self.refreshed_at = now_ms()
        if self._sync.ended_since(started):
            # Another tab signed out while this request was on its way: the cookies it
            # just set would revive the session, so sign-out wins.
            await self.end_revived_session()
            raise LuciaError(AUTH_NOT_AUTHENTICATED, "refresh: another tab signed out meanwhile")
        self._sync.record_refresh(expires, self._user_id())
        return expires

    async def logout(self) -> None:
        """One logout request: returns on success, else raises the ``LuciaError`` it means."""
        from ._responses import logout_result  # noqa: PLC0415

        settings = self._settings
        logger.debug("lucia_pyodide: logout: sent")
        response = await self._transport.post(
            settings.logout_url, timeout=settings.timeout, headers=settings.headers)
        logger.debug("lucia_pyodide: logout: answered %s", response.status)
        logout_result(response)

    async def end_revived_session(self) -> None:
        """Log out what a refresh that crossed another tab's sign-out may have revived."""
        logger.debug("lucia_pyodide: a refresh crossed a sign-out: ending what it revived")
        try:
            await self.logout()
        except LuciaError as err:  # nothing revived (no access token), or the network
            logger.info("lucia_pyodide: ending a revived session: %s", err)

    async def end_server_session(self, refreshed: "Callable[[int], None]") -> None:
        """End the browser's session on the server, whatever the page believes.

        With no access-token cookie but a live refresh token (a page load would revive
        the session from it), the session is refreshed first, its expiry handed to
        ``refreshed``, then ended. ``AUTH_NOT_AUTHENTICATED`` once the server refused
        both: there was no session at all.
        """
        try:
            return await self.logout()
        except LuciaError as err:
            if err.code != AUTH_INVALID_ACCESS_TOKEN:
                raise
        try:
            expires, _ = await self.verified_refresh(now_ms())
        except LuciaError as refused:
            if refused.code != AUTH_INVALID_REFRESH_TOKEN:
                raise
            raise LuciaError(
                AUTH_NOT_AUTHENTICATED,
                "no session to end: the server found no access token and refused the "
                f"refresh token ({refused.detail})",
                status=refused.status,
            ) from None
        refreshed(expires)
        await self.logout()
