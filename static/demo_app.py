"""The demo app: the user from the page, a live expiry countdown, refresh and sign-out.

Loaded by both demo pages (``<py-script>`` and ``<script type="py">``). User data
is only ever written with ``textContent``: it is shown as text, never as HTML.
"""

import asyncio
import time

import js
from pyodide.ffi import create_proxy

from lucia_pyodide import LuciaError, get_user, refresh_session, sign_out


def element(name):
    return js.document.getElementById(name)


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
    left = max(0, (expires - time.time() * 1000) / 1000)
    hours, rest = divmod(int(left), 3600)
    stamp = time.strftime("%H:%M:%S", time.localtime(expires / 1000))
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
        await sign_out("/login")
    except LuciaError as err:
        set_status(f"Sign-out failed: {err.code} ({err.detail})", "error")
        element("sign-out").disabled = False


def main():
    element("loading").hidden = True
    try:
        user = get_user()
    except LuciaError as err:
        set_status(f"The page's user data is broken: {err.code} ({err.detail})", "error")
        return
    if user is None:
        element("signed-out").hidden = False
        return
    element("signed-in").hidden = False
    element("username").textContent = str(user.attributes.get("username", "(no username)"))
    element("user-id").textContent = user.user_id
    # Proxies live as long as the page: the buttons need them until it unloads.
    element("refresh").addEventListener("click", create_proxy(on_refresh))
    element("sign-out").addEventListener("click", create_proxy(on_sign_out))
    state["ticker"] = asyncio.ensure_future(tick())  # keep a reference: tasks are weakly held
    js.document.body.dataset.ready = "true"


main()
