"""What the end-to-end tests share: the reference server, the browser, waiting, the lab.

Each test module gets its own reference server on 127.0.0.1 serving the built
PyScript/Pyodide assets and the wheel, and drives a browser against it
(``tools.browser``): each test that takes ``browser`` or ``driver`` runs once per
engine of ``--engines`` (Chromium, Firefox ESR and WebKitGTK unless told otherwise).
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest
from selenium.common.exceptions import (
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from refserver.server import App, Config, seed_demo_user, start_in_thread
from refserver.store import Store
from tools.browser import ENGINES, INSECURE_HOST, Engine, console, launch

if TYPE_CHECKING:
    from .lab import Lab

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
BOOT_TIMEOUT = 90  # Pyodide + the wheel on a busy 2-core machine
#: What the demo pages (and the lab) set once their Python is up.
READY = "document.body.dataset.ready"
#: What a page's interpreter prints when the engine under it failed and it gave up
#: (Pyodide's ``fatal_error``: a trap or a stack overflow in the wasm, after which every
#: call throws "already fatally failed"). ``fail_with_page`` names it, and make test
#: reruns a test that met it, once, as it does a crashed tab.
ENGINE_FAILURES = ("Pyodide has suffered a fatal error", "already fatally failed")


def engine_failure(page_log: list[Any]) -> str | None:
    """The page log (``window.pageLog``) from its first ``ENGINE_FAILURES`` line on, a few
    lines, which carry the interpreter's own account of why; None if it has none."""
    lines = [str(line) for line in page_log]
    at = next((i for i, line in enumerate(lines)
               if any(mark in line for mark in ENGINE_FAILURES)), None)
    return None if at is None else "\n".join(lines[at:at + 8])


def serve(lifetime_s: float = 8 * 3600, *, test_api: bool = False) -> tuple[App, str, object]:
    """A reference server with the demo user and the built assets: (app, url, server)."""
    build = ROOT / "build"
    if not (build / "pyscript" / "core.js").exists():
        pytest.fail("build/pyscript is missing: run `make setup` (make test does)")
    app = App(Store(session_lifetime_s=lifetime_s), Config(test_api=test_api),
              mounts=[("/pyscript", build / "pyscript"), ("/wheels", build / "wheel")])
    seed_demo_user(app)
    server = start_in_thread(app)
    return app, f"http://127.0.0.1:{server.server_port}", server


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    _, url, server = serve()
    yield url
    server.shutdown()  # type: ignore[attr-defined]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--engines", default=",".join(ENGINES),
                     help="the browser engines to run the browser tests in (comma-separated)")
    parser.addoption("--browser-tests-only", action="store_true",
                     help="leave out the tests that use no browser (run them in one run only)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Each test that uses a browser, once per engine (of ``--engines``, and of the module's
    own ``ENGINES`` where it names some)."""
    if "engine" in metafunc.fixturenames:
        engines = [name for name in metafunc.config.getoption("engines").split(",") if name]
        unknown = set(engines) - set(ENGINES)
        if unknown:
            raise pytest.UsageError(f"--engines: no such engine {sorted(unknown)}; know {ENGINES}")
        only = getattr(metafunc.module, "ENGINES", None)
        metafunc.parametrize("engine", [e for e in engines if only is None or e in only],
                             scope="session")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the tests grouped by engine and, in the lab modules, by lab, so that each browser
    and each lab's tabs start once (pytest's own ordering interleaves them once tests have
    parameters of their own, restarting a browser and rebooting tabs test after test).
    The lab modules come last, each lab's tabs serving both of them in turn."""
    modules: dict[str, int] = {}

    def key(item: pytest.Item) -> tuple[int, int, int]:
        params = item.callspec.params if hasattr(item, "callspec") else {}
        engine, lab = params.get("engine"), params.get("lab")
        module = modules.setdefault(item.nodeid.split("::")[0], len(modules))
        return (ENGINES.index(engine) if engine in ENGINES else -1,
                LABS.index(lab) if lab in LABS else -1, module)

    items.sort(key=key)
    browser_only = config.getoption("browser_tests_only")

    def wanted(item: pytest.Item) -> bool:
        if "engine" not in getattr(item, "fixturenames", ()):
            return not browser_only
        params = item.callspec.params if hasattr(item, "callspec") else {}
        return params.get("engine") in ENGINES  # not a module that left out every engine asked

    kept = [item for item in items if wanted(item)]
    config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = kept


@pytest.fixture
def browser(engine: Engine) -> Iterator[WebDriver]:
    with launch(engine, logs=True, optimizing_wasm=False) as driver:
        yield driver


