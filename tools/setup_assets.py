"""Fetch Pyodide and MicroPython (npm), PyPI wheels and PyScript (npm) into build/, offline-ready.

Idempotent: a second run returns at once.

Pyodide's npm package has no packages; the ones tests and PyScript need
(micropip, pytest and their dependencies) are pure-Python wheels fetched from
PyPI, placed under the lock file's names, with the lock's sha256 rewritten to
match (PyPI's files are not byte-identical to the CDN's).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PYODIDE_VERSION = "314.0.7"
PYSCRIPT_VERSION = "0.7.31"
#: The MicroPython build PyScript 0.7.31 loads for `<script type="mpy">` (its default version).
MICROPYTHON_VERSION = "1.28.0-6"
#: The other Pyodide releases the in-interpreter suite runs on (``--for releases``), with the
#: Python each ships: one of each line since 3.11 (``requires-python``; a unit test holds
#: pyproject's classifiers to these). Setup refuses a release whose lock says otherwise.
PYODIDE_RELEASES = {"0.25.1": "3.11", "0.26.4": "3.12", "0.27.7": "3.12", "0.28.3": "3.13",
                    "0.29.3": "3.13", "314.0.8": "3.14"}
PYTHON_OF_PYODIDE = "3.14"
#: The oldest PyScript releases whose pages the browser tests load (the newest is
#: PYSCRIPT_VERSION): each with the Pyodide and the MicroPython it loads by default.
PYSCRIPT_RELEASES = {"0.6.0": ("0.26.2", None), "0.6.72": ("0.28.2", "1.27.0-preview-256")}
#: The other MicroPython builds PyScript releases ask for that the suite passes on: 1.25.0
#: (PyScript 0.6.50's), and from 1.27.0 (PyScript 0.7.x) to the newest. Not 1.26.0 (refused
#: at import; README).
MICROPYTHON_RELEASES = ("1.25.0", "1.27.0", "1.29.0-6")
#: A MicroPython the package refuses at import (a test checks that it says so).
MICROPYTHON_REFUSED = "1.26.0"
#: Packages whose dependency closure (from the lock) goes into the dist dir.
ROOT_PACKAGES = ("micropip", "pytest", "tblib")
#: What PyScript's `packages` config needs for the demo: micropip and its dependencies.
DEMO_PACKAGES = ("micropip",)
STAMP = ".lucia-assets"


class SetupError(Exception):
    """A download or build step failed; the message holds the tool's own words."""


def run(*cmd: str) -> None:
    """Run quietly; on failure raise ``SetupError`` with the command's own error output."""
    done = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        said = (done.stderr.strip() or done.stdout.strip() or "(no output)")[-2000:]
        raise SetupError(f"`{' '.join(cmd)}` failed (exit {done.returncode}):\n{said}")


def say(text: str) -> None:
    print(f"  {text}", flush=True)


def npm_pack(spec: str, cache: Path) -> Path:
    """Download an npm tarball once into ``cache``."""
    cache.mkdir(parents=True, exist_ok=True)
    name = spec.lstrip("@").replace("/", "-").replace("@", "-") + ".tgz"
    tarball = cache / name
    if not tarball.exists():
        say(f"downloading {spec} from npm")
        run("npm", "pack", "--silent", spec, "--pack-destination", str(cache))
    return tarball


def extract_package(tarball: Path, dest: Path, subdir: str = "") -> None:
    """Extract ``package/<subdir>`` of an npm tarball into ``dest``."""
    prefix = f"package/{subdir}".rstrip("/") + "/"
    with tarfile.open(tarball) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(prefix) and m.isfile()]
        for member in members:
            member.name = member.name[len(prefix):]
        tar.extractall(dest, members=members, filter="data")


def closure(packages: dict[str, dict[str, object]], roots: tuple[str, ...]) -> list[str]:
    seen: list[str] = []
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.append(name)
            todo.extend(str(d) for d in packages[name]["depends"])  # type: ignore[attr-defined]
    return sorted(seen)


def fetch_wheel(name: str, version: str, cache: Path, python: str = PYTHON_OF_PYODIDE) -> Path:
    """A wheel of ``name==version`` for ``python`` from PyPI (built from the sdist where there
    is no wheel)."""
    cache.mkdir(parents=True, exist_ok=True)
    normal = name.replace("-", "_").lower()
    found = [p for p in cache.glob("*.whl") if p.name.lower().startswith(f"{normal}-{version}-")]
    if found:
        return found[0]
    pip = [sys.executable, "-m", "pip", "-q"]
    say(f"downloading {name}=={version} from PyPI")
    try:
        run(*pip, "download", "--no-deps", "--only-binary=:all:", "--python-version", python,
            "-d", str(cache), f"{name}=={version}")
    except SetupError:  # sdist only (atomicwrites)
        run(*pip, "wheel", "--no-deps", "-w", str(cache), f"{name}=={version}")
    return fetch_wheel(name, version, cache, python)


