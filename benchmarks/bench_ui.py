#!/usr/bin/env python3
"""Benchmark the web UI (`catchment ui`) on a synthetic project and on examples/platform.

    python benchmarks/bench_ui.py [--assets 10000] [--runs 50000] [--no-browser] [--example]

The synthetic project: ``--assets`` assets of one python multi-asset in 20 layers (about two
upstreams each), with groups, kinds, owners and column names; its record store holds
``--runs`` finished runs (run_started, one step, one materialization, run_finished: four
events each), bulk-inserted. A real `catchment ui` process serves it on a free port. Timed:

- process start to ready, of which loading the project and computing every asset's state
  (reconciliation, done once at load, then in the background), and server memory (VmRSS)
  after the pages below;
- server side (HTTP from this process, the median of 5 after a first cold request): the
  catalog's first page, a search, an asset page, a neighbourhood graph, the runs list;
- in headless Chromium (/usr/bin/chromium): the catalog's first contentful paint, a
  neighbourhood graph page and the full graph page until its SVG is in the DOM and painted.
- ready to first page: a second server on the same project, from ready to its first catalog page.

``--example`` does the same (fewer numbers) on a copy of examples/platform.
"""

from __future__ import annotations

import argparse
import json
import os
import platform as pyplatform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "core" / "ui"))
from server import CHROMIUM, UiServer  # noqa: E402

LAYERS = 20
TWO_FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
FIRST_PAINT = (
    "() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || null"
)

PROJECT_YAML = """\
project:
  name: synthetic
components:
  - type: python
    name: synthetic
    attributes:
      module: assets.py
"""

ASSETS_PY = '''\
"""{n} synthetic assets in {layers} layers, one multi-asset (nothing runs in the benchmark)."""
import random
from catchment import multi_asset
from catchment.keys import AssetKey
from catchment.specs import AssetDep, AssetSpec

N, LAYERS = {n}, {layers}
rng = random.Random(7)
per = N // LAYERS
specs = []
for i in range(N):
    layer = min(i // per, LAYERS - 1)
    deps = ()
    if layer:
        lo = (layer - 1) * per
        ups = sorted({{rng.randrange(lo, lo + per) for _ in range(2)}})
        deps = tuple(AssetDep(AssetKey(f"l{{j // per}}/asset_{{j}}")) for j in ups)
    specs.append(AssetSpec(
        key=AssetKey(f"l{{layer}}/asset_{{i}}"), deps=deps, group=f"group_{{i % 40}}",
        kinds=("duckdb", ["dbt", "sling", "spark", "dlt"][i % 4]), owners=(f"team:{{i % 12}}",),
        description=f"Synthetic asset number {{i}}",
        metadata={{"columns": [f"col_{{i}}_{{c}}" for c in range(5)]}},
    ))

@multi_asset(specs=specs, name="synthetic")
def synthetic(context):
    yield from ()
'''


def write_project(root: Path, n: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "catchment.yaml").write_text(PROJECT_YAML)
    (root / "assets.py").write_text(ASSETS_PY.format(n=n, layers=LAYERS))
    return root


