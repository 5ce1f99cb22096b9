"""The client under a misbehaving server, in real Pyodide (Node and Chromium).

Each fault is a real HTTP answer (or non-answer) from the reference server's
``/__test__/fault/<kind>`` endpoints; the client is pointed at them as its
refresh and logout paths. Every failure must be a LuciaError with the right code
and a telling detail, and none may hang past the timeout.
"""

from __future__ import annotations

from typing import Any

from .interpreters import run_in_pyodide_or_micropython

#: fault kind -> (code, text the detail must contain)
FAULTS = {
    "html500": ("UNKNOWN_ERROR", "HTTP 500 with '<html>"),
    "empty502": ("UNKNOWN_ERROR", "HTTP 502 with an empty body"),
    "garbage200": ("UNKNOWN_ERROR", "not JSON"),
    "expires-string": ("UNKNOWN_ERROR", "expected {\"expires\""),
    "expires-negative": ("UNKNOWN_ERROR", "expected {\"expires\""),
    "expires-huge": ("UNKNOWN_ERROR", "expected {\"expires\""),
    "json-null": ("UNKNOWN_ERROR", "expected {\"expires\""),
    "notfound404": ("UNKNOWN_ERROR", "HTTP 404"),
    "db-fetch": ("DATABASE_FETCH_FAILED", "HTTP 500"),
    "db-update": ("DATABASE_UPDATE_FAILED", "HTTP 500"),
    "unknown": ("UNKNOWN_ERROR", "HTTP 500"),
    "redirect": ("UNKNOWN_ERROR", "redirect"),
    "reset": ("UNKNOWN_ERROR", "network error"),
    "hang": ("REQUEST_TIMEOUT", "within 1 s"),
    "hang-body": ("REQUEST_TIMEOUT", "within 1 s"),
}


@run_in_pyodide_or_micropython
async def _call_faults(selenium_lucia: Any, server_url: str, kinds: list[str],
                       timeout: float) -> list[list[Any]]:
    import time

    from lucia_testkit import client, set_page_data

    from lucia_pyodide import LuciaError

    results = []
    for kind in kinds:
        for call in ("refresh", "logout"):
            set_page_data([{"data": {"_lucia": {"userId": "u"}}}])
            path = f"/__test__/fault/{kind}"
            lucia = client(server_url, None, timeout=timeout, refresh_path=path, logout_path=path)
            started = time.time()
            try:
                if call == "refresh":
                    await lucia.refresh_session()
                else:
                    await lucia.sign_out()
                outcome = ["NO ERROR", ""]
            except LuciaError as err:
                outcome = [err.code, err.detail]
            except BaseException as err:
                outcome = ["ESCAPED", repr(err)]
            results.append([kind, call] + outcome + [time.time() - started])
    return results


def test_every_server_fault_is_a_specific_lucia_error(selenium_lucia: Any, server_url: str) -> None:
    kinds = [k for k in FAULTS if not k.startswith("hang")]
    for kind, call, code, detail, _ in _call_faults(selenium_lucia, server_url, kinds, 10.0):
        expected_code, expected_detail = FAULTS[kind]
        if call == "logout" and kind.startswith(("expires", "garbage", "json-null")):
            assert code == "NO ERROR", (kind, call, detail)  # logout ignores a 2xx body
            continue
        assert code == expected_code, (kind, call, code, detail)
        assert expected_detail in detail, (kind, call, detail)


def test_a_server_that_never_answers_times_out(selenium_lucia: Any, server_url: str) -> None:
    for kind, call, code, detail, elapsed in _call_faults(
        selenium_lucia, server_url, ["hang", "hang-body"], 1.0
    ):
        assert (code, FAULTS[kind][1] in detail) == ("REQUEST_TIMEOUT", True), (kind, call, detail)
        assert elapsed < 1.0 + 4.0, (kind, call, elapsed)  # timeout + a margin for a busy machine


def test_slow_success_inside_the_timeout(selenium_lucia: Any, server_url: str) -> None:
    [refresh, logout] = _call_faults(selenium_lucia, server_url, ["slow"], 5.0)
    assert refresh[2] == "NO ERROR" and logout[2] == "NO ERROR"


@run_in_pyodide_or_micropython
async def _connection_refused(selenium_lucia: Any) -> list[str]:
    from lucia_pyodide import LuciaClient, LuciaError

    lucia = LuciaClient("http://127.0.0.1:9/", timeout=5)  # the discard port: nothing listens
    try:
        await lucia.refresh_session()
    except LuciaError as err:
        return [err.code, err.detail]
    return ["NO ERROR", ""]


def test_connection_refused(selenium_lucia: Any) -> None:
    code, detail = _connection_refused(selenium_lucia)
    assert code == "UNKNOWN_ERROR" and "network error" in detail


@run_in_pyodide_or_micropython
async def _hundred_at_once(selenium_lucia: Any, server_url: str) -> list[Any]:
    import asyncio

    from lucia_testkit import client, new_session, session_cookies

    from lucia_pyodide import LuciaError

    session = await new_session(server_url, "crowd")
    lucia = client(server_url, session_cookies(session))
    results = await asyncio.gather(*(lucia.refresh_session() for _ in range(100)),
                                   return_exceptions=True)
    codes = sorted({r.code if isinstance(r, LuciaError) else type(r).__name__ for r in results})
    # After the shared request finished, a new call makes a new request.
    if session_cookies(session) is None:  # the browser holds the rotated cookie
        await lucia.refresh_session()
    return [codes, len({r for r in results if isinstance(r, int)})]


def test_hundred_concurrent_refreshes_make_one_request(
    selenium_lucia: Any, server_url: str, stats: Any
) -> None:
    codes, distinct = _hundred_at_once(selenium_lucia, server_url)
    assert codes == ["int"] and distinct == 1  # all succeed with the same expiry
    expected = 2 if selenium_lucia.browser == "chrome" else 1
    assert stats()["POST /api/auth/refresh-session"] == expected


def test_every_canned_fault_is_served_by_the_server() -> None:
    from refserver.testapi import FAULTS as SERVER_FAULTS

    assert set(FAULTS) - {"redirect", "reset", "hang", "hang-body"} <= set(SERVER_FAULTS)
