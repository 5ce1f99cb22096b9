"""tools/setup_assets.py: a failed download says what the tool itself said."""

from __future__ import annotations

import sys

import pytest

from tools.setup_assets import SetupError, run


def test_a_failed_step_carries_the_tools_own_error() -> None:
    with pytest.raises(SetupError) as caught:
        run(sys.executable, "-c", "import sys; sys.exit('npm error 404 Not Found - @scope/nope')")
    assert "404 Not Found - @scope/nope" in str(caught.value) and "exit 1" in str(caught.value)


def test_a_step_that_works_is_quiet(capsys: pytest.CaptureFixture[str]) -> None:
    run(sys.executable, "-c", "print('chatter')")
    assert capsys.readouterr().out == ""
