"""check_user() inside real Pyodide and MicroPython: the server's route data, read in each.

The page was rendered signed out; the server now has a session for the browser: asking
it (``GET <page>/__data.json``, devalue's form) shows the user and says SIGNED_IN.
"""

from __future__ import annotations

from typing import Any

from .interpreters import run_in_pyodide_or_micropython


@run_in_pyodide_or_micropython
async def _check_user(selenium_lucia: Any, server_url: str) -> list[Any]:
    from lucia_testkit import client, new_session, session_cookies, set_page_data

    session = await new_session(server_url, "carol")
    set_page_data([{"type": "data", "data": {"_lucia": None}, "uses": {}}, None])
    checker = client(server_url, session_cookies(session))
    heard: list[Any] = []
    checker.on_change(lambda event: heard.append([event.type, event.remote,
                                                  event.user.user_id if event.user else None]))
    assert checker.get_user() is None  # as rendered
    shown = await checker.check_user()
    again = await checker.check_user()  # the same user: no event
    return [shown.attributes["username"] if shown else None, shown == again, heard,
            session["userId"]]


def test_check_user_reads_the_route_data_and_says_signed_in(selenium_lucia: Any, server_url: str) -> None:
    name, same, heard, user_id = _check_user(selenium_lucia, server_url)
    assert name == "carol" and same
    assert heard == [["SIGNED_IN", True, user_id]]
