"""Give a wheel explicit directory entries, each before the files under it.

PyScript 0.7.31 installs a wheel under MicroPython by unzipping it itself, making
each file's parent with a single, non-recursive ``mkdir``: the license flit puts in
``<name>.dist-info/licenses/`` comes before any other ``.dist-info`` file, so its
grandparent does not exist yet and the install fails (ENOENT). With a directory
entry ahead of every file, each ``mkdir`` finds its parent. The files, their bytes
and ``RECORD`` stay as they were; pip ignores directory entries.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path


def with_directories(wheel: Path) -> None:
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


if __name__ == "__main__":
    for name in sys.argv[1:]:
        with_directories(Path(name))