def fail_with_page(driver: WebDriver, what: str) -> None:
    """Fail, saying what the page showed: its text, its console, what it kept in its
    ``pageLog`` (``static/boot_progress.js``), what it fetched, and a screenshot if the
    driver gives one (``screenshot``, taken last, so the report is never lost with it).
    A page whose Pyodide fatally failed says so first: the engine failed under the page
    (make test reruns that test once).
    """
    try:
        said = [line[:300] for line in console(driver) or ["(this engine's driver has no console)"]]
    except Exception as err:  # a browser started without logs, or gone
        said = [f"(no console: {err})"]
    body = driver.execute_script("return document.body ? document.body.innerText : ''")
    kept = driver.execute_script("return window.pageLog || ['(a page without boot_progress.js)']")
    if engine_failure(kept):
        what = f"the page's Pyodide fatally failed (the page log says why); {what}"
    report = (f"{what} on {driver.current_url}\npage text: {body!r}\nconsole:\n"
              + "\n".join(said[-20:]) + "\nwhat the page kept (ms from navigation start):\n"
              + "\n".join(map(str, kept[-16:]))
              + "\nthe last files it fetched (ms from navigation start):\n"
              + "\n".join(fetched(driver)[-8:]))
    pytest.fail(report + screenshot(driver))


def screenshot(driver: WebDriver, wait_s: float = 20) -> str:
    """Save the page's screenshot in test-artifacts/timeout.png; "" or why there is none.

    At most ``wait_s``: WebKitWebDriver once never answered it, and urllib3 then waited
    150 s for each of its three tries (selenium sets that timeout when it connects).
    """
    ARTIFACTS.mkdir(exist_ok=True)
    outcome: list[str] = []

    def take() -> None:
        try:
            driver.save_screenshot(str(ARTIFACTS / "timeout.png"))
            outcome.append("")
        except Exception as err:  # a driver that refuses it: noted, the report matters more
            outcome.append(f"\n(no screenshot: {str(err)[:200]})")

    taking = threading.Thread(target=take, daemon=True)
    taking.start()
    taking.join(wait_s)
    return outcome[0] if outcome else f"\n(no screenshot: the driver did not answer in {wait_s} s)"


def fetched(driver: WebDriver) -> list[str]:
    """What the page fetched, in order, with when each answer ended (its resource timing).

    Where PyScript's boot stopped shows here: after ``pyodide_graph`` and before
    ``pyodide-lock.json`` is its IndexedDB storage (see ``open_booted``).
    """
    return [f"{name} {end}" for name, end in driver.execute_script(
        "return performance.getEntriesByType('resource').map("
        "e => [e.name, e.responseEnd ? Math.round(e.responseEnd) : 'unfinished'])")]


def wait_for(driver: WebDriver, condition: str, timeout: float = BOOT_TIMEOUT) -> None:
    """Wait until a JavaScript expression is true in the page; on timeout, say what it showed."""
    def holds(d: WebDriver) -> bool:
        try:
            return bool(d.execute_script(f"return !!({condition})"))
        except WebDriverException as err:  # WebKitWebDriver, once, while a page was booting
            if "Could not parse script result" not in str(err):
                raise
            return False

    try:
        WebDriverWait(driver, timeout).until(holds)
    except TimeoutException:
        fail_with_page(driver, f"timed out after {timeout}s waiting for {condition!r}")


def open_booted(driver: WebDriver, url: str, ready: str = READY) -> None:
    """Load ``url`` and wait until its Python is up (``ready`` is true in the page).

    Never leave a page while PyScript boots: in Chromium, a page left while PyScript's
    first IndexedDB open (its package storage, "Loading Storage") is under way can keep
    every later page of the profile waiting on that open, stuck before the interpreter
    loads. A reload does not help; so tests land on the page they want (``sign_in_to``)
    instead of going through a booting one.
    """
    driver.get(url)
    wait_for(driver, ready)


def submit(driver: WebDriver, form: str, username: str, password: str) -> None:
    """Fill and send a form, and wait for the page it leads to (not the old one still up).

    Filled once more if the document changed under it (seen once: Chromium reported the
    button "does not belong to the document" right after the page was loaded).
    """
    for attempt in (1, 2):
        WebDriverWait(driver, 30).until(
            lambda d: d.execute_script("return document.readyState") == "complete")
        old_page = driver.find_element(By.TAG_NAME, "html")
        try:
            for field, text in (("username", username), ("password", password)):
                element = driver.find_element(By.ID, f"{form}-{field}")
                element.clear()
                element.send_keys(text)
            driver.find_element(By.CSS_SELECTOR, f"#{form}-form button").click()
        except (StaleElementReferenceException, WebDriverException) as err:
            if attempt == 2 or not ("stale" in str(err) or "does not belong" in str(err)):
                raise
            continue
        WebDriverWait(driver, 30).until(lambda _d, page=old_page: replaced(page))
        return


