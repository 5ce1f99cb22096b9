"""The page's Python: who is signed in, refresh, sign out (lucia_pyodide's three calls)."""

from pyscript import document, when

from lucia_pyodide import LuciaError, get_user, refresh_session, sign_out


def element(name):
    return document.getElementById(name)


@when("click", "#refresh")
async def refresh(event):
    try:
        expires = await refresh_session()
        element("status").textContent = f"Session refreshed, now ends at {expires}."
    except LuciaError as err:
        element("status").textContent = f"Refresh failed: {err.code}"


@when("click", "#sign-out")
async def leave(event):
    try:
        await sign_out("/login")
    except LuciaError as err:
        element("status").textContent = f"Sign-out failed: {err.code}"


user = get_user()
if user is None:
    element("who").textContent = "Not signed in."
    element("sign-in").hidden = False
else:
    element("who").textContent = f"Signed in as {user.attributes['username']}"
    element("refresh").hidden = False
    element("sign-out").hidden = False
document.body.dataset.ready = "true"
