"""The demo app: the user from the page, a live expiry countdown, refresh and sign-out.

Loaded by every demo page (``<py-script>`` and ``<script type="py">`` under Pyodide,
``<script type="mpy">`` under MicroPython): the same code runs in both interpreters.
User data is only ever written with ``textContent``: it is shown as text, never as HTML.
"""

import asyncio
import time

import js
from pyscript.ffi import create_proxy

from lucia_pyodide import (
    LuciaError,
    default_client,
    get_user,
    keep_alive,
    on_change,
    refresh_session,
    sign_out,
)


def element(name):
    return js.document.getElementById(name)


def now_ms():
    """Now, in ms: from Python's clock (MicroPython truncates JS integers, so no Date.now())."""
    return time.time() * 1000


def clock(ms):
    """``HH:MM:SS`` local time of an instant in ms (``time.strftime`` differs in MicroPython).

    Handed to JavaScript as a float: MicroPython truncates integers past 32 bits on the way.
    """
    return js.Date.new(float(ms)).toTimeString()[:8]


def start(coroutine):
    """Run ``coroutine`` as a task: MicroPython's asyncio has no ``ensure_future``."""
    return getattr(asyncio, "ensure_future", asyncio.create_task)(coroutine)


def set_status(text, kind=""):
    status = element("status")
    status.textContent = text
    status.className = f"status {kind}".strip()


expires_text = js.document.querySelector("main").dataset.sessionExpires
state = {"expires": int(expires_text) if expires_text.isdigit() else None, "ticker": None}


def show_expiry():
    expires = state["expires"]
    if expires is None:
        return
    js.document.querySelector("main").dataset.expires = str(expires)
    left = max(0, (expires - time.time() * 1000) / 1000)
    hours, rest = divmod(int(left), 3600)
    stamp = clock(expires)
    element("expires").textContent = f"in {hours}h {rest // 60:02d}m {rest % 60:02d}s (at {stamp})"


async def tick():
    while True:
        show_expiry()
        await asyncio.sleep(1)


async def on_refresh(event):
    button = element("refresh")
    button.disabled = True
    set_status("Refreshing…")
    try:
        state["expires"] = await refresh_session()
        show_expiry()
        set_status("Session refreshed.", "ok")
    except LuciaError as err:
        set_status(f"Refresh failed: {err.code} ({err.detail})", "error")
    finally:
        button.disabled = False


async def on_sign_out(event):
    element("sign-out").disabled = True
    set_status("Signing out…")
    try:
        await sign_out("/login?notice=signed_out")  # the sign-in page confirms it
    except LuciaError as err:
        set_status(f"Sign-out failed: {err.code} ({err.detail})", "error")
        element("sign-out").disabled = False


def log_event(text):
    item = js.document.createElement("li")
    item.textContent = f"{clock(now_ms())} {text}"
    events = element("events")
    events.insertBefore(item, events.firstChild)


def on_session_change(event):
    """Every change, here or in another tab of this site, shows up live."""
    where = "another tab" if event.remote else "this tab"
    until = ""
    if event.expires:
        until = " until " + clock(event.expires)
    log_event(f"{event.type} ({where}){until}")
    if event.type == "SESSION_REFRESHED":
        state["expires"] = event.expires
        show_expiry()
    elif event.type in ("SIGNED_OUT", "SESSION_LOST"):
        js.document.querySelector("main").dataset.endedAt = str(int(now_ms()))
        element("signed-in").hidden = True
        element("signed-out").hidden = False
        what = "signed out" if event.type == "SIGNED_OUT" else "session ended"
        set_status(f"You were {what} in {where}.", "error" if event.remote else "")
    elif event.type == "SIGNED_IN":
        # Back to a page that showed someone else, or a sign-in in another tab: show who
        # a reload would show, and keep that session alive.
        show_user(event.user)
        set_status(f"Signed in elsewhere as {event.user.attributes.get('username', '?')}.")
        start_keep_alive()


def show_user(user):
    element("signed-out").hidden = True
    element("signed-in").hidden = False
    element("username").textContent = str(user.attributes.get("username", "(no username)"))
    element("user-id").textContent = user.user_id


def start_keep_alive():
    # Keep the session alive (refreshed `margin` s before expiry, one tab at a time).
    # ?margin= and ?min_interval= shorten it for the multi-tab test.
    query = js.URLSearchParams.new(js.location.search)
    margin, min_interval = query.get("margin"), query.get("min_interval")
    state["keep_alive"] = keep_alive(float(margin) if margin else 60.0,
                                     min_interval=float(min_interval) if min_interval else 5.0)


def main():
    element("loading").hidden = True
    try:
        user = get_user()
    except LuciaError as err:
        set_status(f"The page's user data is broken: {err.code} ({err.detail})", "error")
        return
    # Proxies live as long as the page: the buttons need them until it unloads.
    element("refresh").addEventListener("click", create_proxy(lambda event: start(on_refresh(event))))
    element("sign-out").addEventListener("click", create_proxy(lambda event: start(on_sign_out(event))))
    state["ticker"] = start(tick())  # keep a reference: tasks are weakly held
    # Every change shows up live: sign-outs and sign-ins in other tabs, and what the
    # server shows when Back brings this page back from a cache.
    on_change(on_session_change)
    if user is None:
        element("signed-out").hidden = False
        js.document.body.dataset.ready = "true"
        return
    show_user(user)
    js.document.body.dataset.userShownAt = str(js.performance.now())  # page-to-user (make bench)
    default_client().expires = state["expires"]
    start_keep_alive()
    js.document.body.dataset.ready = "true"

main()
