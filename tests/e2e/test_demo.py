"""The demo app end to end, as a person uses it, in headless Chromium (Debian's).

Sign up, sign in, see the user, refresh (expiry grows), sign out (lands on /login,
Back shows the page signed out, and the next load is signed out), on the <py-script>
page (its user hydrated as the JSON script tag), the <script type="py"> page (Pyodide)
and the <script type="mpy"> page (MicroPython; both hydrated the SvelteKit way), with
every request staying on 127.0.0.1.
"""

from __future__ import annotations

import urllib.request
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tools.browser import hosts_asked

from .conftest import ARTIFACTS, open_booted, rendered_user, submit, wait_for


def text(driver: WebDriver, element_id: str) -> str:
    return str(driver.find_element(By.ID, element_id).text)


@pytest.mark.parametrize("page", ["/?hydration=script", "/app-py", "/app-mpy"])
def test_sign_up_sign_in_refresh_sign_out(browser: WebDriver, demo_url: str, page: str) -> None:
    path = urlsplit(page).path
    name = "<b>eve</b>" + path.strip("/").replace("-", "")
    # Each form lands on the sign-in page, so no page is left while its Python boots.
    browser.get(demo_url + "/login?next=/login")
    submit(browser, "signup", name, "correct horse")
    browser.get(demo_url + "/login?next=/login")
    submit(browser, "login", name, "wrong password")
    assert "Wrong username or password." in text(browser, "message")
    submit(browser, "login", name, "correct horse")
    # The page as served shows the loading indicator until Python is up (read from the
    # HTML itself: in the browser, a warm cache may have Python up before we look).
    with urllib.request.urlopen(demo_url + page) as served:
        html = served.read().decode()
    assert '<p id="loading" class="loading">' in html
    open_booted(browser, demo_url + page)
    assert not browser.find_element(By.ID, "loading").is_displayed()  # gone once Python runs
    assert text(browser, "username") == name  # shown as text: the <b> is not markup
    assert browser.find_elements(By.CSS_SELECTOR, "#username b") == []
    assert len(text(browser, "user-id")) == 36
    first = browser.execute_script("return document.querySelector('main').dataset.sessionExpires")
    assert text(browser, "expires").startswith("in 7h") or text(browser, "expires").startswith("in 8h")
    hydrated_by_tag = browser.execute_script("return typeof window._lucia_page_data") == "undefined"
    assert hydrated_by_tag == page.endswith("?hydration=script")
    if page.startswith("/?"):
        ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "demo-signed-in.png"))

    browser.find_element(By.ID, "refresh").click()
    wait_for(browser, "document.getElementById('status').textContent.includes('refreshed')", 30)
    assert "Session refreshed." in text(browser, "status")

    browser.find_element(By.ID, "sign-out").click()
    WebDriverWait(browser, 30).until(lambda d: urlsplit(d.current_url).path == "/login")
    assert text(browser, "notice") == "You are signed out."
    # Back to the page that showed the user: whatever cache it comes from, signed out. Not
    # from the back-forward cache, it is a new document, its Python booting (a boot's wait).
    browser.back()
    wait_for(browser, "!document.getElementById('signed-out').hidden && "
                      "document.getElementById('signed-in').hidden")
    assert "You are signed out." in text(browser, "signed-out")
    if page.startswith("/?"):
        browser.save_screenshot(str(ARTIFACTS / "demo-back-after-sign-out.png"))
    assert rendered_user(browser, path + "?hydration=script") is None  # the next load: signed out
    assert first  # the signed-in page carried a session expiry
    assert hosts_asked(browser) == set()  # nothing left this machine
