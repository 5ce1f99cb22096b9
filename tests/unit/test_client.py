"""LuciaClient's own logic on CPython, with a scripted transport and page.

These check orchestration (caching, single flight, order of checks); the network
itself is tested for real inside Pyodide (tests/pyodide).
"""

from __future__ import annotations

import asyncio

import pytest

import lucia_pyodide
from lucia_pyodide import LuciaClient, LuciaError, UnsafeRedirectError
from lucia_pyodide._compat._protocols import HttpResponse

from .fakes import NO_ACCESS_TOKEN, PAGE_DATA, REFUSED, FakePage, ScriptedTransport


def test_user_is_read_once_and_cached() -> None:
    page = FakePage(PAGE_DATA)
    client = LuciaClient(page=page)
    assert client.get_user() is client.get_user()
    assert page.reads == 1


def test_script_tag_is_the_fallback() -> None:
    client = LuciaClient(page=FakePage(None, '{"userId": "s"}'))
    user = client.get_user()
    assert user is not None and user.user_id == "s"


def test_concurrent_refreshes_share_one_request() -> None:
    transport = ScriptedTransport(HttpResponse(200, '{"expires": 1700028800000}'),
                                  HttpResponse(200, '{"expires": 1700028900000}'), delay=0.01)
    client = LuciaClient(transport=transport, page=FakePage())

    async def scenario() -> tuple[list[int], int]:
        first = await asyncio.gather(*(client.refresh_session() for _ in range(100)))
        return first, await client.refresh_session()

    results, later = asyncio.run(scenario())
    assert results == [1700028800000] * 100
    assert later == 1700028900000  # after the shared one finished: a new request
    assert len(transport.calls) == 2


def test_concurrent_refreshes_share_one_error() -> None:
    transport = ScriptedTransport(REFUSED, REFUSED)
    client = LuciaClient(transport=transport, page=FakePage(), verify_delay=0)

    async def scenario() -> list[object]:
        return await asyncio.gather(*(client.refresh_session() for _ in range(10)),
                                    return_exceptions=True)

    errors = asyncio.run(scenario())
    assert all(isinstance(e, LuciaError) and e.code == "AUTH_INVALID_REFRESH_TOKEN" for e in errors)
    assert len(transport.calls) == 2  # refused, and refused again: believed


def test_one_caller_cancelling_does_not_cancel_the_others() -> None:
    transport = ScriptedTransport(HttpResponse(200, '{"expires": 1700028800000}'), delay=0.05)
    client = LuciaClient(transport=transport, page=FakePage())

    async def scenario() -> int:
        impatient = asyncio.ensure_future(client.refresh_session())
        patient = asyncio.ensure_future(client.refresh_session())
        await asyncio.sleep(0.01)
        impatient.cancel()
        return await patient

    assert asyncio.run(scenario()) == 1700028800000


def test_sign_out_order_of_checks() -> None:
    transport = ScriptedTransport(HttpResponse(200, ""), HttpResponse(200, ""))
    page = FakePage(PAGE_DATA)
    client = LuciaClient(transport=transport, page=page)
    with pytest.raises(UnsafeRedirectError):
        asyncio.run(client.sign_out("javascript:alert(1)"))
    assert transport.calls == [] and client.get_user() is not None  # nothing lost
    asyncio.run(client.sign_out("/login"))
    assert transport.calls == ["/api/auth/logout"]
    assert client.get_user() is None and page.navigated == ["/login"]
    asyncio.run(client.sign_out())  # signed out here, but the server is asked all the same
    assert transport.calls == ["/api/auth/logout"] * 2


def test_sign_out_with_no_session_anywhere_says_so_after_asking() -> None:
    transport = ScriptedTransport(NO_ACCESS_TOKEN, REFUSED, REFUSED)
    page = FakePage(None)
    client = LuciaClient(transport=transport, page=page, verify_delay=0)
    with pytest.raises(LuciaError) as caught:
        asyncio.run(client.sign_out("/login"))
    assert caught.value.code == "AUTH_NOT_AUTHENTICATED"
    assert "refused the refresh token" in caught.value.detail
    assert transport.calls == ["/api/auth/logout"] + ["/api/auth/refresh-session"] * 2
    assert page.navigated == []


