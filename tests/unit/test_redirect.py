"""Sign-out redirect targets, on CPython: same-origin passes, everything else is refused."""

from __future__ import annotations

import pytest

from lucia_pyodide import LuciaError, UnsafeRedirectError
from lucia_pyodide._redirect import check_redirect, origin_of

PAGE = "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    "target",
    ["/login", "/login?next=%2Fhome#top", "login", "./login", "../x", "?signed-out=1", "#bye",
     "http://127.0.0.1:8000/login", "HTTP://127.0.0.1:8000/x", "/a:b", "/%2e%2e/login"],
)
def test_same_origin_targets_pass(target: str) -> None:
    assert check_redirect(target, page_origin=PAGE) == target


UNSAFE_TARGETS = [
        "javascript:alert(1)", " JavaScript:alert(1)", "JAVASCRIPT:alert(1)",
        "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)",
        "//evil.example", "/\\evil.example", "\\\\evil.example", "\\/evil.example",
        "https://evil.example", "http://127.0.0.1.evil.example", "http://127.0.0.1:8001/",
        "https://127.0.0.1:8000/", "http://user@127.0.0.1:8000/", "http://evil.example@127.0.0.1:8000/",
        "java\tscript:alert(1)", "java\nscript:alert(1)", "\njavascript:alert(1)",
        "javascript\r:alert(1)", "/\t/evil.example", "\x00javascript:alert(1)",
        "javascript%3Aalert(1)", "%6Aavascript:alert(1)", "%2F%2Fevil.example",
        "%2f%5cevil.example", "", "x" * 3000, "ftp://127.0.0.1:8000/", "http:///login",
        "http://127.0.0.1:bad/",
]


@pytest.mark.parametrize("target", UNSAFE_TARGETS)
def test_unsafe_targets_are_refused(target: str) -> None:
    with pytest.raises(UnsafeRedirectError) as caught:
        check_redirect(target, page_origin=PAGE)
    assert caught.value.code == "UNSAFE_REDIRECT"
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, LuciaError)


def test_allow_list_adds_origins() -> None:
    target = "https://accounts.example/bye"
    with pytest.raises(UnsafeRedirectError):
        check_redirect(target, page_origin=PAGE)
    assert check_redirect(target, page_origin=PAGE, allowed_origins=["https://accounts.example"])


def test_without_a_page_only_relative_targets_pass() -> None:
    assert check_redirect("/login", page_origin=None) == "/login"
    with pytest.raises(UnsafeRedirectError):
        check_redirect("http://127.0.0.1:8000/login", page_origin=None)


def test_non_string_is_refused() -> None:
    with pytest.raises(UnsafeRedirectError, match="must be a string"):
        check_redirect(123, page_origin=PAGE)  # type: ignore[arg-type]


def test_origin_normalisation() -> None:
    assert origin_of("HTTPS://Example.COM:443/x") == "https://example.com"
    assert origin_of("http://[::1]:8000/") == "http://[::1]:8000"
    assert origin_of("javascript:alert(1)") is None
