"""Driving the reference server's lab page: real tabs of Pyodide or MicroPython with the wheel.

``Lab`` opens tabs on ``/__test__/lab`` (the interpreter and the wheel, the user
hydrated by the server, ``script-src 'self' 'wasm-unsafe-eval'``) and runs Python in
them: ``run`` waits for the result, ``start``/``result`` let several tabs run at once.
The Python's last expression is the result; give back plain data (JSON-able). The
code must run in both interpreters: for MicroPython, which has no "last expression"
result, ``for_micropython`` rewrites it to leave that value as JSON for the page.
"""

from __future__ import annotations

import ast
import contextlib
import json
import textwrap
import time
import urllib.request
import warnings
from typing import Any

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.remote.webdriver import WebDriver

from tools.browser import console

from .conftest import ARTIFACTS, engine_failure, fail_with_page, open_booted, rendered_user

#: Starts Python in the page: arguments[0] as written, arguments[1] as rewritten for
#: MicroPython (``for_micropython``), whichever interpreter the page in the tab runs now
#: (after Back it may be another than the last page loaded).
_START = """window.labResult = undefined;
const code = arguments[document.body.dataset.interpreter === 'micropython' ? 1 : 0];
window.labDone = labRun(code).then(r => { window.labResult = {ok: r}; },
                                           e => { window.labResult = {error: String(e)}; });"""
#: Waits in the page, up to arguments[0] ms, for the code ``_START`` began: its outcome, or
#: null. One WebDriver command per wait, not a poll every few ms: polling cost each engine
#: about 0.15 CPU-s a second (browser and driver), with three engines on two cores.
_OUTCOME = """const done = arguments[arguments.length - 1];
if (window.labResult !== undefined) { done(window.labResult); } else {
  const timer = setTimeout(() => done(null), arguments[0]);
  window.labDone.then(() => { clearTimeout(timer); done(window.labResult); });
}"""
#: The longest one wait in the page (ms): well within any driver's script timeout.
_OUTCOME_WAIT_MS = 10_000