def write_runs(root: Path, n_assets: int, n_runs: int) -> int:
    """Bulk-insert ``n_runs`` finished runs of one asset each; returns the events written."""
    from catchment.events import Event, EventType, encode_event
    from catchment.storage.sqlite import SqliteStorage

    db = root / ".catchment" / "runs.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    SqliteStorage(db).close()
    rng = random.Random(3)
    per = n_assets // LAYERS
    now = time.time() - 3600
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    rows: list[tuple[Any, ...]] = []
    runs: list[tuple[Any, ...]] = []
    for r in range(n_runs):
        i = rng.randrange(n_assets)
        key = f"l{min(i // per, LAYERS - 1)}/asset_{i}"
        run_id = f"run{r:08d}"
        t = now - (n_runs - r) * 5.0
        for typ, dt, data, asset in (
            (EventType.RUN_STARTED, 0.0, {"asset_keys": [key], "steps": 1}, None),
            (EventType.STEP_STARTED, 0.1, {"asset_keys": [key]}, None),
            (EventType.MATERIALIZATION, 0.9, {"metadata": {"rows": rng.randrange(10**6)}}, key),
            (EventType.STEP_FINISHED, 1.0, {"status": "success", "duration": 0.9}, None),
            (EventType.RUN_FINISHED, 1.1, {"status": "success", "success": 1}, None),
        ):
            e = Event(
                run_id=run_id,
                type=typ,
                timestamp=t + dt,
                step_key="synthetic" if asset or typ.name.startswith("STEP") else None,
                asset_key=asset,
                data=data,
            )
            rows.append(
                (
                    run_id,
                    typ.value,
                    e.timestamp,
                    e.step_key,
                    asset,
                    None,
                    None,
                    encode_event(e).decode(),
                )
            )
        runs.append((run_id, "success", t, t + 1.1, t + 1.1, json.dumps({"asset_keys": [key]})))
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO events (run_id, type, timestamp, step_key, asset_key, partition_key, "
        "check_name, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.executemany(
        "INSERT INTO runs (run_id, status, created_at, finished_at, heartbeat_at, info) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        runs,
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    return len(rows)


def timed_get(url: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as r:
        body = r.read()
    return time.perf_counter() - t0, len(body)


def server_side(srv: UiServer, paths: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, path in paths.items():
        cold, size = timed_get(srv.url + path)
        warm = statistics.median(timed_get(srv.url + path)[0] for _ in range(5))
        out[name] = {
            "cold_ms": round(cold * 1000, 1),
            "warm_ms": round(warm * 1000, 1),
            "bytes": size,
        }
    return out


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def browser_side(srv: UiServer, paths: dict[str, str]) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    out: dict[str, Any] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            for name, path in paths.items():
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                t0 = time.perf_counter()
                page.goto(srv.url + path, wait_until="load")
                if name.startswith("graph"):
                    page.wait_for_selector("#graph-svg")
                page.evaluate(TWO_FRAMES)  # painted, so the paint entries exist
                wall = time.perf_counter() - t0
                fcp = page.evaluate(FIRST_PAINT)
                out[name] = {
                    "displayed_ms": round(wall * 1000, 1),
                    "first_contentful_paint_ms": round(fcp, 1) if fcp else None,
                }
                page.close()
        finally:
            browser.close()
    return out


def bench(
    root: Path, paths: dict[str, str], browser_paths: dict[str, str], browser: bool
) -> dict[str, Any]:
    t0 = time.perf_counter()
    srv = UiServer(root)
    try:
        srv.wait_ready(timeout=900)
        result: dict[str, Any] = {"load_s": round(time.perf_counter() - t0, 2)}
        health = srv.get("/api/health")
        result["project_load_s"] = health["load_seconds"]
        result["asset_states_s"] = health["states_seconds"]
        result["server"] = server_side(srv, paths)
        if browser and CHROMIUM.exists():
            result["chromium"] = browser_side(srv, browser_paths)
        result["rss_mb"] = rss_mb(srv.proc.pid)
    finally:
        srv.stop()
    second = UiServer(root)
    try:
        second.wait_ready(timeout=900)
        first_page, _ = timed_get(second.url + "/assets")
        result["ready_to_first_page_ms"] = round(first_page * 1000, 1)
    finally:
        second.stop()
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--assets", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=50_000)
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--example", action="store_true", help="also benchmark examples/platform")
    args = ap.parse_args()
    report: dict[str, Any] = {
        "machine": f"{pyplatform.machine()}, {os.cpu_count()} cpus, "
        f"Python {pyplatform.python_version()}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = write_project(Path(tmp) / "synthetic", args.assets)
        t0 = time.perf_counter()
        events = write_runs(root, args.assets, args.runs)
        report["synthetic"] = {
            "assets": args.assets,
            "runs": args.runs,
            "events": events,
            "history_write_s": round(time.perf_counter() - t0, 1),
        }
        mid = f"l10/asset_{args.assets // 2}"
        paths = {
            "catalog_first_page": "/assets",
            "catalog_search": "/assets?q=col_77_3",
            "catalog_api_page": "/api/assets?per_page=50",
            "asset_page": f"/assets/{mid}",
            "graph_neighbourhood": f"/graph?select=%2B{mid}%2B",
            "graph_full": "/graph",
            "runs_list": "/runs",
        }
        browser_paths = {
            "catalog": "/assets",
            "graph_neighbourhood": f"/graph?select=%2B{mid}%2B",
            "graph_full": "/graph",
        }
        report["synthetic"].update(bench(root, paths, browser_paths, not args.no_browser))
        if args.example:
            ex = Path(tmp) / "platform"
            shutil.copytree(
                REPO / "examples" / "platform",
                ex,
                ignore=shutil.ignore_patterns(
                    "warehouse.duckdb*",
                    ".catchment",
                    "target",
                    "logs",
                    "features",
                    ".fakesnow",
                    "__pycache__",
                ),
            )
            report["example"] = bench(
                ex,
                {
                    "catalog_first_page": "/assets",
                    "asset_page": "/assets/stg_orders",
                    "graph_full": "/graph",
                    "runs_list": "/runs",
                    "automation": "/automation",
                },
                {"catalog": "/assets", "graph_full": "/graph"},
                not args.no_browser,
            )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
