"""How often Sling 1.4 wedges with its DuckDB CLI, with and without the end-marker filter.

Loops a PostgreSQL -> DuckDB full refresh (two small tables) with the real Sling binary in the
adapter's environment and counts wedged runs: no output and no CPU for ``--stall`` seconds.
A wedged run's goroutine dump (SIGQUIT) and the CLI's /proc state are kept under ``--out``.

    python benchmarks/bench_sling_wedge.py --runs 150 [--filter] [--cli PATH]

``--filter`` runs the CLI through ``catchment_sling.endmarker`` (as the adapter does); ``--cli``
puts another CLI in front, e.g. ``APART_DUCKDB`` of adapters/sling/tests/test_endmarker.py,
which prints the marker's two lines 40 ms apart. Run two or more at once to load the machine.
Needs
PostgreSQL on 127.0.0.1:5432 (scripts/bootstrap.sh starts it). Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from catchment_sling.binaries import duckdb_version, locate_duckdb, locate_sling, place_extensions
from catchment_sling.endmarker import wrapper


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        with contextlib.suppress(OSError):
            found += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    return found + [g for c in found for g in _descendants(c)]


def _ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _keep_wedge(folder: Path, proc: subprocess.Popen[bytes], kids: list[int]) -> None:
    folder.mkdir(parents=True)
    for kid in kids:
        state: dict[str, object] = {}
        for name in ("wchan", "cmdline"):
            with contextlib.suppress(OSError):
                state[name] = Path(f"/proc/{kid}/{name}").read_text()
        (folder / f"child-{kid}.json").write_text(json.dumps(state, indent=1))
    os.kill(proc.pid, signal.SIGQUIT)  # Go prints every goroutine's stack on stderr
    time.sleep(1.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--filter", action="store_true")
    parser.add_argument("--cli", type=Path, help="a DuckDB CLI to run instead of the found one")
    parser.add_argument("--stall", type=float, default=8.0)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "sling-wedge")
    args = parser.parse_args()
    import psycopg

    root = args.out / uuid.uuid4().hex[:8]
    home = root / "home"
    home.mkdir(parents=True)
    cli = locate_duckdb(root=root)
    place_extensions(home, version := duckdb_version(cli))
    cli = args.cli.resolve() if args.cli else cli
    if args.filter:
        cli = wrapper(cli, root)
    schema = f"bench_sling_wedge_{root.name}"
    pg = psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True)
    pg.execute(f"create schema {schema}")
    pg.execute(
        f"create table {schema}.orders as select g as id, g * 1.5 as amount "
        "from generate_series(1, 5) g"
    )
    pg.execute(f"create table {schema}.customers as select 1 as id, 'ann' as name")
    replication = {
        "source": "PG",
        "target": "WH",
        "defaults": {"mode": "full-refresh", "object": "raw.{stream_table}"},
        "streams": {f"{schema}.orders": None, f"{schema}.customers": None},
    }
    (root / "replication.json").write_text(json.dumps(replication))
    env = {
        **os.environ,
        "SLING_DISABLE_TELEMETRY": "true",
        "HOME": str(home),
        "SLING_HOME_DIR": str(home / ".sling"),
        "SLING_LOGGING": "JSON",
        "SLING_THREADS": "1",
        "DUCKDB_PATH": str(cli),
        "DUCKDB_VERSION": version,
        "PG": "postgresql://postgres@127.0.0.1:5432/postgres?sslmode=disable",
        "WH": f"duckdb://{root}/warehouse.duckdb",
    }
    sling = locate_sling(root=root)
    wedges, seconds = 0, []
    try:
        for run in range(args.runs):
            log = root / "run.log"
            start = time.monotonic()
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    [str(sling), "run", "-r", str(root / "replication.json")],
                    env={**env, "TMPDIR": tempfile.mkdtemp(dir=root)},
                    stdout=out,
                    stderr=out,
                    start_new_session=True,
                )
                seen, busy, since = -1, -1, time.monotonic()
                while proc.poll() is None:
                    time.sleep(0.2)
                    kids = _descendants(proc.pid)
                    size = log.stat().st_size
                    ticks = sum(_ticks(p) for p in (proc.pid, *kids))
                    if size != seen or ticks > busy + 3:
                        seen, busy, since = size, ticks, time.monotonic()
                    elif time.monotonic() - since > args.stall:
                        wedges += 1
                        _keep_wedge(root / f"wedge-{wedges}", proc, kids)
                        os.killpg(proc.pid, signal.SIGKILL)
                        proc.wait()
                        shutil.copy(log, root / f"wedge-{wedges}" / "sling.log")
                        print(f"run {run}: wedged, kept in {root / f'wedge-{wedges}'}", flush=True)
            seconds.append(time.monotonic() - start)
    finally:
        pg.execute(f"drop schema {schema} cascade")
        pg.close()
    print(
        json.dumps(
            {
                "runs": args.runs,
                "wedges": wedges,
                "filter": args.filter,
                "cli": str(args.cli or ""),
                "median_s": round(sorted(seconds)[len(seconds) // 2], 2),
                "load_average": os.getloadavg(),
            }
        )
    )


if __name__ == "__main__":
    main()
