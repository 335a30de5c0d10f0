"""CPU time of the everyday read-only commands on a synthetic Python project.

    python benchmarks/bench_project_commands.py [N_ASSETS]   (default 5000)

Writes a project of N ``@asset`` functions (each reading up to two earlier ones, ten groups,
five tags) into a temporary folder, then runs each command three times in a fresh process
(adapters other than the built-in one disabled) and prints the median user+system CPU time.
"""

from __future__ import annotations

import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

COMMANDS = {
    "assets list --json": ["assets", "list", "--json"],
    "assets list -s 'group:g1 or +a<last>'": ["assets", "list", "--json", "-s", "SEL"],
    "plan --json": ["plan", "--json"],
    "runs list": ["runs", "list", "--json"],
}


def write_project(root: Path, n: int) -> None:
    """N assets in one module, each depending on up to two of the 50 before it."""
    rng = random.Random(1)
    lines = ["from catchment import asset", ""]
    for i in range(n):
        ups = [f"a{j}" for j in rng.sample(range(max(0, i - 50), i), min(i, 2))]
        lines.append(f"@asset(group='g{i % 10}', tags={{'layer': 'l{i % 5}'}})")
        lines.append(f"def a{i}({', '.join(ups)}):\n    return {i}\n")
    (root / "big_assets.py").write_text("\n".join(lines))
    (root / "catchment.yaml").write_text(
        "project: {name: big}\n"
        "components:\n  - {type: python, name: big, attributes: {module: big_assets}}\n"
        "io_managers:\n  default: {type: filesystem, config: {base_dir: values}}\n"
    )


def cpu_seconds(args: list[str], cwd: Path) -> float:
    """User + system CPU of one ``catchment`` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-m", "catchment", *args],
        cwd=cwd,
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "CATCHMENT_ADAPTERS": "none"},
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    """Print one line per command: median CPU seconds of three runs."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_project(root, n)
        print(f"{n} assets, median CPU of 3 runs (python {sys.version.split()[0]})")
        for label, args in COMMANDS.items():
            args = [a.replace("SEL", f"group:g1 or +a{n - 1}") for a in args]
            times = [cpu_seconds(args, root) for _ in range(3)]
            print(f"  {label:40} {statistics.median(times):6.2f} s")


if __name__ == "__main__":
    main()
