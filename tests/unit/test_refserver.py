"""The reference server speaks PROTOCOL.md: checked over real HTTP on 127.0.0.1 (CPython)."""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

import refserver.store as store_module
from lucia_pyodide._user import read_route_data
from refserver.server import App, Config, start_in_thread
from refserver.store import Store


@pytest.fixture
def server() -> Iterator[tuple[App, str]]:
    app = App(Store(session_lifetime_s=3600), Config(test_api=True))
    httpd = start_in_thread(app)
    host, port = httpd.server_address[:2]
    yield app, f"{host}:{port}"
    httpd.shutdown()
    httpd.server_close()


def request(netloc: str, method: str, path: str, *, body: str = "", origin: str | None = "same",
            cookies: dict[str, str] | None = None,
            content_type: str = "application/x-www-form-urlencoded") -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection(netloc, timeout=10)
    headers = {"Content-Type": content_type}
    if origin:
        headers["Origin"] = f"http://{netloc}" if origin == "same" else origin
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    conn.request(method, path, body=body.encode(), headers=headers)
    response = conn.getresponse()
    response.read_body = response.read()  # type: ignore[attr-defined]
    return response


def set_cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in response.headers.get_all("Set-Cookie") or []}


def sign_in(netloc: str, username: str = "demo", password: str = "demo-password") -> dict[str, str]:
    response = request(netloc, "POST", "/login", body=f"username={username}&password={password}")
    assert response.status == 303 and response.headers["Location"] == "/"
    return {name: header.split(";")[0].split("=", 1)[1]
            for name, header in set_cookies(response).items()}


@pytest.fixture
def demo(server: tuple[App, str]) -> str:
    app, netloc = server
    app.store.create_user("demo", "demo-password")
    return netloc


def test_sign_in_sets_both_cookies_as_lucia_does(demo: str) -> None:
    response = request(demo, "POST", "/login", body="username=demo&password=demo-password")
    cookies = set_cookies(response)
    access, refresh = cookies["access_token"], cookies["refresh_token"]
    assert re.match(r"access_token=at_[A-Za-z0-9]{40}; Path=/; HttpOnly; SameSite=Lax$", access)
    assert re.match(r"refresh_token=rt_[A-Za-z0-9]{40}; .*Max-Age=525600", refresh)
    assert "HttpOnly" in refresh and "SameSite=Lax" in refresh


def test_wrong_password_is_a_clear_message(demo: str) -> None:
    """Back to the sign-in page by a redirect (a reload does not post again), the name kept."""
    response = request(demo, "POST", "/login", body="username=demo&password=nope&next=/app-py")
    assert response.status == 303 and not set_cookies(response)
    page = request(demo, "GET", response.headers["Location"]).read_body.decode()  # type: ignore[attr-defined]
    assert "Wrong username or password." in page
    assert 'id="login-username" name="username" autocomplete="username" value="demo"' in page
    assert 'name="next" value="/app-py"' in page and "nope" not in page


@pytest.mark.parametrize(("body", "says"), [("username=demo&password=longenough", "is taken"),
                                            ("username=x&password=short", "8+ characters")])
def test_sign_up_errors_show_in_the_sign_up_card(demo: str, body: str, says: str) -> None:
    response = request(demo, "POST", "/signup", body=body)
    assert response.status == 303 and not set_cookies(response)
    page = request(demo, "GET", response.headers["Location"]).read_body.decode()  # type: ignore[attr-defined]
    card = page[page.index('id="signup"'):]
    assert says in card and 'id="message" role="alert" hidden' in page
    assert 'id="signup-username" name="username"' in card


def test_hostile_query_on_the_sign_in_page_stays_text(demo: str) -> None:
    page = request(demo, "GET", "/login?error=wrong&username=%22%3E%3Cscript%3Ex&next=//evil")
    text = page.read_body.decode()  # type: ignore[attr-defined]
    assert "<script>x" not in text and 'name="next" value="/"' in text


def test_refresh_rotates_single_use_tokens(demo: str) -> None:
    tokens = sign_in(demo)
    first = request(demo, "POST", "/api/auth/refresh-session", cookies=tokens)
    assert first.status == 200
    assert json.loads(first.read_body)["expires"] > 0  # type: ignore[attr-defined]
    new = set_cookies(first)
    assert "Expires=" in new["access_token"] and len(new["refresh_token"].split(";")[0]) == len(
        "refresh_token=") + 43
    again = request(demo, "POST", "/api/auth/refresh-session", cookies=tokens)
    assert again.status == 500
    assert again.headers["Content-Type"].startswith("text/plain")
    assert json.loads(again.read_body) == {"message": "AUTH_INVALID_REFRESH_TOKEN"}  # type: ignore[attr-defined]