def replaced(element: WebElement) -> bool:
    """Whether ``element``'s document is gone. Chromium says so either as a stale element or,
    while the next page is arriving, as a node that "does not belong to the document"."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as err:
        if "does not belong" not in str(err):
            raise
        return True
    return False


_RENDERED_USER = """const done = arguments[arguments.length - 1];
fetch(arguments[0], {credentials: 'same-origin'}).then(r => r.text()).then(t => done(
    new DOMParser().parseFromString(t, 'text/html').getElementById('lucia-user').textContent),
  e => done('ERROR ' + e));"""


def rendered_user(driver: WebDriver, path: str) -> Any:
    """The user the server renders into the page at ``path`` now, or None: what a reload
    would show. A real page request with the browser's cookies (the server may refresh
    from the refresh token and set new ones, as on a reload), without leaving the page;
    ``path`` must render the ``#lucia-user`` tag."""
    text = driver.execute_async_script(_RENDERED_USER, path)
    assert not str(text).startswith("ERROR"), text
    return json.loads(text)


def sign_in_to(driver: WebDriver, base: str, page: str, username: str, password: str, *,
               ready: str = READY) -> None:
    """Sign in with the reference server's form and land on ``page``, its Python up.

    The form's ``next`` takes the browser straight there, so no booting page is left
    half-way (see ``open_booted``).
    """
    driver.get(f"{base}/login?{urlencode({'next': page})}")
    submit(driver, "login", username, password)
    wait_for(driver, ready)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_serving(server: subprocess.Popen[str], url: str) -> None:
    """Wait until a server started as a command answers ``url``; fail with its output if it died."""
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            if server.poll() is not None:
                pytest.fail(f"the server command died: {server.stdout.read()}")  # type: ignore[union-attr]
            time.sleep(0.1)
    pytest.fail(f"the server command never served {url}")


# -- the lab suites' fixtures: one server and browser per engine, lab tabs, a signed-in user ----
# Session-scoped: the lab modules share each lab's booted tabs (the ``user`` fixture resets
# the server, the storage and the cookies before each test).
@pytest.fixture(scope="session")
def server() -> Iterator[tuple[Any, str]]:
    app, url, httpd = serve(test_api=True)
    yield app, url
    httpd.shutdown()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def driver(engine: Engine) -> Iterator[WebDriver]:
    with launch(engine, logs=True, optimizing_wasm=False) as browser:
        browser.set_script_timeout(60)
        yield browser


#: The lab's interpreter and context, each a set of tabs of its own (``lab``).
LABS = ("pyodide-secure", "pyodide-insecure", "micropython-secure", "micropython-insecure")


@pytest.fixture(scope="session", params=LABS)
def lab(request: pytest.FixtureRequest, server: tuple[Any, str], driver: WebDriver) -> Lab:
    from .lab import PRELUDE, TABS, Lab  # noqa: PLC0415 - lab.py needs this module

    _, url = server
    interpreter, context = request.param.split("-")
    base = url if context == "secure" else url.replace("127.0.0.1", INSECURE_HOST)
    for handle in driver.window_handles[1:]:  # the other context's tabs
        driver.switch_to.window(handle)
        driver.close()
    driver.switch_to.window(driver.window_handles[0])
    made = Lab(driver, base, url, interpreter)
    made.open(TABS)
    secure = made.js(made.tabs[0], "return [isSecureContext, !!navigator.locks]")
    assert secure == [context == "secure"] * 2, secure
    for handle in made.tabs:
        made.run(handle, PRELUDE)
    return made


@pytest.fixture
def user(lab: Lab) -> dict[str, Any]:
    """A clean slate in every tab, then a signed-in user that every tab's page shows."""
    from .lab import PRELUDE  # noqa: PLC0415

    lab.replace_dead(PRELUDE)
    lab.call("/__test__/reset", {})
    lab.js(lab.tabs[0], "localStorage.clear()")
    lab.driver.delete_all_cookies()
    session = lab.sign_in(lab.tabs[0], "alice")
    for handle in lab.tabs:
        lab.render_user(handle, session["userId"], "alice")
    lab.call("/__test__/stats")
    return session
