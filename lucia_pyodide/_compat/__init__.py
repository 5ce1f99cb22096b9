"""The seams between lucia_pyodide and where it runs.

The browser (``js``) is reached only from here: ``_browser`` reads the page and the
tabs the same way in both of PyScript's interpreters, through the interpreter's
``Ffi`` (``_in_pyodide`` or ``_in_micropython``, which also bring their ``fetch``).
On CPython ``_not_in_pyodide`` stands in, so the rest of the package imports and
unit-tests anywhere. ``_lang`` is the other seam: what MicroPython's Python lacks.
The choice is made once, here.
"""

import sys

if sys.platform in ("emscripten", "webassembly"):  # Pyodide, MicroPython
    if sys.platform == "emscripten":
        from . import _in_pyodide as _ffi
    else:
        if tuple(sys.implementation.version[:2]) == (1, 26):
            # There, once asyncio is imported, a JavaScript object held by Python reads as
            # undefined after an await of a JS promise: the client's own channel, lock and
            # Reflect among them (tests/pyodide on 1.26.0, Node and Chromium).
            raise ImportError("lucia_pyodide does not run on MicroPython 1.26 (JavaScript "
                              "objects held across an await are lost there): use 1.25, or "
                              "1.27 and newer")
        from . import _in_micropython as _ffi  # type: ignore[no-redef]
    from ._browser import BrowserPage, BrowserTabs

    DefaultTransport = _ffi.FetchTransport

    def DefaultPage() -> BrowserPage:
        return BrowserPage(_ffi)

    def DefaultTabs() -> BrowserTabs:
        return BrowserTabs(_ffi)
else:
    from ._not_in_pyodide import NoFetch as DefaultTransport
    from ._not_in_pyodide import NoPage as DefaultPage
    from ._not_in_pyodide import NoTabs as DefaultTabs

__all__ = ["DefaultPage", "DefaultTabs", "DefaultTransport"]
