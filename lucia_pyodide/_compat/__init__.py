"""The one seam between lucia_pyodide and the browser.

Everything that touches ``js`` or ``pyodide`` lives in ``_in_pyodide``; on
CPython ``_not_in_pyodide`` stands in, so the rest of the package imports and
unit-tests anywhere. The choice is made once, here.
"""

from __future__ import annotations

import sys

if sys.platform == "emscripten":
    from ._in_pyodide import BrowserTabs as DefaultTabs
    from ._in_pyodide import FetchTransport as DefaultTransport
    from ._in_pyodide import PyodidePage as DefaultPage
else:
    from ._not_in_pyodide import NoFetch as DefaultTransport
    from ._not_in_pyodide import NoPage as DefaultPage
    from ._not_in_pyodide import NoTabs as DefaultTabs

__all__ = ["DefaultPage", "DefaultTabs", "DefaultTransport"]
