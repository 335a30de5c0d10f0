"""`catchment check` on a project of N components (one tiny Python module and asset each):
load time for several N, to see whether loading grows linearly. Rerun:

    python benchmarks/check_many_components.py 5000 10000 20000
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path


def write_project(root: Path, n: int) -> None:
    """A project with ``n`` Python components, each a module with one asset."""
    lines = ["project: {name: many}", "components:"]
    mods = root / "mods"
    mods.mkdir(parents=True)
    for i in range(n):
        (mods / f"m{i}.py").write_text(
            "from catchment import asset\n\n"
            f"@asset(key='g{i % 50}/a{i}')\ndef a{i}():\n    return 1\n"
        )
        lines.append(f"  - {{type: python, name: c{i}, attributes: {{module: mods/m{i}.py}}}}")
    (root / "catchment.yaml").write_text("\n".join(lines) + "\n")


def yaml_stage(root: Path) -> str:
    """Seconds to read the project file with PyYAML's pure-Python parser and with libyaml."""
    import catchment.project.yamlfile as yamlfile
    import yaml

    out = []
    for name, loader in (("pure-Python", yaml.SafeLoader), ("libyaml", yaml.CSafeLoader)):
        yamlfile._LOADER = loader
        started = time.perf_counter()
        yamlfile.load_yaml(root / "catchment.yaml")
        out.append(f"{name} {time.perf_counter() - started:.2f} s")
    yamlfile._LOADER = yaml.CSafeLoader
    return "read catchment.yaml: " + ", ".join(out)


def main() -> None:
    from catchment.project import load_project

    for n in [int(a) for a in sys.argv[1:]] or [5000, 10000, 20000]:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            write_project(root, n)
            started = time.perf_counter()
            project = load_project(root)
            elapsed = time.perf_counter() - started
            assert not project.problems, project.problems[:3]
            print(f"{n:>6} components: check {elapsed:6.2f} s ({elapsed / n * 1e3:.3f} ms each)")
            print(f"        {yaml_stage(root)}")


if __name__ == "__main__":
    main()
