"""``make bench``: what lucia_pyodide costs a page, measured side by side in one run.

Sizes (wheel vs the JavaScript client it ports vs Pyodide itself), install+import
time against Pyodide's own boot, ``get_user()`` per call, and ``refresh_session()``
against a bare ``pyfetch`` POST and a JavaScript ``fetch`` to the same endpoint, in
Node and headless Chromium, against the reference server on 127.0.0.1. In each engine
(Chromium, Firefox ESR, WebKitGTK) also the demo page from navigation to the user shown,
under MicroPython and under Pyodide (alternating, each first visit in a fresh profile),
and the client's own import in MicroPython. Prints a table and writes the raw samples
and summaries as JSON.
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from refserver.server import App, Config, start_in_thread  # noqa: E402
from refserver.store import Store  # noqa: E402
from tools.browser import ENGINES, Engine, chromium, launch  # noqa: E402

BUILD = ROOT / "build"
JS_CLIENT = "lucia-sveltekit@0.10.1"
CANNED_PATH = "/__test__/fault/ok"  # a fixed 200 {"expires"}: times the client, not the database
PYODIDE_CORE = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip",
                "pyodide-lock.json")


def gzip_size(data: bytes) -> int:
    return len(gzip.compress(data, 9, mtime=0))


def js_client_sizes() -> dict[str, int]:
    """client.js + user.js of lucia-sveltekit 0.10.1 (the seed's client), raw and gzipped."""
    cache = BUILD / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    tarball = cache / "lucia-sveltekit-0.10.1.tgz"
    if not tarball.exists():
        subprocess.run(["npm", "pack", "--silent", JS_CLIENT, "--pack-destination", str(cache)],
                       check=True, stdout=subprocess.DEVNULL)
    with tarfile.open(tarball) as tar:
        data = b"".join(tar.extractfile(f"package/{name}").read()  # type: ignore[union-attr]
                        for name in ("client.js", "user.js"))
    return {"bytes": len(data), "gzip_bytes": gzip_size(data)}


def baseline_wheel(directory: Path) -> Path:
    """The smallest possible wheel (one empty module): what installing *any* wheel costs."""
    import zipfile  # noqa: PLC0415

    wheel = directory / "bench_empty-0.0.0-py3-none-any.whl"
    files = {
        "bench_empty.py": "",
        "bench_empty-0.0.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: bench_empty\n"
                                                "Version: 0.0.0\n",
        "bench_empty-0.0.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: bench\n"
                                             "Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files["bench_empty-0.0.0.dist-info/RECORD"] = "".join(f"{name},,\n" for name in files) + (
        "bench_empty-0.0.0.dist-info/RECORD,,\n")
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return wheel


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median": statistics.median(ordered), "min": ordered[0], "max": ordered[-1],
            "n": len(ordered)}


