"""The one Chromium launcher of the project's tests and benchmark: Debian's browser, headless.

Never a browser that a test tool downloads. The flags keep it off the network
(background networking, component updates, sync) and keep background tabs running
at full speed (timers are otherwise throttled to once a second in a hidden tab,
which would turn "several tabs at the same instant" into a test of the throttle).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
#: Host names that resolve to 127.0.0.1 in the launched browser. A page on one of
#: them is an insecure context (no Web Locks), as a plain-http LAN host is.
INSECURE_HOST = "lucia.test"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--no-first-run",
    "--disable-sync", "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows",
    f"--host-resolver-rules=MAP {INSECURE_HOST} 127.0.0.1",
)


@contextmanager
def chromium(*, window: str = "1100,900", logs: bool = False,
             extra_flags: Iterable[str] = ()) -> Iterator[WebDriver]:
    """A headless Chromium with a fresh profile, quit on exit.

    ``logs`` keeps the browser console and the performance (network) log.
    """
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    with tempfile.TemporaryDirectory() as profile:
        for flag in (*FLAGS, f"--window-size={window}", f"--user-data-dir={profile}", *extra_flags):
            options.add_argument(flag)
        if logs:
            options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        try:
            yield driver
        finally:
            driver.quit()
