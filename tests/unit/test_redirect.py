"""Sign-out redirect targets, on CPython: same-origin passes, everything else is refused."""

from __future__ import annotations

from urllib.parse import quote as urllib_quote
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lucia_pyodide import LuciaError, UnsafeRedirectError
from lucia_pyodide._redirect import check_redirect, decode_escapes, join, origin_of, quote

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


# -- the URL helpers written for both interpreters agree with urllib ---------------------

_HOSTS = st.sampled_from(["example.com", "EXAMPLE.com", "a.b", "127.0.0.1", "[::1]", "[2001:DB8::1]",
                          "xn--bcher-kva.example", "h"])
_PORTS = st.sampled_from(["", ":80", ":443", ":8080", ":0", ":65535", ":65536", ":x", ":", ":-1"])


def _reference_origin(url: str) -> str | None:
    """What origin_of computed with urllib.parse before it was written out."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == {"http": 80, "https": 443}[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


@given(st.sampled_from(["http", "https", "HTTP", "ftp", "javascript"]), st.sampled_from(["", "user@"]),
       _HOSTS, _PORTS, st.sampled_from(["", "/", "/p?q#f", "?x", "#y", "/a@b"]))
def test_origin_of_agrees_with_urllib(scheme: str, auth: str, host: str, port: str, rest: str) -> None:
    url = f"{scheme}://{auth}{host}{port}{rest}"
    assert origin_of(url) == _reference_origin(url), url


@given(st.text(alphabet="%2Fa/:\\5C6A0123456789ABCDEFabcdefxyz", max_size=30))
def test_decode_escapes_finds_what_unquote_finds(text: str) -> None:
    # Where the escapes are ASCII both decode alike (all the check needs to see).
    if all(ord(c) < 128 for c in unquote(text)):
        assert decode_escapes(text) == unquote(text)


@given(st.text(max_size=40))
def test_quote_agrees_with_urllib(text: str) -> None:
    assert quote(text) == urllib_quote(text, safe="")
    assert quote(text, safe="/") == urllib_quote(text, safe="/")


@pytest.mark.parametrize("base", ["https://app.example", "https://app.example/", "http://h:8000/sub/page",
                                  "https://APP.example/x?y#z"])
@pytest.mark.parametrize("path", ["/api/auth/refresh-session", "api/auth/logout",
                                  "https://other.example/x", "//cdn.example/y"])
def test_join_agrees_with_urljoin(base: str, path: str) -> None:
    expected = urljoin(base, path)
    if path.startswith("/") and not path.startswith("//"):
        expected = expected.replace("APP.example", "app.example")  # the origin, normalised
    assert join(base, path) == expected