def run_node(opts: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(["node", str(ROOT / "bench" / "node.mjs"), json.dumps(opts)],
                          check=False, capture_output=True, text=True, timeout=900)
    if done.returncode:
        raise RuntimeError(f"bench failed in Node:\n{done.stderr[-300:]}\n{done.stdout[-300:]}")
    output = done.stdout
    line = next(x for x in output.splitlines() if x.startswith("BENCH_RESULT "))
    result: dict[str, Any] = json.loads(line.split(" ", 1)[1])
    return result


def run_chrome(server_url: str, opts: dict[str, Any]) -> dict[str, Any]:
    with chromium() as driver:
        driver.get(f"{server_url}/bench/bench.html#{quote(json.dumps(opts))}")
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            result = driver.execute_script("return window.benchResult || null")
            error = driver.execute_script("return window.benchError || null")
            if error:
                raise RuntimeError(f"bench failed in Chromium: {error}")
            if result:
                return dict(result)
            time.sleep(0.5)
        raise TimeoutError("bench did not finish in Chromium")


#: The demo's pages, one per interpreter (refserver.server.APP_PAGES).
DEMO_PAGES = {"micropython": "/app-mpy", "pyodide": "/app-py"}

_SIGN_IN = """const done = arguments[arguments.length - 1];
fetch('/__test__/session', {method: 'POST', credentials: 'same-origin',
                            body: JSON.stringify({username: 'bencher'})}).then(r => done(r.status));"""
_DOWNLOADED = """return performance.getEntriesByType('resource').concat(
    performance.getEntriesByType('navigation')).reduce((sum, e) => sum + e.transferSize, 0)"""


def wait_value(driver: Any, script: str, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.02)
    raise TimeoutError(f"no value from {script!r} in {timeout} s on {driver.current_url}")


def sign_in(driver: Any, server_url: str) -> None:
    driver.get(server_url + "/login")
    assert driver.execute_async_script(_SIGN_IN) == 200


def run_pages(server_url: str, engine: Engine, rounds: int, boots: int) -> dict[str, Any]:
    """The demo page to its user in ``engine``, per interpreter: a first visit (a fresh
    profile: no HTTP cache, no PyScript package storage) and a second."""
    raw: dict[str, Any] = {name: {"first_ms": [], "second_ms": [], "first_bytes": []}
                           for name in DEMO_PAGES}
    for round_ in range(rounds):
        order = list(DEMO_PAGES) if round_ % 2 == 0 else list(reversed(DEMO_PAGES))
        for name in order:
            with launch(engine) as driver:
                sign_in(driver, server_url)
                for visit in ("first", "second"):
                    driver.get(server_url + DEMO_PAGES[name])
                    shown = wait_value(driver, "return document.body.dataset.userShownAt")
                    raw[name][f"{visit}_ms"].append(float(shown))
                    if visit == "first":
                        raw[name]["first_bytes"].append(driver.execute_script(_DOWNLOADED))
    with launch(engine) as driver:
        sign_in(driver, server_url)
        driver.get(f"{server_url}/bench/micropython.html#{quote(json.dumps({'boots': boots}))}")
        result = wait_value(driver, "return window.benchResult || window.benchError")
        if isinstance(result, str):
            raise RuntimeError(f"the MicroPython client bench failed: {result}")
        raw["micropython_client"] = result
    return raw


def summarise_pages(raw: dict[str, Any], wheel_bytes: int) -> dict[str, Any]:
    out: dict[str, Any] = {name: {key: summary(values) for key, values in raw[name].items()}
                           for name in DEMO_PAGES}
    mpy, pyo = raw["micropython"], raw["pyodide"]
    for visit in ("first", "second"):  # per round (the two ran back to back), then the median
        out[f"ratio_{visit}"] = summary([m / p for m, p in zip(mpy[f"{visit}_ms"],
                                                               pyo[f"{visit}_ms"], strict=True)])
    client = raw["micropython_client"]
    out["micropython_client"] = {key: summary(client[key])
                                 for key in ("boot_ms", "import_ms", "get_user_first_ms")}
    page_ms = statistics.median(mpy["first_ms"])
    out["client_ms_fraction_of_page"] = (statistics.median(client["import_ms"])
                                         + statistics.median(client["get_user_first_ms"])) / page_ms
    downloaded = statistics.median(mpy["first_bytes"])  # 0 where an engine does not say
    out["wheel_fraction_of_page_bytes"] = wheel_bytes / downloaded if downloaded else None
    return out


def summarise(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        out[key] = summary(value) if isinstance(value, list) and value and isinstance(
            value[0], (int, float)) else value
    client, pyfetch, js_fetch = (raw[f"refresh_{n}_ms"] for n in ("client", "pyfetch", "js_fetch"))
    # Ratios per round (the three ran back to back, first place rotating), then their spread.
    out["ratio_client_vs_pyfetch"] = summary([c / p for c, p in zip(client, pyfetch, strict=True)])
    out["ratio_client_vs_js_fetch"] = summary([c / j for c, j in zip(client, js_fetch, strict=True)])
    boot = statistics.median(raw["boot_ms"])
    out["install_import_fraction_of_boot"] = statistics.median(raw["install_import_ms"]) / boot
    out["empty_fraction_of_boot"] = statistics.median(raw["empty_install_import_ms"]) / boot
    return out


def fmt(stat: dict[str, float], unit: str, digits: int = 2) -> str:
    return (f"{stat['median']:.{digits}f} {unit} "
            f"[{stat['min']:.{digits}f}-{stat['max']:.{digits}f}, n={stat['n']:g}]")


def table(report: dict[str, Any]) -> str:
    sizes = report["sizes"]
    installed = next(iter(report["runtimes"].values()))["installed_bytes"]
    rows = [
        "lucia_pyodide bench: median [min-max, n]",
        f"machine: {report['machine']}",
        "",
        f"wheel (compressed)              {sizes['wheel_bytes']:>10,} B",
        f"wheel installed (files)         {installed:>10,} B",
        f"JS client client.js+user.js     {sizes['js_client']['bytes']:>10,} B "
        f"({sizes['js_client']['gzip_bytes']:,} B gzipped)",
        f"Pyodide core (wasm+js+stdlib)   {sizes['pyodide_core_bytes']:>10,} B",
    ]
    for runtime, s in report["runtimes"].items():
        rows += [
            "",
            f"[{runtime}]",
            f"Pyodide boot                    {fmt(s['boot_ms'], 'ms', 0)}",
            f"wheel install + import          {fmt(s['install_import_ms'], 'ms', 1)}"
            f"  = {100 * s['install_import_fraction_of_boot']:.2f}% of boot",
            f"  of which import               {fmt(s['import_ms'], 'ms', 1)}",
            f"empty wheel before it           {fmt(s['empty_install_import_ms'], 'ms', 1)}"
            f"  = {100 * s['empty_fraction_of_boot']:.2f}% of boot (Pyodide's loader start)",
            f"get_user() first read           {fmt(s['get_user_first_us'], 'us', 1)}",
            f"get_user() cached               {fmt(s['get_user_cached_us'], 'us', 3)}",
            f"refresh_session() per call      {fmt(s['refresh_client_ms'], 'ms', 3)}",
            f"bare pyfetch POST per call      {fmt(s['refresh_pyfetch_ms'], 'ms', 3)}",
            f"JS fetch POST per call          {fmt(s['refresh_js_fetch_ms'], 'ms', 3)}",
            f"ratio client / pyfetch          {fmt(s['ratio_client_vs_pyfetch'], 'x', 3)}",
            f"ratio client / JS fetch         {fmt(s['ratio_client_vs_js_fetch'], 'x', 3)}",
            f"100 concurrent: client          {s['concurrent100_client_ms']:.1f} ms, "
            f"{s['concurrent100_client_requests_per_call']:.2f} requests per call",
            f"100 concurrent: bare pyfetch    {s['concurrent100_pyfetch_ms']:.1f} ms, "
            f"{s['concurrent100_pyfetch_requests_per_call']:.2f} requests per call",
            "growth per 1000 calls           "
            + ", ".join(f"{objects:+d} objects / {blocks:+d} blocks"
                        for objects, blocks in s["memory_growth_per_1000_calls"]),
        ]
    for engine, pages in report.get("pages", {}).items():
        mpy, pyo, client = pages["micropython"], pages["pyodide"], pages["micropython_client"]
        share = pages["wheel_fraction_of_page_bytes"]
        rows += [
            "",
            f"[{engine}] the demo page, navigation to the user shown",
            f"MicroPython, first visit        {fmt(mpy['first_ms'], 'ms', 0)}",
            f"Pyodide, first visit            {fmt(pyo['first_ms'], 'ms', 0)}",
            f"ratio MicroPython / Pyodide     {fmt(pages['ratio_first'], 'x', 3)}",
            f"MicroPython, second visit       {fmt(mpy['second_ms'], 'ms', 0)}",
            f"Pyodide, second visit           {fmt(pyo['second_ms'], 'ms', 0)}",
            f"ratio MicroPython / Pyodide     {fmt(pages['ratio_second'], 'x', 3)}",
            f"downloaded, first visit         MicroPython {mpy['first_bytes']['median']:,.0f} B, "
            f"Pyodide {pyo['first_bytes']['median']:,.0f} B",
            "",
            f"[{engine}] the client in MicroPython (fresh interpreter each time)",
            f"MicroPython boot                {fmt(client['boot_ms'], 'ms', 1)}",
            f"import lucia_pyodide            {fmt(client['import_ms'], 'ms', 1)}",
            f"get_user() first read           {fmt(client['get_user_first_ms'], 'ms', 2)}",
            f"client / page-to-user           {100 * pages['client_ms_fraction_of_page']:.1f}% of time, "
            + (f"wheel {100 * share:.1f}% of the bytes" if share else "(no transfer sizes)"),
        ]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run: few repetitions")
    parser.add_argument("--runtimes", default="node,chrome")
    parser.add_argument("--engines", default=",".join(ENGINES),
                        help="the engines the demo page is timed in (with the chrome runtime)")
    parser.add_argument("--out", type=Path, default=BUILD / "bench" / "bench.json")
    parser.add_argument("--quiet", action="store_true", help="write the JSON, print no table")
    args = parser.parse_args()

    wheel = max((BUILD / "wheel").glob("lucia_pyodide-*-py3-none-any.whl"))
    bench_dir = BUILD / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    empty = baseline_wheel(bench_dir)
    dist = BUILD / "pyodide"
    app = App(Store(), Config(test_api=True), mounts=[
        ("/pyodide", dist), ("/wheels", wheel.parent), ("/bench", ROOT / "bench"),
        ("/bench-wheels", bench_dir), ("/pyscript", BUILD / "pyscript")])
    server = start_in_thread(app)
    url = f"http://127.0.0.1:{server.server_port}"
    reps = {"boots": 2, "rounds": 3, "calls": 20} if args.quick else {
        "boots": 5, "rounds": 15, "calls": 100}
    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, "
                   f"{__import__('os').cpu_count()} cores, {platform.system()} {platform.release()}",
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "settings": reps,
        "sizes": {
            "wheel_bytes": wheel.stat().st_size,
            "js_client": js_client_sizes(),
            "pyodide_core_bytes": sum((dist / f).stat().st_size for f in PYODIDE_CORE),
        },
        "runtimes": {},
        "raw": {},
    }
    try:
        for runtime in args.runtimes.split(","):
            config = {"rounds": reps["rounds"], "calls": reps["calls"], "path": CANNED_PATH}
            if runtime == "node":
                config |= {"base_url": url, "headers": {"Origin": url}}
                opts = {"pyodideModule": str(dist / "pyodide.mjs"), "indexURL": str(dist) + "/",
                        "wheelURL": f"{url}/wheels/{wheel.name}",
                        "emptyWheelURL": f"{url}/bench-wheels/{empty.name}",
                        "insideURL": f"{url}/bench/inside.py", "boots": reps["boots"],
                        "config": config}
                raw = run_node(opts)
            else:
                config |= {"base_url": None, "headers": {}}
                opts = {"indexURL": "/pyodide/", "wheelURL": f"/wheels/{wheel.name}",
                        "emptyWheelURL": f"/bench-wheels/{empty.name}",
                        "insideURL": "/bench/inside.py", "boots": reps["boots"], "config": config}
                raw = run_chrome(url, opts)
            report["raw"][runtime] = raw
            report["runtimes"][runtime] = summarise(raw)
        if "chrome" in args.runtimes.split(","):
            report["raw"]["pages"], report["pages"] = {}, {}
            for engine in args.engines.split(","):
                if engine not in ENGINES:
                    parser.error(f"--engines: no such engine {engine!r}; know {ENGINES}")
                raw_pages = run_pages(url, engine, reps["boots"], reps["boots"])
                report["raw"]["pages"][engine] = raw_pages
                report["pages"][engine] = summarise_pages(raw_pages, wheel.stat().st_size)
    finally:
        server.shutdown()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    if not args.quiet:
        print(table(report))
        print(f"\nraw samples and summaries: {args.out}")


if __name__ == "__main__":
    main()
