"""Runs inside Pyodide (Node or Chromium): times lucia_pyodide against bare pyfetch and JS fetch.

Executed by ``bench.mjs`` with ``BENCH_CONFIG`` set; returns a JSON string of raw
samples (the host computes medians and spreads). Rounds interleave the methods
so that machine noise hits all of them alike.
"""

import asyncio
import gc
import json
import sys
import time

import js
from pyodide.code import run_js
from pyodide.http import pyfetch

from lucia_pyodide import LuciaClient

CONFIG = dict(BENCH_CONFIG)  # type: ignore[name-defined]  # noqa: F821 - set by bench.mjs
BASE = CONFIG["base_url"]  # None in a browser page: same-origin relative URLs
PREFIX = BASE.rstrip("/") if BASE else ""
HEADERS = CONFIG["headers"]
PATH = CONFIG["path"]
ROUNDS, CALLS = CONFIG["rounds"], CONFIG["calls"]
PAGE = json.dumps([{"type": "data", "data": {"_lucia": {
    "userId": "5a0c1e1e-1111-4222-8333-944445555666", "username": "alice"}}, "uses": {}}, None])

js_fetch_loop = run_js(
    """(async (url, headers, n) => {
        const start = performance.now();
        for (let i = 0; i < n; i++) {
            const r = await fetch(url, {method: "POST", credentials: "same-origin", headers});
            await r.text();
        }
        return performance.now() - start;
    })"""
)


def per_call(samples_ms: list[float], n: int) -> list[float]:
    return [s / n for s in samples_ms]


async def bare_pyfetch_loop(n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        response = await pyfetch(PREFIX + PATH, method="POST", credentials="same-origin",
                                 headers=HEADERS)
        await response.string()
    return (time.perf_counter() - start) * 1000


async def client_loop(client: LuciaClient, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        await client.refresh_session()
    return (time.perf_counter() - start) * 1000


async def server_count() -> int:
    response = await pyfetch(PREFIX + "/__test__/stats")
    return int((await response.json()).get(f"POST {PATH}", 0))


def get_user_timings() -> dict[str, list[float]]:
    js.globalThis._lucia_page_data = js.JSON.parse(PAGE)
    first = []
    for _ in range(ROUNDS):
        # A first read also starts hearing other tabs (the user is shown): part of its cost.
        clients = [LuciaClient() for _ in range(200)]
        start = time.perf_counter()
        for fresh in clients:
            fresh.get_user()
        first.append((time.perf_counter() - start) / 200 * 1e6)
        for fresh in clients:  # closed, or each would hear every later refresh
            fresh.close()
    client = LuciaClient()
    client.get_user()
    cached = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(100_000):
            client.get_user()
        cached.append((time.perf_counter() - start) / 100_000 * 1e6)
    client.close()
    return {"get_user_first_us": first, "get_user_cached_us": cached}


async def main() -> str:
    result: dict[str, object] = get_user_timings()
    client = LuciaClient(BASE, headers=HEADERS, refresh_path=PATH)
    url = PREFIX + PATH if BASE else js.location.origin + PATH
    await client_loop(client, 20)  # warm up connections and code paths
    await bare_pyfetch_loop(20)
    js_headers = js.Object.fromEntries(js.JSON.parse(json.dumps(list(HEADERS.items()))))
    loops = {
        "client": lambda: client_loop(client, CALLS),
        "pyfetch": lambda: bare_pyfetch_loop(CALLS),
        "js_fetch": lambda: js_fetch_loop(url, js_headers, CALLS),
    }
    samples: dict[str, list[float]] = {name: [] for name in loops}
    order = list(loops)
    for round_ in range(ROUNDS):
        # Rotate who goes first, so that an order effect does not favour one method.
        for name in order[round_ % 3:] + order[:round_ % 3]:
            samples[name].append(await loops[name]())
    for name, values in samples.items():
        result[f"refresh_{name}_ms"] = per_call(values, CALLS)

    # 100 concurrent callers: how many requests reach the server, and how long the batch takes.
    for name, call in (("client", client.refresh_session),
                       ("pyfetch", lambda: bare_pyfetch_loop(1))):
        before = await server_count()
        start = time.perf_counter()
        await asyncio.gather(*(call() for _ in range(100)))
        result[f"concurrent100_{name}_ms"] = (time.perf_counter() - start) * 1000
        result[f"concurrent100_{name}_requests_per_call"] = (await server_count() - before) / 100

    # Retained memory after many calls: no growth means no leaked proxies or futures.
    growth = []
    for _ in range(2):
        gc.collect()
        objects, blocks = len(gc.get_objects()), sys.getallocatedblocks()
        await client_loop(client, 1000)
        gc.collect()
        growth.append([len(gc.get_objects()) - objects, sys.getallocatedblocks() - blocks])
    result["memory_growth_per_1000_calls"] = growth
    return json.dumps(result)


await main()  # noqa: F704, PLE1142 - runPythonAsync runs this file with top-level await
