"""The MicroPython seam (``_compat._lang``) on CPython: each fallback runs here too.

Every fallback is chosen by what the interpreter has, so these tests take the thing
away (monkeypatch) and check that the fallback behaves as the real one does.
"""

from __future__ import annotations

import ast
import asyncio
import random
import typing
import zipfile
from pathlib import Path
from typing import Any

import pytest

from lucia_pyodide import ErrorCode, EventType
from lucia_pyodide._compat import _lang
from lucia_pyodide._errors import ERROR_CODES
from lucia_pyodide._events import EVENT_TYPES
from tools.wheel_backend import with_directories

ROOT = Path(__file__).resolve().parents[2]


def test_spawn_and_shielded_without_ensure_future_and_shield(monkeypatch: pytest.MonkeyPatch) -> None:
    async def main() -> list[Any]:
        monkeypatch.delattr(asyncio, "ensure_future")
        monkeypatch.delattr(asyncio, "shield")

        async def answer() -> int:
            await asyncio.sleep(0)
            return 42

        task = _lang.spawn(answer())
        shielded = _lang.shielded(task)
        return [shielded is task, await shielded]

    assert asyncio.run(main()) == [True, 42]


def test_start_task_marks_a_failure_retrieved() -> None:
    async def main() -> bool:
        async def fail() -> int:
            raise ValueError("x")

        task = _lang.start_task(fail())
        await asyncio.sleep(0.01)
        return task.done() and not task._log_traceback  # type: ignore[attr-defined]

    assert asyncio.run(main())


def test_is_awaitable_knows_micropython_coroutines() -> None:
    class generator:
        def send(self, value: object) -> None: ...

    async def coroutine() -> None: ...

    made = coroutine()
    assert _lang.is_awaitable(made) and _lang.is_awaitable(generator())
    assert not _lang.is_awaitable(None) and not _lang.is_awaitable(iter([]))
    made.close()


def test_random_source_and_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(_lang.new_rng(), random.Random)
    monkeypatch.delattr(random, "Random")
    assert _lang.new_rng() is random  # the module has uniform()
    ids = {_lang.random_id() for _ in range(50)}
    assert len(ids) == 50 and all(len(i) == 12 and int(i, 16) >= 0 for i in ids)


def _literal_in(path: Path, name: str) -> set[str]:
    """The strings of ``name = Literal[...]`` under ``if TYPE_CHECKING`` in ``path``."""
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and node.target.id == name and isinstance(node.value, ast.Subscript)):
            elements = node.value.slice
            assert isinstance(elements, ast.Tuple)
            return {e.value for e in elements.elts if isinstance(e, ast.Constant)}
    raise AssertionError(f"no {name} = Literal[...] in {path}")


def test_the_types_name_the_same_codes_as_the_run_time_sets() -> None:
    assert _literal_in(ROOT / "lucia_pyodide" / "_errors.py", "ErrorCode") == set(ERROR_CODES)
    assert _literal_in(ROOT / "lucia_pyodide" / "_events.py", "EventType") == set(EVENT_TYPES)
    assert ErrorCode is str and EventType is str  # at run time, in every interpreter
    assert not typing.get_args(ErrorCode)


def test_wheel_directories_come_before_their_files(tmp_path: Path) -> None:
    wheel = tmp_path / "x-1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as made:
        made.writestr("x/__init__.py", "A = 1\n")
        made.writestr("x-1.dist-info/licenses/LICENSE", "MIT\n")
        made.writestr("x-1.dist-info/RECORD", "x/__init__.py,,\n")
    with_directories(wheel)
    with zipfile.ZipFile(wheel) as done:
        names = done.namelist()
        assert done.read("x/__init__.py") == b"A = 1\n"
    assert names == ["x/", "x/__init__.py", "x-1.dist-info/", "x-1.dist-info/licenses/",
                     "x-1.dist-info/licenses/LICENSE", "x-1.dist-info/RECORD"]
    for index, name in enumerate(names):  # each parent made before anything in it
        parent = name.rstrip("/").rpartition("/")[0]
        assert not parent or parent + "/" in names[:index]