def test_empty_refresh_body_setting(server: tuple[App, str], demo: str) -> None:
    server[0].config.refresh_body = "empty"
    response = request(demo, "POST", "/api/auth/refresh-session", cookies=sign_in(demo))
    assert response.status == 200 and response.read_body == b""  # type: ignore[attr-defined]
    assert "Content-Type" not in response.headers


@pytest.mark.parametrize("origin", [None, "http://evil.example", "null"])
def test_csrf_check_comes_first(demo: str, origin: str | None) -> None:
    for path in ("/api/auth/refresh-session", "/api/auth/logout"):
        response = request(demo, "POST", path, origin=origin, cookies=sign_in(demo))
        assert response.status == 500
        assert json.loads(response.read_body) == {"message": "AUTH_INVALID_REQUEST"}  # type: ignore[attr-defined]


def test_logout(demo: str) -> None:
    tokens = sign_in(demo)
    response = request(demo, "POST", "/api/auth/logout", cookies=tokens)
    assert response.status == 200 and response.read_body == b""  # type: ignore[attr-defined]
    assert all("Max-Age=0" in c for c in set_cookies(response).values())
    refused = request(demo, "POST", "/api/auth/refresh-session", cookies=tokens)
    assert json.loads(refused.read_body)["message"] == "AUTH_INVALID_REFRESH_TOKEN"  # type: ignore[attr-defined]
    unknown = request(demo, "POST", "/api/auth/logout", cookies={"access_token": "at_unknown"})
    assert unknown.status == 200  # only presence is checked
    missing = request(demo, "POST", "/api/auth/logout")
    assert json.loads(missing.read_body) == {"message": "AUTH_INVALID_ACCESS_TOKEN"}  # type: ignore[attr-defined]


def test_page_hydrates_both_ways(demo: str) -> None:
    tokens = sign_in(demo)
    page = request(demo, "GET", "/", cookies=tokens).read_body.decode()  # type: ignore[attr-defined]
    data = re.search(r"window\._lucia_page_data = (.*?);</script>", page)
    assert data is not None
    nodes = json.loads(data.group(1))
    assert nodes[0]["data"]["_lucia"]["username"] == "demo" and nodes[1] is None
    page = request(demo, "GET", "/?hydration=script", cookies=tokens).read_body.decode()  # type: ignore[attr-defined]
    tag = re.search(r'<script type="application/json" id="lucia-user">(.*?)</script>', page)
    assert tag is not None and json.loads(tag.group(1))["username"] == "demo"
    signed_out = request(demo, "GET", "/").read_body.decode()  # type: ignore[attr-defined]
    assert '"_lucia":null' in signed_out


def test_hostile_username_cannot_break_out_of_the_script(server: tuple[App, str]) -> None:
    app, netloc = server
    app.store.create_user("</script><script>alert(1)</script>", "password1")
    response = request(netloc, "POST", "/login",
                       body="username=%3C%2Fscript%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E"
                            "&password=password1")
    tokens = {n: h.split(";")[0].split("=", 1)[1] for n, h in set_cookies(response).items()}
    for mode in ("sveltekit", "script"):
        page = request(netloc, "GET", f"/?hydration={mode}", cookies=tokens).read_body.decode()  # type: ignore[attr-defined]
        assert "<script>alert(1)" not in page
        assert "\\u003c/script\\u003e" in page


def test_expired_session_is_renewed_from_the_refresh_token_on_page_load(
    server: tuple[App, str], demo: str
) -> None:
    tokens = sign_in(demo)
    server[0].store._db.execute("UPDATE sessions SET expires = 0")
    response = request(demo, "GET", "/", cookies=tokens)
    assert '"username":"demo"' in response.read_body.decode()  # type: ignore[attr-defined]
    assert "Expires=" not in set_cookies(response)["access_token"]  # a browser-session cookie


def test_page_load_without_an_access_cookie_reissues_both_from_the_refresh_token(demo: str) -> None:
    """As lucia-sveltekit 0.10.1's server load: the session survives an expired access cookie."""
    tokens = sign_in(demo)
    response = request(demo, "GET", "/", cookies={"refresh_token": tokens["refresh_token"]})
    assert '"username":"demo"' in response.read_body.decode()  # type: ignore[attr-defined]
    issued = set_cookies(response)
    assert set(issued) == {"access_token", "refresh_token"}
    assert tokens["refresh_token"] not in issued["refresh_token"]  # rotated: the old one is used up
    again = request(demo, "POST", "/api/auth/refresh-session", cookies=tokens)
    assert json.loads(again.read_body)["message"] == "AUTH_INVALID_REFRESH_TOKEN"  # type: ignore[attr-defined]


def test_page_load_with_dead_tokens_blanks_them(demo: str) -> None:
    response = request(demo, "GET", "/", cookies={"access_token": "at_gone",
                                                  "refresh_token": "rt_" + "x" * 40})
    assert '"_lucia":null' in response.read_body.decode()  # type: ignore[attr-defined]
    assert all("Max-Age=0" in c for c in set_cookies(response).values())
    assert set(set_cookies(response)) == {"access_token", "refresh_token"}
    untouched = request(demo, "GET", "/")  # no token cookies at all: nothing to blank
    assert set_cookies(untouched) == {}


