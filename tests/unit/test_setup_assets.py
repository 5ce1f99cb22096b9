"""tools/setup_assets.py: a failed download says what the tool itself said; the releases it
sets up for the tests are the ones the package metadata claims."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

from tools import setup_assets
from tools.setup_assets import SetupError, run

ROOT = Path(__file__).resolve().parents[2]


def test_a_failed_step_carries_the_tools_own_error() -> None:
    with pytest.raises(SetupError) as caught:
        run(sys.executable, "-c", "import sys; sys.exit('npm error 404 Not Found - @scope/nope')")
    assert "404 Not Found - @scope/nope" in str(caught.value) and "exit 1" in str(caught.value)


def test_a_step_that_works_is_quiet(capsys: pytest.CaptureFixture[str]) -> None:
    run(sys.executable, "-c", "print('chatter')")
    assert capsys.readouterr().out == ""


def test_the_package_metadata_claims_what_the_release_tests_run() -> None:
    """requires-python and the classifiers say the Pythons the in-interpreter suite runs on."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    tested = {*setup_assets.PYODIDE_RELEASES.values(), setup_assets.PYTHON_OF_PYODIDE}
    claimed = {c.rsplit(" :: ", 1)[1] for c in project["classifiers"]
               if c.startswith("Programming Language :: Python :: 3.")}
    assert claimed == tested
    oldest = min(tested, key=lambda v: tuple(map(int, v.split("."))))
    assert project["requires-python"] == f">={oldest}"
