"""Benchmark catchment pipes: message parsing, and the cost of a subprocess round trip.

    python benchmarks/bench_pipes.py [--messages 100000] [--runs 5]

1. PipesSession.handle_line on materialization lines (µs per message, pure parsing + results).
2. A subprocess that reports 1 asset: PipesSubprocessClient.run vs a bare subprocess.run of the
   same script without pipes (the protocol's overhead per step).
3. Streaming: a subprocess that logs N lines and reports 1 asset (messages per second end to end).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catchment.keys import AssetKey
from catchment.pipes import PipesSubprocessClient
from catchment.pipes.session import PipesSession


class NullLog:
    def debug(self, *a: Any) -> None: ...
    def info(self, *a: Any) -> None: ...
    def warning(self, *a: Any) -> None: ...
    def error(self, *a: Any) -> None: ...


@dataclass
class Ctx:
    keys: frozenset[AssetKey]
    run_id: str = "r"
    step_key: str = "s"
    selected_checks: frozenset[str] = frozenset()
    partition_key: str | None = None
    partition_keys: tuple[str, ...] = ()
    resources: dict[str, Any] = field(default_factory=dict)
    log: NullLog = field(default_factory=NullLog)
    project_root: Path = Path(".")
    warehouse: Path = Path("w.duckdb")
    attempt: int = 0

    @property
    def selected_keys(self) -> frozenset[AssetKey]:
        return self.keys


def bench_parse(n: int) -> float:
    keys = [f"a/k{i}" for i in range(n)]
    ctx = Ctx(frozenset(AssetKey(k) for k in keys))
    lines = [
        json.dumps(
            {
                "catchment_pipes": 1,
                "method": "materialization",
                "params": {"asset_key": k, "metadata": {"rows": i, "path": f"/d/{k}"}},
            }
        ).encode()
        for i, k in enumerate(keys)
    ]
    session = PipesSession(ctx)  # type: ignore[arg-type]
    t = time.perf_counter()
    for line in lines:
        session.handle_line(line)
    return (time.perf_counter() - t) / n * 1e6


SCRIPT = """
import sys
from catchment.pipes.remote import open_pipes
n = int(sys.argv[1])
with open_pipes() as p:
    for i in range(n):
        p.log.info(f"line {i}")
    p.report_materialization(metadata={"rows": 1})
"""
BARE = "import sys\nimport catchment.pipes.remote\nprint('done')\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    parse = statistics.median(bench_parse(args.messages) for _ in range(args.runs))
    print(f"handle_line, {args.messages} materializations: {parse:.2f} µs/message")

    with tempfile.TemporaryDirectory() as tmp:
        script, bare = Path(tmp) / "job.py", Path(tmp) / "bare.py"
        script.write_text(SCRIPT)
        bare.write_text(BARE)
        ctx = Ctx(frozenset({AssetKey("x")}))
        client = PipesSubprocessClient()

        def piped(n: int) -> float:
            t = time.perf_counter()
            results = list(client.run(ctx, [sys.executable, str(script), str(n)]))  # type: ignore[arg-type]
            assert len(results) == 1, results
            return time.perf_counter() - t

        def plain() -> float:
            t = time.perf_counter()
            subprocess.run([sys.executable, str(bare)], check=True, capture_output=True)
            return time.perf_counter() - t

        base = statistics.median(plain() for _ in range(args.runs))
        one = statistics.median(piped(0) for _ in range(args.runs))
        print(
            f"bare subprocess: {base * 1000:.1f} ms; pipes round trip, 1 asset: "
            f"{one * 1000:.1f} ms (overhead {(one - base) * 1000:.1f} ms)"
        )
        n = 20_000
        many = statistics.median(piped(n) for _ in range(max(3, args.runs // 2)))
        print(
            f"streaming {n} log messages + 1 materialization: {many * 1000:.0f} ms "
            f"({n / (many - one):,.0f} messages/s)"
        )


if __name__ == "__main__":
    main()
