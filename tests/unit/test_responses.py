"""Mapping HTTP answers to results and errors, on CPython."""

from __future__ import annotations

import pytest

from lucia_pyodide import LuciaError
from lucia_pyodide._compat._protocols import HttpResponse
from lucia_pyodide._responses import logout_result, refresh_result

NOW = 1_700_000_000_000


def refresh(status: int, body: str, redirected_to: str | None = None) -> int:
    return refresh_result(HttpResponse(status, body, redirected_to), now_ms=NOW,
                          session_lifetime_ms=1000)


def test_refresh_json_expiry() -> None:
    assert refresh(200, '{"expires": 1700028800000}') == 1700028800000
    assert refresh(200, '{"expires": 1700028800000.0}') == 1700028800000


@pytest.mark.parametrize("body", ["", "  \n"])
def test_refresh_empty_body_is_now_plus_lifetime(body: str) -> None:
    assert refresh(200, body) == NOW + 1000


@pytest.mark.parametrize(
    ("status", "body", "code", "detail"),
    [
        (500, '{"message":"AUTH_INVALID_REFRESH_TOKEN"}', "AUTH_INVALID_REFRESH_TOKEN", "HTTP 500"),
        (500, '{"message":"DATABASE_UPDATE_FAILED"}', "DATABASE_UPDATE_FAILED", "HTTP 500"),
        (500, "<html>oops</html>", "UNKNOWN_ERROR", "'<html>oops</html>'"),
        (502, "", "UNKNOWN_ERROR", "HTTP 502 with an empty body"),
        (404, "Not Found", "UNKNOWN_ERROR", "HTTP 404"),
        (500, '{"message": "<script>"}', "UNKNOWN_ERROR", "not a {\"message\": CODE}"),
        (500, '{"message": 5}', "UNKNOWN_ERROR", "HTTP 500"),
        (200, "garbage", "UNKNOWN_ERROR", "not JSON"),
        (200, '{"expires": "soon"}', "UNKNOWN_ERROR", "expected {\"expires\""),
        (200, '{"expires": -1}', "UNKNOWN_ERROR", "expected"),
        (200, '{"expires": 1e300}', "UNKNOWN_ERROR", "expected"),
        (200, '{"expires": 99999999999999999999}', "UNKNOWN_ERROR", "expected"),
        (200, '{"expires": true}', "UNKNOWN_ERROR", "expected"),
        (200, '{"expires": 1700028800000.5}', "UNKNOWN_ERROR", "expected"),
        (200, "null", "UNKNOWN_ERROR", "expected"),
        (303, "", "UNKNOWN_ERROR", "redirect"),
    ],
)
def test_refresh_failures(status: int, body: str, code: str, detail: str) -> None:
    with pytest.raises(LuciaError) as caught:
        refresh(status, body)
    assert caught.value.code == code
    assert detail in caught.value.detail
    assert caught.value.status == status


def test_opaque_redirect_is_an_error_even_with_status_0() -> None:
    with pytest.raises(LuciaError, match="redirect to a hidden location"):
        refresh(0, "", "a hidden location")


def test_long_bodies_are_cut_in_details() -> None:
    with pytest.raises(LuciaError) as caught:
        refresh(500, "x" * 10_000)
    assert len(caught.value.detail) < 200


def test_logout() -> None:
    logout_result(HttpResponse(200, ""))
    with pytest.raises(LuciaError) as caught:
        logout_result(HttpResponse(500, '{"message":"AUTH_INVALID_ACCESS_TOKEN"}'))
    assert caught.value.code == "AUTH_INVALID_ACCESS_TOKEN"
    assert str(caught.value) == "AUTH_INVALID_ACCESS_TOKEN: logout: HTTP 500"