@pytest.mark.parametrize("target", ["/\r\nSet-Cookie: evil=1", "/\\evil.example", "//evil.example",
                                    "https://evil.example/", "/%2F%2Fevil.example", "javascript:x"])
def test_sign_in_next_stays_on_this_site(demo: str, target: str) -> None:
    response = request(demo, "POST", "/login",
                       body=f"username=demo&password=demo-password&next={quote(target)}")
    assert response.status == 303 and response.headers["Location"] == "/"
    assert "evil" not in str(response.headers)


def test_sign_in_next_to_a_page_of_this_site(demo: str) -> None:
    response = request(demo, "POST", "/login", body="username=demo&password=demo-password&next=/app-py")
    assert response.headers["Location"] == "/app-py"


@pytest.mark.parametrize("form", ["/login", "/signup"])
@pytest.mark.parametrize("origin", ["http://evil.example", None])
def test_forms_refuse_other_sites(demo: str, form: str, origin: str | None) -> None:
    """Login CSRF: a foreign page must not sign the browser in to the attacker's account."""
    response = request(demo, "POST", form, body="username=demo&password=demo-password",
                       origin=origin)
    assert response.status == 403 and not set_cookies(response)


def test_a_malformed_request_gets_a_400(demo: str) -> None:
    conn = http.client.HTTPConnection(demo, timeout=10)
    conn.putrequest("POST", "/api/auth/refresh-session")
    conn.putheader("Content-Length", "lots")
    conn.putheader("Origin", f"http://{demo}")
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 400 and b"Content-Length" in response.read()


def test_an_unknown_user_costs_what_a_wrong_password_costs(server: tuple[App, str]) -> None:
    """One scrypt either way (counted, not timed: timings belong to benchmarks)."""
    app, _ = server
    app.store.create_user("known", "password1")
    calls: list[str] = []
    real = store_module.hashlib.scrypt

    def counting(*args: object, **kwargs: object) -> bytes:
        calls.append("scrypt")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    store_module.hashlib.scrypt = counting  # type: ignore[assignment]
    try:
        assert app.store.authenticate("known", "wrong") is None
        wrong_password = len(calls)
        calls.clear()
        assert app.store.authenticate("nobody", "wrong") is None
        unknown_user = len(calls)
    finally:
        store_module.hashlib.scrypt = real
    assert wrong_password == unknown_user == 1


def test_a_mounted_page_of_your_own_gets_the_user_rendered_in(
        server: tuple[App, str], demo: str, tmp_path: Path) -> None:
    app, _ = server
    (tmp_path / "index.html").write_text("<html><head><title>mine</title></head><body></body></html>")
    (tmp_path / "marked.html").write_text("<p>before</p><!--lucia:hydration--><p>after</p>")
    (tmp_path / "app.py").write_text("print('static')")
    app.mounts.insert(0, ("/mine", tmp_path))
    tokens = sign_in(demo)
    index = request(demo, "GET", "/mine/?hydration=script", cookies=tokens).read_body.decode()  # type: ignore[attr-defined]
    tag = re.search(r'<script type="application/json" id="lucia-user">(.*?)</script></head>', index)
    assert tag is not None and json.loads(tag.group(1))["username"] == "demo"
    marked = request(demo, "GET", "/mine/marked.html", cookies=tokens).read_body.decode()  # type: ignore[attr-defined]
    assert re.fullmatch(r"<p>before</p><script>window\._lucia_page_data = .*;</script><p>after</p>", marked)
    assert '"_lucia":null' in request(demo, "GET", "/mine/marked.html").read_body.decode()  # type: ignore[attr-defined]
    static = request(demo, "GET", "/mine/app.py", cookies=tokens)
    assert static.read_body == b"print('static')"  # type: ignore[attr-defined]
    assert request(demo, "GET", "/mine/../store.py").status == 404


def test_route_data_says_who_a_reload_shows_and_pages_stay_out_of_caches(demo: str) -> None:
    signed_out = request(demo, "GET", "/__data.json")
    assert signed_out.status == 200 and signed_out.headers["Content-Type"] == "application/json"
    assert signed_out.headers["Cache-Control"] == "private, no-store"
    assert read_route_data(signed_out.read_body.decode()) == (None, None)  # type: ignore[attr-defined]
    cookies = sign_in(demo)
    answer = request(demo, "GET", "/app-py/__data.json", cookies=cookies)
    user, _ = read_route_data(answer.read_body.decode())  # type: ignore[attr-defined]
    assert user is not None and user.attributes["username"] == "demo"
    assert request(demo, "GET", "/", cookies=cookies).headers["Cache-Control"] == "private, no-store"
    assert request(demo, "GET", "/nowhere/__data.json").status == 404
