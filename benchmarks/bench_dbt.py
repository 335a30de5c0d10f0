#!/usr/bin/env python3
"""Benchmarks of the dbt adapter (catchment-dbt).

1. discovery: a fresh interpreter imports catchment_dbt, declares every node of a
   10,000-model project from its manifest (``dbt_assets``) and builds the ``AssetGraph``;
   reports the in-process time of discovery + graph and the process's peak RSS
   (``resource.getrusage``). Target: < 0.5 s, < 200 MB.
2. materialize: ``catchment materialize`` (CLI, fresh process) of a 1,000-model project vs
   plain ``dbt build`` (CLI, fresh process) on the same project, each into a fresh DuckDB file
   and from the same parsed state. Target: catchment <= +5 %.

    python benchmarks/bench_dbt.py discovery --models 10000 [--runs 3]
    python benchmarks/bench_dbt.py materialize --models 1000 [--runs 1]

Projects come from benchmarks/generate_dbt_project.py (kept under --work, default
/tmp/catchment-bench-dbt, and reused). The 10,000-model manifest takes ~2 minutes and ~2.7 GB
to parse once. DO_NOT_TRACK=1 is set for every process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable
BIN = Path(PY).parent
ENV = {**os.environ, "DO_NOT_TRACK": "1"}

DISCOVER = textwrap.dedent(
    """
    import json, resource, sys, time
    t0 = time.perf_counter()
    import catchment_dbt
    from catchment.graph import AssetGraph
    from catchment_dbt import dbt_assets
    from catchment_dbt.attributes import DbtAttributes  # pydantic, counted as import
    t1 = time.perf_counter()
    d = dbt_assets(sys.argv[1], warehouse=sys.argv[2])
    t2 = time.perf_counter()
    g = AssetGraph.build([d])
    t3 = time.perf_counter()
    print(json.dumps({
        "import_s": t1 - t0, "discover_s": t2 - t1, "graph_s": t3 - t2, "total_s": t3 - t1,
        "assets": len(d.specs), "checks": len(d.all_check_specs), "graph_nodes": len(g),
        "dbt_imported": "dbt" in sys.modules,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))
    """
)


def project(work: Path, models: int) -> Path:
    out = work / f"p{models}"
    if not (out / "target" / "manifest.json").is_file():
        if out.exists():
            shutil.rmtree(out)
        cmd = [PY, str(HERE / "generate_dbt_project.py"), "--models", str(models)]
        subprocess.run([*cmd, "--out", str(out), "--manifest-only"], check=True, env=ENV)
    return out


def discovery(args: argparse.Namespace) -> None:
    proj = project(args.work, args.models)
    warehouse = proj / "warehouse.duckdb"
    runs = []
    for _ in range(args.runs + 1):  # the first run warms the OS file cache
        out = subprocess.run(
            [PY, "-c", DISCOVER, str(proj), str(warehouse)],
            check=True,
            capture_output=True,
            text=True,
            env=ENV,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    runs = runs[1:]
    print(json.dumps(runs[-1], indent=1))
    for key in ("import_s", "discover_s", "graph_s", "total_s", "peak_rss_mb"):
        values = [r[key] for r in runs]
        print(f"{key:12} median {statistics.median(values):8.3f}  min {min(values):8.3f}")


CATCHMENT_YAML = """
project:
  name: bench
components:
  - type: dbt
    name: bench
    attributes:
      project_dir: {project}
"""


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds user+sys) of a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n")
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return elapsed, cpu


def materialize(args: argparse.Namespace) -> None:
    proj = project(args.work, args.models)
    home = args.work / f"catchment{args.models}"
    home.mkdir(exist_ok=True)
    (home / "catchment.yaml").write_text(CATCHMENT_YAML.format(project=proj))
    warehouse = args.work / "bench.duckdb"
    env = {**ENV, "CATCHMENT_WAREHOUSE": str(warehouse)}
    dbt_cmd = [str(BIN / "dbt"), "build", "--project-dir", str(proj), "--profiles-dir", str(proj)]
    cat_cmd = [str(BIN / "catchment"), "materialize", "--project", str(home)]
    # same starting point for both: parsed once (partial_parse.msgpack + target/manifest.json)
    timed(
        [str(BIN / "dbt"), "parse", "--project-dir", str(proj), "--profiles-dir", str(proj)],
        proj,
        env,
    )
    results: dict[str, list[tuple[float, float]]] = {"dbt build": [], "catchment materialize": []}
    for _ in range(args.runs):
        for label, cmd, cwd in (
            ("dbt build", dbt_cmd, proj),
            ("catchment materialize", cat_cmd, home),
        ):
            for f in (warehouse, Path(str(warehouse) + ".wal")):
                f.unlink(missing_ok=True)
            shutil.rmtree(home / ".catchment", ignore_errors=True)
            results[label].append(timed(cmd, cwd, env))
            wall, cpu = results[label][-1]
            print(f"{label}: wall {wall:.1f} s, cpu {cpu:.1f} s", flush=True)
    for i, what in ((0, "wall"), (1, "cpu")):
        base = statistics.median(r[i] for r in results["dbt build"])
        ours = statistics.median(r[i] for r in results["catchment materialize"])
        change = 100 * (ours / base - 1)
        print(f"median {what}: dbt build {base:.1f} s, catchment {ours:.1f} s: {change:+.1f} %")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("what", choices=["discovery", "materialize"])
    ap.add_argument("--models", type=int, default=None)
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--work", type=Path, default=Path("/tmp/catchment-bench-dbt"))
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.what == "discovery":
        args.models = args.models or 10000
        args.runs = args.runs or 3
        discovery(args)
    else:
        args.models = args.models or 1000
        args.runs = args.runs or 1
        materialize(args)


if __name__ == "__main__":
    main()