def for_micropython(code: str) -> str:
    """``code`` with its last expression's value left in ``globalThis._lab_out`` as JSON."""
    tree = compile(textwrap.dedent(code), "<lab>", "exec",
                   flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    assert isinstance(tree, ast.Module)
    last = tree.body[-1] if tree.body else None
    value = last.value if isinstance(last, ast.Expr) else ast.Constant(None)
    if isinstance(last, ast.Expr):
        tree.body.pop()
    keep = ast.parse("import json as _json, js as _js\n_js.globalThis._lab_out = _json.dumps(None)")
    assign = keep.body[1]
    assert isinstance(assign, ast.Assign) and isinstance(assign.value, ast.Call)
    assign.value.args = [value]
    tree.body.extend(keep.body)
    return ast.unparse(ast.fix_missing_locations(tree))


class Lab:
    """Tabs of one browser on one origin (``base``: 127.0.0.1 is secure, lucia.test is not),
    running ``interpreter`` ("pyodide" or "micropython")."""

    def __init__(self, driver: WebDriver, base: str, server_url: str,
                 interpreter: str = "pyodide") -> None:
        self.driver, self.base, self.server_url = driver, base, server_url
        self.interpreter = interpreter
        self.tabs: list[str] = []

    def call(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        """A request from the test itself (no browser) to the server's test API."""
        data = None if payload is None else json.dumps(payload).encode()
        with urllib.request.urlopen(urllib.request.Request(self.server_url + path, data=data)) as r:
            return json.loads(r.read() or b"null")

    def refreshes(self) -> int:
        return int(self.call("/__test__/stats").get("POST /api/auth/refresh-session", 0))

    def open(self, count: int) -> None:
        """Have ``count`` lab tabs open and booted (reloaded, so each page load is real).

        A tab that does not boot gets one more try in a fresh tab, with a warning that
        carries its report (``note_replaced``): this is a fixture's setup, not a test's
        step, and one engine's lost boot would otherwise fail every test of the lab.
        """
        while len(self.tabs) < count:
            if self.tabs:
                self.driver.switch_to.new_window("tab")
            self.tabs.append(self.driver.current_window_handle)
        for index in range(count):
            try:
                self.reload(self.tabs[index])
            except pytest.fail.Exception as failure:
                note_replaced(index, f"did not boot: {failure}")
                self.renew(index)

    def replace_dead(self, prelude: str) -> None:
        """Open a fresh tab for each one that is dead, and run ``prelude`` in it.

        Dead is the engine's doing, never a test's step: a renderer that crashed (headless
        Chromium on a loaded 2-core machine, "tab crashed"), or a page whose interpreter
        fatally failed (``ENGINE_FAILURES``; Pyodide then refuses every later call). Each
        replacement is warned about and logged with the page's own record of why.
        """
        for index, handle in enumerate(self.tabs):
            try:
                self.driver.switch_to.window(handle)
                failed, page_log = self.driver.execute_script(
                    "return [document.body.dataset.failed || null, window.pageLog || []]")
            except WebDriverException as err:
                if "crashed" not in str(err):
                    raise
                failed, page_log = "its renderer crashed", []
            fatal = engine_failure(page_log)
            why = failed or (fatal and f"its interpreter fatally failed: {fatal}")
            if why:
                note_replaced(index, why)
                self.renew(index)
                self.run(self.tabs[index], prelude)

    def renew(self, index: int) -> None:
        """Close tab ``index`` (if it still answers) and boot the lab in a fresh tab."""
        with contextlib.suppress(WebDriverException):  # it may be gone already
            self.driver.switch_to.window(self.tabs[index])
            self.driver.close()
        self.driver.switch_to.window(self.driver.window_handles[0])
        self.driver.switch_to.new_window("tab")
        self.tabs[index] = self.driver.current_window_handle
        self.reload(self.tabs[index])

    def reload(self, handle: str, query: str = "", interpreter: str | None = None) -> None:
        """Load the lab page in a tab (a page load: the server may rotate the tokens).

        ``query`` (``&page=b``) makes it another page of the lab, as far as the history
        goes; ``interpreter`` loads it in another interpreter than the lab's.
        """
        self.driver.switch_to.window(handle)
        page = f"/__test__/lab?interpreter={interpreter or self.interpreter}{query}"
        open_booted(self.driver, self.base + page,
                    "document.body.dataset.ready || document.body.dataset.failed")
        failed = self.driver.execute_script("return document.body.dataset.failed")
        if failed:
            fail_with_page(self.driver, f"the lab did not boot: {failed}")

    def sign_in(self, handle: str, username: str) -> dict[str, Any]:
        """Sign ``username`` in from the tab (the test API sets the browser's cookies): its session."""
        session: dict[str, Any] = self.run(handle, f"""
            init = js.Object.new()
            init.method, init.credentials = 'POST', 'same-origin'
            init.body = json.dumps({{'username': {username!r}}})
            json.loads(await (await js.fetch('/__test__/session', init)).text())
        """)
        return session

    def render_user(self, handle: str, user_id: str, username: str) -> None:
        """Put the user into the tab's page as the server renders it into a page loaded now
        (``#lucia-user``), and give the tab a new client that has not read it yet: a page
        load's worth of state without a page load's cost (a Pyodide boot)."""
        self.js(handle, """let tag = document.getElementById('lucia-user');
            if (!tag) {
                tag = Object.assign(document.createElement('script'),
                                    {type: 'application/json', id: 'lucia-user'});
                document.head.append(tag);
            }
            tag.textContent = arguments[0];""", json.dumps({"userId": user_id, "username": username}))
        self.run(handle, RESET)

    def start(self, handle: str, code: str) -> None:
        self.driver.switch_to.window(handle)
        code = textwrap.dedent(code)
        self.driver.execute_script(_START, code, for_micropython(code))

    def result(self, handle: str, timeout: float = 60) -> Any:
        self.driver.switch_to.window(handle)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            outcome = self.driver.execute_async_script(
                _OUTCOME, max(1, min(_OUTCOME_WAIT_MS, round(left * 1000))))
            if outcome is not None:
                if "error" in outcome:
                    raise AssertionError(f"Python failed in the lab tab: {outcome['error']}")
                return outcome["ok"]
        fail_with_page(self.driver, f"no result within {timeout} s")
        return None

    def run(self, handle: str, code: str, timeout: float = 60) -> Any:
        self.start(handle, code)
        return self.result(handle, timeout)

    def console(self, handle: str) -> list[str]:
        """What the client logged in this tab since ``RESET`` (the page's labLogged), then
        the last lines the browser's tabs logged where the engine's driver has a console
        (every tab's, since the browser started): for failure messages."""
        self.driver.switch_to.window(handle)
        try:
            lines = [str(line) for line in self.driver.execute_script(
                "return window.labLogged || ['(no log)']")]
            browser = console(self.driver)
        except WebDriverException as err:  # a tab gone, a browser started without logs
            return [f"(no console: {err})"]
        if browser is not None:
            lines += ["-- the browser's console, its last lines:", *browser[-10:]]
        return [line[:200] for line in lines[-40:]]

    def story(self, *handles: str) -> str:
        """What each tab heard (``heard``) and logged (``console``), a line each: a failure
        message that reads whole where a report folds long lines."""
        told = []
        for handle in handles:
            told.append(f"== tab {self.tabs.index(handle) if handle in self.tabs else handle}: "
                        f"heard {events(self, handle)}")
            told += [f"   {line}" for line in self.console(handle)]
        return "\n".join(told)

    def js(self, handle: str, script: str, *args: Any) -> Any:
        self.driver.switch_to.window(handle)
        return self.driver.execute_script(script, *args)


def page_user(lab: Lab, handle: str) -> Any:
    """What a reload of any page would show in the tab: the user the server renders now."""
    lab.driver.switch_to.window(handle)
    return rendered_user(lab.driver, "/__test__/lab")


def note_replaced(index: int, why: str) -> None:
    """Warn that lab tab ``index`` was replaced and why, and keep the whole why in
    ``test-artifacts/replaced-tabs.log``: a warning's summary is short, and a green run's
    output is not kept, but how often an engine fails is worth knowing."""
    ARTIFACTS.mkdir(exist_ok=True)
    with (ARTIFACTS / "replaced-tabs.log").open("a", encoding="utf-8") as log:
        log.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} tab {index}: {why}\n\n")
    warnings.warn(f"lab tab {index} replaced: {why[:600]}", stacklevel=2)


# -- the fixtures of the lab suites: the server, the browser, the tabs, a signed-in user -------
TABS = 3

# Runs in both interpreters. Time is read from Python's clock: MicroPython keeps only the
# low 32 bits of a JavaScript integer such as Date.now().
PRELUDE = """
import asyncio, json, js, logging, time
import lucia_pyodide
from lucia_pyodide import LuciaClient, LuciaError, get_user, refresh_session, sign_out
heard = []
heard_events = []

# The client's log, its trace included, kept in the page's labLogged (Lab.console reads it)
# and printed to the console as well (failure reports show the browser's console).
class LabLog(logging.Handler):
    def emit(self, record):
        line = str(now_ms()) + " " + self.format(record)  # when, on the clock heard uses
        js.globalThis.labLogged.push(line)
        print(line)

try:
    lab_log
except NameError:
    lab_log = LabLog()
    lab_log.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logging.getLogger("lucia_pyodide").addHandler(lab_log)
    logging.getLogger("lucia_pyodide").setLevel(logging.DEBUG)

def now_ms():
    return int(time.time() * 1000)

def listen(client):
    def hear(event):
        heard.append([event.type, event.remote, now_ms()])
        heard_events.append(event)

    client.on_change(hear)

async def outcome(call):
    try:
        return await call
    except LuciaError as err:
        return err.code

async def at(when_ms):
    await asyncio.sleep(max(0, when_ms - now_ms()) / 1000)

None
"""

RESET = """
heard.clear()
heard_events.clear()
js.globalThis.labLogged.splice(0)
lucia_pyodide.reset_default_client()
listen(lucia_pyodide.default_client())
None
"""


def events(lab: Lab, handle: str) -> list[list[Any]]:
    return list(lab.run(handle, "heard"))


def types(lab: Lab, handle: str) -> list[str]:
    return [e[0] + (" (remote)" if e[1] else "") for e in events(lab, handle)]


def configure(lab: Lab, **settings: float) -> None:
    lab.call("/__test__/config", settings)


