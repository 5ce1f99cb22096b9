"""A tiny run of `make bench` (Node only), so the benchmark cannot rot unnoticed.

It asserts what the bench counts, never how fast anything was: timings belong to
`make bench`, on a quiet machine, as ratios.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_runs_and_counts_right(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--runtimes", "node",
                    "--quiet", "--out", str(out)], check=True, timeout=600)
    report = json.loads(out.read_text())
    node = report["runtimes"]["node"]
    assert report["sizes"]["wheel_bytes"] > 0 and report["sizes"]["js_client"]["bytes"] > 0
    # 100 concurrent refresh_session() calls made one request; 100 bare pyfetch calls, 100.
    assert node["concurrent100_client_requests_per_call"] == 0.01
    assert node["concurrent100_pyfetch_requests_per_call"] == 1.0
    # Every figure the table prints is there, with as many samples as asked for.
    for key in ("refresh_client_ms", "refresh_pyfetch_ms", "refresh_js_fetch_ms"):
        assert node[key]["n"] == report["settings"]["rounds"]
    assert len(node["memory_growth_per_1000_calls"]) == 2
