"""The public API as its users meet it: names a type checker knows, and what help() shows."""

from __future__ import annotations

import os
import pydoc
import tarfile
import textwrap
from pathlib import Path

import pytest
from flit_core import buildapi
from mypy import api as mypy_api

import lucia_pyodide
from lucia_pyodide._compat._protocols import HttpResponse
from lucia_pyodide._errors import ERROR_CODES
from lucia_pyodide._responses import error_from_response

ROOT = Path(__file__).resolve().parents[2]


def test_a_typo_in_a_code_or_an_event_type_is_a_type_error(tmp_path: Path) -> None:
    program = tmp_path / "app.py"
    program.write_text(textwrap.dedent("""
        from lucia_pyodide import AUTH_INVALID_REFRESH_TOKEN, AuthEvent, LuciaError, keep_alive

        def handle(err: LuciaError, event: AuthEvent) -> None:
            if err.code == AUTH_INVALID_REFRESH_TOKEN:  # fine
                pass
            if err.code == "AUTH_INVALID_REFRESH_TOKN":  # typo: line 7
                pass
            if event.type == "SIGNED_OUTT":  # typo: line 9
                pass
            keep_alive(60, min_intervall=5)  # unknown option: line 11
    """))
    out, _, status = mypy_api.run(["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "c"),
                                   str(program)])
    assert status == 1, out
    errors = sorted(line.split(":")[1] for line in out.splitlines() if ": error:" in line)
    assert errors == ["11", "7", "9"], out
    assert "Non-overlapping equality check" in out and "min_intervall" in out


def test_every_exported_name_is_documented_and_nothing_private_shows() -> None:
    text = pydoc.render_doc(lucia_pyodide, renderer=pydoc.plaintext)
    for name in lucia_pyodide.__all__:
        assert hasattr(lucia_pyodide, name), name
        assert name in text, name
    assert "__getattr__" not in text
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in lucia_pyodide.__all__ if f"`{name}" not in readme]
    assert not missing, f"not in the README: {missing}"


def test_a_code_lucia_does_not_send_is_unknown_error() -> None:
    error = error_from_response(HttpResponse(500, '{"message": "SOME_NEW_CODE"}'), "refresh")
    assert error.code == "UNKNOWN_ERROR" and "SOME_NEW_CODE" in error.detail
    for code in ERROR_CODES:
        assert error_from_response(HttpResponse(500, f'{{"message": "{code}"}}'), "x").code == code


@pytest.mark.parametrize("name", ["SIGNED_OUT", "AUTH_NOT_AUTHENTICATED"])
def test_constants_are_their_own_names(name: str) -> None:
    assert getattr(lucia_pyodide, name) == name


def test_the_sdist_holds_what_make_test_needs(tmp_path: Path) -> None:


    here = os.getcwd()
    os.chdir(ROOT)
    try:
        name = buildapi.build_sdist(str(tmp_path))
    finally:
        os.chdir(here)
    with tarfile.open(tmp_path / name) as sdist:
        members = {m.split("/", 1)[1] for m in sdist.getnames() if "/" in m}
    for needed in ("Makefile", ".ci/run", "requirements-dev.txt", "pyproject.toml", "README.md",
                   "PROTOCOL.md", "CHANGELOG.md", "LICENSE", "PYPI.md", "tools/setup_assets.py",
                   "tools/browser.py", "refserver/lab/lab.mjs", "static/demo_app.py",
                   "tests/e2e/test_session_truth.py", "tests/unit/fakes.py", "typings/js.pyi",
                   "bench/run.py", "lucia_pyodide/py.typed"):
        assert needed in members, needed
    assert not any("__pycache__" in m for m in members)