@pytest.mark.parametrize("failure", [HttpResponse(502, "<html>bad gateway</html>"),
                                     HttpResponse(500, '{"message":"DATABASE_UPDATE_FAILED"}')])
def test_failed_sign_out_keeps_the_user_and_does_not_navigate(failure: HttpResponse) -> None:
    transport = ScriptedTransport(failure)
    page = FakePage(PAGE_DATA)
    client = LuciaClient(transport=transport, page=page)
    with pytest.raises(LuciaError):
        asyncio.run(client.sign_out("/login"))
    assert client.get_user() is not None and page.navigated == []


def test_base_url_and_paths() -> None:
    client = LuciaClient("http://127.0.0.1:9/app/", refresh_path="auth/refresh", page=FakePage())
    assert client.refresh_url == "http://127.0.0.1:9/app/auth/refresh"
    assert client.logout_url == "http://127.0.0.1:9/api/auth/logout"


@pytest.mark.parametrize("options", [{"timeout": 0}, {"timeout": -1}, {"session_lifetime_ms": 0},
                                     {"verify_delay": -1}])
def test_bad_options_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        LuciaClient(**options)  # type: ignore[arg-type]


def test_import_has_no_side_effects_and_cpython_cannot_fetch() -> None:
    lucia_pyodide.reset_default_client()
    assert lucia_pyodide.get_user() is None  # CPython: no page
    with pytest.raises(LuciaError, match="needs Pyodide"):
        asyncio.run(lucia_pyodide.refresh_session())
    lucia_pyodide.reset_default_client()


@pytest.mark.parametrize(("context", "says"), [("page", "is the server rendering"),
                                               ("worker", "web worker"), ("no browser", "no page")])
def test_no_user_data_says_why_once(context: str, says: str, caplog: pytest.LogCaptureFixture) -> None:
    client = LuciaClient(page=FakePage(None, None, context))
    assert client.get_user() is None and client.get_user() is None
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and says in warnings[0] and says in client.user_reason


def test_require_user_passes_a_signed_in_user_and_sends_the_others_to_sign_in() -> None:
    signed_in = FakePage(PAGE_DATA)
    user = LuciaClient(page=signed_in).require_user("/login")
    assert user is not None and user.user_id == "u1" and signed_in.navigated == []
    signed_out = FakePage('[{"data": {"_lucia": null}}]')
    assert LuciaClient(page=signed_out).require_user("/login") is None
    assert signed_out.navigated == ["/login?next=%2Faccount%3Ftab%3Dkeys"]  # and back after
    plain = FakePage(None)
    LuciaClient(page=plain).require_user("/auth/sign-in?lang=en#top", next_param=None)
    LuciaClient(page=plain).require_user("/auth/sign-in?lang=en#top")
    assert plain.navigated == ["/auth/sign-in?lang=en#top",
                               "/auth/sign-in?lang=en&next=%2Faccount%3Ftab%3Dkeys#top"]


@pytest.mark.parametrize("target", ["https://evil.example/login", "javascript:alert(1)", "//evil"])
def test_require_user_refuses_an_unsafe_sign_in_page_before_anything(target: str) -> None:
    page = FakePage(None)
    with pytest.raises(UnsafeRedirectError):
        LuciaClient(page=page).require_user(target)
    assert page.navigated == [] and page.reads == 0


def test_require_user_on_corrupt_page_data_raises_rather_than_redirects() -> None:
    page = FakePage("{not json")
    with pytest.raises(LuciaError, match="AUTH_INVALID_USER_DATA"):
        LuciaClient(page=page).require_user()
    assert page.navigated == []
