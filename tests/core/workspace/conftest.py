"""Workspaces for the workspace tests: real virtual environments made with uv (the repo's
core installed editable, offline from uv's cache), two majors of a tiny local library
(``tinylib`` 1.0.0 and 2.0.0, built here as wheels), and projects that use them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from catchment.storage import Storage

REPO = Path(__file__).resolve().parents[3]
UV = Path(sys.executable).parent / "uv"


def build_wheel(folder: Path, version: str) -> Path:
    """A wheel of ``tinylib`` at ``version`` (``tinylib.__version__``)."""
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"tinylib-{version}-py3-none-any.whl"
    info = f"tinylib-{version}.dist-info"
    files = {
        "tinylib/__init__.py": f'__version__ = "{version}"\nMAJOR = {version.split(".")[0]}\n',
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: tinylib\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = "".join(f"{name},,\n" for name in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(wheel, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
        z.writestr(f"{info}/RECORD", record)
    return wheel


def make_env(path: Path, *packages: Path) -> Path:
    """A virtual environment at ``path`` with the repo's core (editable) and ``packages``
    (wheels), installed offline from uv's cache; its Python."""
    subprocess.run(
        [str(UV), "venv", "-q", "--python", sys.executable, str(path)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    python = path / "bin" / "python"
    subprocess.run(
        [
            str(UV),
            "pip",
            "install",
            "-q",
            "--offline",
            "--python",
            str(python),
            "-c",
            str(REPO / "constraints.txt"),
            "-e",
            str(REPO / "core"),
            *map(str, packages),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return python


PROJECT_YAML = """\
project:
  name: {name}
components:
  - type: python
    name: assets
    attributes:
      module: assets.py
"""

FINANCE = '''\
import json
from pathlib import Path

import tinylib

from catchment import AssetKey, MaterializeResult, asset, file_table

LEDGER = Path(__file__).resolve().parent.parent / "shared" / "ledger.json"


@asset(table=file_table(LEDGER), tags={TAGS})
def ledger():
    """The finance team's ledger, shared with other teams as a file."""
    LEDGER.parent.mkdir(exist_ok=True)
    LEDGER.write_text(json.dumps({{"total": 42, "tinylib": tinylib.__version__}}))
    return MaterializeResult(key=AssetKey("ledger"), metadata={{"tinylib": tinylib.__version__}})
'''

MARKETING = '''\
import json
from pathlib import Path

import tinylib

from catchment import AssetKey, MaterializeResult, asset, file_table

LEDGER = Path(__file__).resolve().parent.parent / "shared" / "ledger.json"


@asset(reads=[file_table(LEDGER)], table=file_table(LEDGER.with_name("budget.json")))
def campaign_budget():
    """Marketing's budget, from finance's ledger, written as a file beside it."""
    ledger = json.loads(LEDGER.read_text())
    LEDGER.with_name("budget.json").write_text(json.dumps({{"budget": ledger["total"] // 2}}))
    return MaterializeResult(
        key=AssetKey("campaign_budget"),
        metadata={{"tinylib": tinylib.__version__, "budget": ledger["total"] // 2{FAIL}}},
    )
'''

BROKEN = """\
import tinylib  # not installed in this project's environment

from catchment import asset


@asset
def forecast():
    return tinylib.__version__
"""


@pytest.fixture(scope="session")
def envs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three environments: tinylib 1 (finance), tinylib 2 (marketing), none (broken)."""
    root = tmp_path_factory.mktemp("envs")
    wheels = root / "wheels"
    return {
        "finance": make_env(root / "finance", build_wheel(wheels, "1.0.0")),
        "marketing": make_env(root / "marketing", build_wheel(wheels, "2.0.0")),
        "broken": make_env(root / "broken"),
    }


def write_workspace(
    root: Path,
    envs: dict[str, Path],
    *,
    public: bool = True,
    policy: bool = False,
    fail_marketing: bool = False,
) -> Path:
    """A workspace of finance, marketing (reads finance's ledger file) and broken."""
    for name, code in (
        ("finance", FINANCE.format(TAGS='{"public": "yes"}' if public else "{}")),
        ("marketing", MARKETING.format(FAIL=" // 0" if fail_marketing else "")),
        ("broken", BROKEN),
    ):
        (root / name).mkdir(parents=True, exist_ok=True)
        (root / name / "catchment.yaml").write_text(PROJECT_YAML.format(name=name))
        (root / name / "assets.py").write_text(code)
    policy_text = "policy:\n  cross_project: {require_tag: public}\n" if policy else ""
    file = root / "catchment.workspace.yaml"
    file.write_text(
        textwrap.dedent(
            f"""\
            workspace: {{name: acme}}
            load_timeout: 120
            projects:
              - path: finance
                python: {envs["finance"]}
                team: finance
              - path: marketing
                python: {envs["marketing"]}
                team: growth
              - path: broken
                python: {envs["broken"]}
                team: research
            """
        )
        + policy_text
    )
    return file


LEDGER_CODE = """\
from pathlib import Path

from catchment import AssetKey, MaterializeResult, asset, file_table

LEDGER = Path(__file__).resolve().parent.parent / "shared" / "ledger.json"


@asset(table=file_table(LEDGER), tags={TAGS})
def ledger():
    LEDGER.parent.mkdir(exist_ok=True)
    LEDGER.write_text("{{}}")
    return MaterializeResult(key=AssetKey("ledger"))
"""

BUDGET_CODE = """\
from pathlib import Path

from catchment import AssetKey, MaterializeResult, asset, file_table

LEDGER = Path(__file__).resolve().parent.parent / "shared" / "ledger.json"


@asset(reads=[file_table(LEDGER)], table=file_table(LEDGER.with_name("budget.json")))
def budget():
    LEDGER.with_name("budget.json").write_text(LEDGER.read_text())
    return MaterializeResult(key=AssetKey("budget"))
"""


INGEST_CODE = """\
import os
from pathlib import Path

from catchment import MaterializeResult, TimeWindowPartitions, asset, file_table

DAYS = Path(__file__).resolve().parent.parent / "shared" / "days"


@asset(table=file_table(DAYS), partitions=TimeWindowPartitions(start="2024-01-01", cadence="daily"))
def ingest(context):
    if context.partition_key in os.environ.get("FAIL_ON", "").split(","):
        raise ValueError("bad day")
    DAYS.mkdir(parents=True, exist_ok=True)
    for day in context.partition_keys:
        (DAYS / day).write_text("ingested")
    return MaterializeResult()
"""

REPORT_CODE = """\
from pathlib import Path

from catchment import MaterializeResult, asset, file_table

DAYS = Path(__file__).resolve().parent.parent / "shared" / "days"
REPORT = DAYS.with_name("report.txt")


@asset(reads=[file_table(DAYS)], table=file_table(REPORT))
def report(context):
    assert not context.partition_keys
    with REPORT.open("a") as f:  # a line per run of the report: the days it saw
        f.write(",".join(sorted(p.name for p in DAYS.iterdir())) + "\\n")
    return MaterializeResult()
"""


def simple_workspace(root: Path, projects: dict[str, str], extra: str = "", **python: str) -> Path:
    """A workspace whose projects (name -> assets.py) run in this test's own Python (still
    loaded and run in subprocesses); ``python`` overrides a project's interpreter."""
    lines = ["workspace: {name: acme}", "projects:"]
    for name, code in projects.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        (root / name / "catchment.yaml").write_text(PROJECT_YAML.format(name=name))
        (root / name / "assets.py").write_text(code)
        lines += [f"  - path: {name}", f"    python: {python.get(name, sys.executable)}"]
        lines.append(f"    team: team-{name}")
    file = root / "catchment.workspace.yaml"
    file.write_text("\n".join(lines) + "\n" + extra)
    return file


def run_catchment(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m catchment ARGS`` in ``cwd`` as a user runs it (``env`` added to this
    process's), its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "catchment", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def wait_ended(store: Storage, timeout: float = 120) -> None:
    """Wait until every run in ``store`` has ended (the daemon's subprocesses run them)."""
    deadline = time.monotonic() + timeout
    ended = ("success", "failure", "canceled", "abandoned")
    while any(r.status not in ended for r in store.list_runs(limit=1000)):
        assert time.monotonic() < deadline, [(r.run_id, r.status) for r in store.list_runs()]
        time.sleep(0.1)
