"""Plugin discovery cost: how much 20 installed adapters add to start-up.

Writes 20 tiny adapter distributions (module + dist-info with entry_points.txt, each serving a
component type with a pydantic attribute model) into a temporary site directory, then in fresh
interpreters measures (a) the discovery call ``get_registry()`` and (b) the whole process
(``python -c 'get_registry()'``), with and without that directory on PYTHONPATH.

Run: python benchmarks/bench_plugin_discovery.py [--adapters 20] [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ADAPTER = """
from catchment import AdapterInfo, ComponentType, hookimpl
{model}


def build(attributes, context):
    return []


@hookimpl
def catchment_adapter_info():
    return AdapterInfo(name="bench{i}", version="0.1.0", api=">=1.0,<2")


@hookimpl
def catchment_component_types(register):
    register(ComponentType(name="bench{i}_thing", attributes=Attributes, build=build))
"""

PROBE = """
import json, time
# the core's own import cost, same either way
import catchment.builtin_adapter.component, catchment.builtin_adapter.io_managers
import catchment.plugins
t0, c0 = time.perf_counter(), time.process_time()
registry = catchment.plugins.get_registry()
t1, c1 = time.perf_counter(), time.process_time()
ok = sum(1 for r in registry.adapters if r.status == "ok")
print(json.dumps({"discovery_ms": (t1 - t0) * 1000, "cpu_ms": (c1 - c0) * 1000, "ok": ok}))
"""


OWN_MODEL = """
from pydantic import BaseModel


class Attributes(BaseModel):
    path: str
    tables: list[str] = []
"""
SHARED_MODEL = "from catchment.builtin_adapter.attributes import PythonAttributes as Attributes"


def write_adapters(site: Path, n: int, own_model: bool = True) -> None:
    """Install ``n`` adapters ``bench0..`` into ``site`` (each defining its own pydantic
    attribute model, as real adapters do, unless ``own_model`` is false)."""
    model = OWN_MODEL if own_model else SHARED_MODEL
    for i in range(n):
        module = f"catchment_bench{i}"
        (site / module).mkdir(parents=True)
        (site / module / "__init__.py").write_text(ADAPTER.format(i=i, model=model))
        info = site / f"catchment_bench{i}-0.1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: catchment-bench{i}\nVersion: 0.1.0\n"
        )
        (info / "entry_points.txt").write_text(f"[catchment.adapters]\nbench{i} = {module}\n")


def _env(pythonpath: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATCHMENT_")}
    env.pop("PYTHONPATH", None)
    # pip compiles bytecode at install; measure that state, not source compilation
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return env


def probe(pythonpath: str | None) -> dict[str, float]:
    """One fresh interpreter: discovery wall and CPU ms (core already imported), whole-process
    wall ms, adapters loaded ok."""
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=_env(pythonpath),
        capture_output=True,
        text=True,
        check=True,
    )
    data: dict[str, float] = json.loads(out.stdout)
    data["process_ms"] = (time.perf_counter() - t0) * 1000
    return data


def main() -> None:
    """Print a markdown table for docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adapters", type=int, default=20)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--shared-model",
        action="store_true",
        help="adapters reuse one attribute model (isolates the core's own per-adapter cost)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        site.mkdir()
        write_adapters(site, args.adapters, own_model=not args.shared_model)
        probe(None), probe(str(site))  # warm the OS file cache, write bytecode
        base, many = [], []
        for _ in range(args.runs):  # interleaved, so machine load hits both alike
            base.append(probe(None))
            many.append(probe(str(site)))
    med = statistics.median
    cols = ("discovery_ms", "cpu_ms", "process_ms")
    print(
        "| installed adapters | loaded ok | discovery wall ms | discovery CPU ms "
        "| process wall ms |"
    )
    print("|---|---|---|---|---|")
    for label, rows in (("built-in only", base), (f"built-in + {args.adapters}", many)):
        values = " | ".join(f"{med(r[c] for r in rows):.1f}" for c in cols)
        print(f"| {label} | {int(rows[0]['ok'])} | {values} |")
    diffs = " | ".join(
        f"{med(m[c] - b[c] for b, m in zip(base, many, strict=True)):+.1f}" for c in cols
    )
    print(f"| added (median of {args.runs} paired differences) | | {diffs} |")


if __name__ == "__main__":
    main()
