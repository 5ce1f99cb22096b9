"""The demo app end to end, as a person uses it, in headless Chromium (Debian's).

Sign up, sign in, see the user, refresh (expiry grows), sign out (lands on /login,
and the next load is signed out), on both the <py-script> and <script type="py">
pages, with every request staying on 127.0.0.1.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from refserver.server import App, Config, seed_demo_user, start_in_thread
from refserver.store import Store

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
BOOT_TIMEOUT = 90  # Pyodide + the wheel on a busy 2-core machine


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    build = ROOT / "build"
    if not (build / "pyscript" / "core.js").exists():
        pytest.fail("build/pyscript is missing: run `make setup` (make test does)")
    app = App(Store(), Config(), mounts=[("/pyscript", build / "pyscript"), ("/wheels", build / "wheel")])
    seed_demo_user(app)
    server = start_in_thread(app)
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    with tempfile.TemporaryDirectory() as profile:
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update",
                     "--no-first-run", "--disable-sync", "--window-size=1100,900",
                     f"--user-data-dir={profile}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        # Debian's driver, named: selenium must not try to download one.
        driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
        try:
            yield driver
        finally:
            driver.quit()


def requested_hosts(driver: WebDriver) -> set[str]:
    hosts = set()
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if url.startswith(("http:", "https:", "ws:", "wss:")):
                hosts.add(urlsplit(url).hostname or "")
    return hosts


def wait_for(driver: WebDriver, condition: str, timeout: float = BOOT_TIMEOUT) -> None:
    """Wait until a JavaScript expression is true in the page; on timeout, say what it showed."""
    try:
        WebDriverWait(driver, timeout).until(lambda d: d.execute_script(f"return !!({condition})"))
    except TimeoutException:
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "timeout.png"))
        console = [f"{e['level']} {e['message'][:300]}" for e in driver.get_log("browser")]
        body = driver.execute_script("return document.body.innerText")
        pytest.fail(f"timed out after {timeout}s waiting for {condition!r} on {driver.current_url}"
                    f"\npage text: {body!r}\nconsole:\n" + "\n".join(console))


def text(driver: WebDriver, element_id: str) -> str:
    return str(driver.find_element(By.ID, element_id).text)


def submit(driver: WebDriver, form: str, username: str, password: str) -> None:
    """Fill and send a form, and wait for the page it leads to (not the old one still up)."""
    old_page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.ID, f"{form}-username").send_keys(username)
    driver.find_element(By.ID, f"{form}-password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, f"#{form}-form button").click()
    WebDriverWait(driver, 30).until(expected_conditions.staleness_of(old_page))


@pytest.mark.parametrize("page", ["/", "/app-py"])
def test_sign_up_sign_in_refresh_sign_out(browser: WebDriver, demo_url: str, page: str) -> None:
    name = "<b>eve</b>" + page.strip("/").replace("-", "")
    browser.get(demo_url + "/login")
    submit(browser, "signup", name, "correct horse")
    browser.get(demo_url + "/login")
    submit(browser, "login", name, "wrong password")
    assert "Wrong username or password." in text(browser, "message")
    submit(browser, "login", name, "correct horse")
    browser.get(demo_url + page)
    assert browser.find_element(By.ID, "loading").is_displayed()  # before Python is up
    wait_for(browser, "document.body.dataset.ready")
    assert text(browser, "username") == name  # shown as text: the <b> is not markup
    assert browser.find_elements(By.CSS_SELECTOR, "#username b") == []
    assert len(text(browser, "user-id")) == 36
    first = browser.execute_script("return document.querySelector('main').dataset.sessionExpires")
    assert text(browser, "expires").startswith("in 7h") or text(browser, "expires").startswith("in 8h")
    if page == "/":
        ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "demo-signed-in.png"))

    if page == "/":  # the same page, hydrated as a JSON script tag instead of the global
        browser.get(demo_url + page + "?hydration=script")
        wait_for(browser, "document.body.dataset.ready")
        assert browser.execute_script("return typeof window._lucia_page_data") == "undefined"
        assert text(browser, "username") == name

    browser.find_element(By.ID, "refresh").click()
    wait_for(browser, "document.getElementById('status').textContent.includes('refreshed')", 30)
    assert "Session refreshed." in text(browser, "status")

    browser.find_element(By.ID, "sign-out").click()
    WebDriverWait(browser, 30).until(lambda d: urlsplit(d.current_url).path == "/login")
    browser.get(demo_url + page)
    wait_for(browser, "!document.getElementById('signed-out').hidden")
    assert "You are signed out." in text(browser, "signed-out")
    assert first  # the signed-in page carried a session expiry
    assert requested_hosts(browser) == {"127.0.0.1"}  # nothing left this machine
