"""Each in-browser test runs in both of PyScript's interpreters: Pyodide and MicroPython.

``run_in_pyodide_or_micropython`` replaces pytest-pyodide's ``run_in_pyodide``: the
decorated function's body runs in whichever interpreter the ``selenium_lucia`` fixture
holds. (pytest-pyodide prepares only modules whose source says "run_in_pyodide": the
decorator's name does.)
Pyodide goes through pytest-pyodide. MicroPython (which pytest-pyodide does not know)
gets the function's source, its arguments and result as JSON: in Chromium it is
loaded into the very page Pyodide runs in (same origin, same cookies), in Node it is
a process of its own (``micropython_node.mjs``), one per test module.
"""

from __future__ import annotations

import functools
import inspect
import json
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytest_pyodide import run_in_pyodide

HERE = Path(__file__).resolve().parent
MICROPYTHON = HERE.parents[1] / "build" / "pyscript" / "micropython" / "micropython.mjs"
NODE_DRIVER = HERE / "micropython_node.mjs"

# Runs the function (sync or async) and leaves {"result": ...} or {"error": traceback}
# as JSON in globalThis._lucia_out, where the JavaScript side picks it up.
_CALL = """
import io as _io
import json as _json
import sys as _sys

import js as _js

{source}

async def _lucia_run():
    try:
        result = {name}(None, *_json.loads({arguments!r}))
        if type(result).__name__ == "generator":  # MicroPython's coroutines
            result = await result
        out = {{"result": result}}
    except BaseException as err:
        trace = _io.StringIO()
        _sys.print_exception(err, trace)
        out = {{"error": trace.getvalue()}}
    _js.globalThis._lucia_out = _json.dumps(out)

await _lucia_run()
"""


class Interpreter:
    """One interpreter (``name``) in one pytest-pyodide runtime (``selenium``: node or chrome).

    Anything else is the runtime's: ``browser``, ``driver``, ``run_js``.
    """

    def __init__(self, selenium: Any, name: str, micropython: Path = MICROPYTHON) -> None:
        self.selenium, self.name, self.micropython = selenium, name, micropython
        self._node: subprocess.Popen[str] | None = None

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.selenium, attribute)

    def __repr__(self) -> str:
        return f"<{self.name} in {self.selenium.browser}>"

    # -- MicroPython ---------------------------------------------------------------
    def install(self, files: dict[str, str]) -> None:
        """Start MicroPython here and write ``files`` (path under ``/lib``: text) into it."""
        if self.selenium.browser == "node":
            self._node = subprocess.Popen(
                ["node", str(NODE_DRIVER), self.micropython.as_uri()],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            )
            self._ask({"files": files})
            return
        self.selenium.run_js(
            f"""
            if (!globalThis.__mpy) {{
                const {{ loadMicroPython }} = await import("/micropython/micropython.mjs");
                globalThis.__mpy = await loadMicroPython();
            }}
            const {{ writeFiles }} = await import("/__test__/micropython_files.mjs");
            writeFiles(__mpy, {json.dumps(files)});
            """
        )

    def _ask(self, job: dict[str, Any]) -> Any:
        assert self._node is not None and self._node.stdin and self._node.stdout
        self._node.stdin.write(json.dumps(job) + "\n")
        self._node.stdin.flush()
        line = self._node.stdout.readline()
        if not line:
            raise RuntimeError(f"MicroPython's Node process ended (exit {self._node.poll()})")
        answer = json.loads(line)
        if "crash" in answer:
            raise RuntimeError(f"MicroPython crashed: {answer['crash']}")
        return answer.get("out")

    def run_micropython(self, code: str) -> Any:
        """Run ``code`` in MicroPython; what it left in ``globalThis._lucia_out``."""
        if self._node is not None:
            return self._ask({"code": code})
        return self.selenium.run_js(
            "globalThis._lucia_out = undefined;"
            f"await __mpy.runPythonAsync({json.dumps(code)});"
            "return globalThis._lucia_out;"
        )

    def call(self, source: str, name: str, arguments: tuple[Any, ...]) -> Any:
        """Call the function ``name`` defined by ``source`` with ``arguments``, in MicroPython."""
        code = _CALL.format(source=source, name=name, arguments=json.dumps(arguments))
        out = self.run_micropython(code)
        if out is None:
            raise AssertionError(f"{name} left no result in MicroPython ({self!r})")
        answer = json.loads(out)
        if "error" in answer:
            raise AssertionError(f"{name} raised in MicroPython ({self!r}):\n{answer['error']}")
        return answer["result"]

    def close(self) -> None:
        if self._node is not None:  # its event loop may hold timers (keep-alive): end it
            self._node.kill()
            self._node.wait(timeout=10)
            self._node = None


def _source(function: Callable[..., Any]) -> str:
    """The function's own source: dedented, decorators left off."""
    lines = textwrap.dedent(inspect.getsource(function)).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(("def ", "async def ")))
    return "\n".join(lines[start:])


def run_in_pyodide_or_micropython(function: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``function``'s body inside the interpreter its first argument (an ``Interpreter``) names.

    The other arguments and the result must be JSON data (MicroPython gets them as JSON).
    """
    in_pyodide = run_in_pyodide(function)
    source = _source(function)

    @functools.wraps(function)
    def run(target: Interpreter, *arguments: Any) -> Any:
        if target.name == "pyodide":
            return in_pyodide(target.selenium, *arguments)
        return target.call(source, function.__name__, arguments)

    return run
