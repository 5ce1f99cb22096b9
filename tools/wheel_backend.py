"""The wheel's build backend: flit_core's, with a directory entry ahead of every file.

``pyproject.toml`` names it (``backend-path = ["tools"]``), so every standard build
makes the same wheel: ``pip wheel .``, ``python -m build`` (whose wheel is built from
the sdist), ``make wheel``. PyScript 0.7.31 installs a wheel under MicroPython by
unzipping it itself, making each file's parent with a single, non-recursive ``mkdir``:
the license flit puts in ``<name>.dist-info/licenses/`` comes before any other
``.dist-info`` file, so its grandparent does not exist yet and the install fails
(ENOENT). With a directory entry ahead of every file, each ``mkdir`` finds its parent.
The files, their bytes and ``RECORD`` stay as flit wrote them; pip ignores directory
entries. Everything but ``build_wheel`` is flit_core's own hook.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any


def build_wheel(wheel_directory: str, config_settings: dict[str, Any] | None = None,
                metadata_directory: str | None = None) -> str:
    from flit_core import buildapi  # noqa: PLC0415 - only a build has flit_core

    name: str = buildapi.build_wheel(wheel_directory, config_settings, metadata_directory)
    with_directories(Path(wheel_directory) / name)
    return name


def build_sdist(sdist_directory: str, config_settings: dict[str, Any] | None = None) -> str:
    from flit_core import buildapi  # noqa: PLC0415

    return str(buildapi.build_sdist(sdist_directory, config_settings))


def get_requires_for_build_wheel(config_settings: dict[str, Any] | None = None) -> list[str]:
    return []  # flit_core, which build-system.requires names, is all it takes


get_requires_for_build_sdist = get_requires_for_build_wheel


def prepare_metadata_for_build_wheel(metadata_directory: str,
                                     config_settings: dict[str, Any] | None = None) -> str:
    from flit_core import buildapi  # noqa: PLC0415

    return str(buildapi.prepare_metadata_for_build_wheel(metadata_directory, config_settings))


def with_directories(wheel: Path) -> None:
    """Rewrite ``wheel`` with each directory's entry before the first file under it."""
    with zipfile.ZipFile(wheel) as source:
        entries = [(info, source.read(info)) for info in source.infolist() if not info.is_dir()]
    made: set[str] = set()
    staged = wheel.with_suffix(".tmp")
    with zipfile.ZipFile(staged, "w") as target:
        for info, data in entries:
            parts = info.filename.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                directory = "/".join(parts[:depth]) + "/"
                if directory not in made:
                    made.add(directory)
                    entry = zipfile.ZipInfo(directory, date_time=info.date_time)
                    entry.external_attr = 0o40755 << 16 | 0x10  # a directory, drwxr-xr-x
                    target.writestr(entry, b"")
            target.writestr(info, data)
    staged.replace(wheel)
