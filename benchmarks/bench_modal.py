"""Benchmark the Modal adapter: import cost, offline discovery, local-mode call overhead.

    python benchmarks/bench_modal.py [--functions 200] [--runs 5]

1. ``import catchment_modal.hooks`` and ``import modal`` in fresh interpreters (minus
   ``python -c pass``): what a process pays to register the adapter vs to use a component.
2. Discovery of a generated app with N functions (``modal_assets``: module exec + ``info()``
   + source hashing), after modal is imported.
3. One local-mode step through ``catchment.materialize``: a function that returns a dict, one
   that reports over pipes, and a plain ``@asset`` returning a dict as the baseline.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from catchment import asset
from catchment.execution.api import materialize
from catchment.results import MaterializeResult


def fresh_import(module: str, runs: int) -> tuple[float, float]:
    def once(code: str) -> float:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - t

    base = [once("pass") for _ in range(runs)]
    full = [once(f"import {module}") for _ in range(runs)]
    return statistics.median(full) - statistics.median(base), min(full) - min(base)


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times)


def app_source(n: int) -> str:
    head = "import modal\nfrom catchment_modal import asset_spec\n\napp = modal.App('bench')\n"
    body = []
    for i in range(n):
        body.append(
            textwrap.dedent(
                f"""
                @app.function(retries={i % 3}, schedule=modal.Period(hours={1 + i % 5}))
                @asset_spec(key="bench/f{i}", reads=["duckdb:raw.t{i}"], writes="duckdb:out.t{i}")
                def f{i}():
                    return {{"i": {i}}}
                """
            )
        )
    body.append(
        textwrap.dedent(
            """
            @app.function()
            @asset_spec(key="bench/piped")
            def piped():
                from catchment.pipes.remote import open_pipes

                with open_pipes() as pipes:
                    pipes.report_materialization(metadata={"rows": 1})
            """
        )
    )
    return head + "".join(body)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--functions", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    hooks = fresh_import("catchment_modal.hooks", args.runs)
    modal_import = fresh_import("modal", args.runs)
    print(f"import catchment_modal.hooks: {hooks[0] * 1000:.0f} ms ({hooks[1] * 1000:.0f})")
    print(f"import modal: {modal_import[0] * 1000:.0f} ms ({modal_import[1] * 1000:.0f})")

    import modal  # noqa: F401 - paid once, as a project load does
    from catchment_modal import modal_assets

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "bench_app.py").write_text(app_source(args.functions))
        n = args.functions + 1
        med, low = timed(lambda: modal_assets("bench_app.py:app", root=root), args.runs)
        print(
            f"discovery of {n} functions: {med * 1000:.0f} ms ({low * 1000:.0f}), "
            f"{med / n * 1000:.2f} ms per function"
        )
        defs = {d.name: d for d in modal_assets("bench_app.py:app", root=root)}
        returning, piped = [defs["modal.f0"]], [defs["modal.piped"]]

        @asset(key="bench/plain")
        def plain() -> MaterializeResult:
            return MaterializeResult(key=plain_key, metadata={"i": 0})

        plain_key = plain.keys[0]
        for label, d in (("plain @asset", [plain]), ("returns dict", returning), ("pipes", piped)):
            materialize(d)  # warm
            med, low = timed(lambda d=d: materialize(d), max(args.runs * 4, 20))  # type: ignore[misc]
            print(f"local step, {label}: {med * 1000:.2f} ms ({low * 1000:.2f})")


if __name__ == "__main__":
    main()
