"""The Flask example app (examples/flask_app) with the client, end to end in Chromium.

Sign in through Flask's form, see the user the Flask page rendered (a hostile name
stays text), refresh, sign out, and a reload is signed out: the protocol in
PROTOCOL.md, implemented by a real Python web framework, and lucia_pyodide against it.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

from tools.browser import hosts_asked

from .conftest import ROOT, free_port, open_booted, submit, wait_for, wait_until_serving

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
    browser.get(flask_url + "/login")
    submit(browser, "login", HOSTILE, "mallory-password")
    wait_for(browser, "document.body.dataset.ready")
    assert who(browser) == f"Signed in as {HOSTILE}"  # text, not markup
    assert browser.find_elements(By.CSS_SELECTOR, "#who b") == []

    browser.find_element(By.ID, "refresh").click()
    wait_for(browser, "document.getElementById('status').textContent.includes('refreshed')", 30)

    browser.find_element(By.ID, "sign-out").click()
    WebDriverWait(browser, 30).until(lambda d: d.current_url.endswith("/login"))
    open_booted(browser, flask_url + "/")  # the page a signed-out reload gets
    assert who(browser) == "Not signed in."
    assert hosts_asked(browser) == set()


def test_the_readme_command_starts_the_example() -> None:
    """The README's command, as pasted (its python3 being this venv's, where Flask is)."""
    readme = (ROOT / "README.md").read_text()
    command = "PYTHONPATH=. python3 examples/flask_app/server.py"
    assert f"`{command}`" in readme
    port = free_port()
    assignment, python, *script = shlex.split(command)
    name, value = assignment.split("=", 1)
    assert python == "python3"
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    server = subprocess.Popen([sys.executable, *script], cwd=ROOT,
                              env={**clean, name: value, "PORT": str(port)},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until_serving(server, f"http://127.0.0.1:{port}/login")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
            assert b'id="lucia-user">null</script>' in page.read()
    finally:
        server.terminate()
        server.wait(10)
