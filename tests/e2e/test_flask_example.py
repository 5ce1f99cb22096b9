"""The Flask example app (examples/flask_app) with the client, end to end in Chromium.

Sign in through Flask's form, see the user the Flask page rendered (a hostile name
stays text), refresh, sign out, and a reload is signed out: the protocol in
PROTOCOL.md, implemented by a real Python web framework, and lucia_pyodide against it.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

from .conftest import ROOT, open_booted, wait_for
from .test_demo import requested_hosts, submit

sys.path.insert(0, str(ROOT / "examples" / "flask_app"))
from server import Sessions, create_app

HOSTILE = "</script><b>mallory</b>"


@pytest.fixture(scope="module")
def flask_url() -> Iterator[str]:
    sessions = Sessions()
    sessions.add_user(HOSTILE, "mallory-password")
    httpd = make_server("127.0.0.1", 0, create_app(sessions), threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


def who(browser: WebDriver) -> str:
    return str(browser.find_element(By.ID, "who").text)


def test_flask_app_and_client(browser: WebDriver, flask_url: str) -> None:
    open_booted(browser, flask_url + "/")
    assert who(browser) == "Not signed in."
    browser.get(flask_url + "/login")
    submit(browser, "login", HOSTILE, "mallory-password")
    wait_for(browser, "document.body.dataset.ready")
    assert who(browser) == f"Signed in as {HOSTILE}"  # text, not markup
    assert browser.find_elements(By.CSS_SELECTOR, "#who b") == []

    browser.find_element(By.ID, "refresh").click()
    wait_for(browser, "document.getElementById('status').textContent.includes('refreshed')", 30)

    browser.find_element(By.ID, "sign-out").click()
    WebDriverWait(browser, 30).until(lambda d: d.current_url.endswith("/login"))
    open_booted(browser, flask_url + "/")
    assert who(browser) == "Not signed in."
    assert requested_hosts(browser) == {"127.0.0.1"}