def setup_pyodide(dist: Path, cache: Path, roots: tuple[str, ...], version: str = PYODIDE_VERSION,
                  python: str | None = PYTHON_OF_PYODIDE) -> None:
    """Pyodide ``version`` in ``dist`` with ``roots`` and what they need (``python``: the
    Python it must ship, ``None`` for whatever its lock says)."""
    tarball = npm_pack(f"pyodide@{version}", cache)
    extract_package(tarball, dist)
    lock_path = dist / "pyodide-lock.json"
    lock = json.loads(lock_path.read_text())
    ships = ".".join(str(lock["info"]["python"]).split(".")[:2])
    python = python or ships
    if ships != python:
        raise SetupError(f"Pyodide {version} ships Python {ships}, not {python} as setup_assets says")
    packages = lock["packages"]
    # Parts of the standard library an old Pyodide unvendors (0.25's distutils, which its
    # setuptools names) are not on npm nor PyPI; nothing the tests import needs them.
    unvendored = {name for name, entry in packages.items() if entry.get("package_type") == "cpython_module"
                  and not (dist / entry["file_name"]).exists()}
    for entry in packages.values():
        entry["depends"] = [d for d in entry["depends"] if d not in unvendored]
    for name in closure(packages, roots):
        entry = packages[name]
        wheel = fetch_wheel(name, entry["version"], cache / "wheels", python)
        target = dist / entry["file_name"]
        shutil.copyfile(wheel, target)
        entry["sha256"] = hashlib.sha256(target.read_bytes()).hexdigest()
    lock_path.write_text(json.dumps(lock))


def setup_pyscript(pyscript: Path, dist: Path, cache: Path) -> None:
    """PyScript's dist as ``pyscript/``, with the (hash-patched) Pyodide under ``pyscript/pyodide``
    and MicroPython under ``pyscript/micropython``."""
    extract_package(npm_pack(f"@pyscript/core@{PYSCRIPT_VERSION}", cache), pyscript, "dist")
    shutil.copytree(dist, pyscript / "pyodide", dirs_exist_ok=True)
    micropython = npm_pack(f"@micropython/micropython-webassembly-pyscript@{MICROPYTHON_VERSION}", cache)
    extract_package(micropython, pyscript / "micropython")


def key_for(roots: tuple[str, ...]) -> str:
    return (f"pyodide {PYODIDE_VERSION}, pyscript {PYSCRIPT_VERSION}, "
            f"micropython {MICROPYTHON_VERSION}, {','.join(roots)}")


def setup(build: Path, roots: tuple[str, ...]) -> None:
    dist, pyscript, cache = build / "pyodide", build / "pyscript", build / "cache"
    stamp = build / STAMP
    # What the tests need is a superset of what the demo needs: either set will do for the demo.
    done = stamp.read_text() if stamp.exists() else ""
    if done in {key_for(roots), key_for(ROOT_PACKAGES)}:
        return
    print(f"setting up Pyodide {PYODIDE_VERSION}, MicroPython {MICROPYTHON_VERSION} and "
          f"PyScript {PYSCRIPT_VERSION} "
          f"(with {', '.join(roots)}) in {build}", flush=True)
    with tempfile.TemporaryDirectory(dir=build.parent if build.parent.exists() else None) as tmp:
        new_dist, new_pyscript = Path(tmp) / "pyodide", Path(tmp) / "pyscript"
        setup_pyodide(new_dist, cache, roots)
        setup_pyscript(new_pyscript, new_dist, cache)
        for final, new in ((dist, new_dist), (pyscript, new_pyscript)):
            shutil.rmtree(final, ignore_errors=True)
            shutil.move(new, final)
    stamp.write_text(key_for(roots))
    print(f"assets ready: {dist} and {pyscript}", flush=True)


def setup_releases(build: Path) -> None:
    """Each of ``PYODIDE_RELEASES`` and ``MICROPYTHON_RELEASES`` in ``build/releases/``, once."""
    releases, cache = build / "releases", build / "cache"
    defaults = PYSCRIPT_RELEASES.values()
    wanted = [(f"pyodide-{v}", v) for v in {*PYODIDE_RELEASES, *(p for p, _ in defaults)}] + [
        (f"micropython-{v}", v)
        for v in {*MICROPYTHON_RELEASES, MICROPYTHON_REFUSED, *(m for _, m in defaults if m)}] + [
        (f"pyscript-{v}", v) for v in PYSCRIPT_RELEASES]
    for name, version in wanted:
        final = releases / name
        if (final / STAMP).exists():
            continue
        say(f"setting up {name.replace('-', ' ', 1)} in {releases}")
        releases.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=releases) as tmp:
            new = Path(tmp) / name
            if name.startswith("pyodide"):
                setup_pyodide(new, cache, ROOT_PACKAGES, version, PYODIDE_RELEASES.get(version))
            elif name.startswith("pyscript"):
                extract_package(npm_pack(f"@pyscript/core@{version}", cache), new, "dist")
            else:
                package = f"@micropython/micropython-webassembly-pyscript@{version}"
                extract_package(npm_pack(package, cache), new)
            (new / STAMP).write_text(version)
            shutil.rmtree(final, ignore_errors=True)
            shutil.move(new, final)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build", type=Path, default=Path("build"))
    parser.add_argument("--list", choices=["pyodide", "micropython"],
                        help="print the other releases of one interpreter the tests run on, and stop")
    parser.add_argument("--for", dest="purpose", choices=["demo", "test", "releases"], default="test",
                        help="demo: only what PyScript needs (micropip); test: also pytest's wheels; "
                             "releases: the other Pyodide and MicroPython releases, for tests")
    args = parser.parse_args()
    if args.list:
        print(" ".join(PYODIDE_RELEASES if args.list == "pyodide" else MICROPYTHON_RELEASES))
        return
    args.build.mkdir(parents=True, exist_ok=True)
    roots = DEMO_PACKAGES if args.purpose == "demo" else ROOT_PACKAGES
    try:
        if args.purpose == "releases":
            setup_releases(args.build.resolve())
        else:
            setup(args.build.resolve(), roots)
    except SetupError as err:
        sys.exit(f"setup failed: {err}")


if __name__ == "__main__":
    main()
