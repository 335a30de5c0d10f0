"""The adapter template end to end: `catchment new adapter` renders it, the generated adapter
installs against the local core in a fresh virtual environment, its own tests (the conformance
kit included) pass there, and catchment sees it. Deliberately broken copies fail the kit with
a message naming the rule they break."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from .test_adapter_shape import shape_problems

# builds a virtual environment for rendered adapters and runs their test suites
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
CONSTRAINTS = REPO / "constraints.txt"


def _uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if found is None:
        pytest.skip("uv is not installed next to this interpreter")
    return found


def _run(args: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return subprocess.run(
        args,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _new_adapter(name: str, dst: Path) -> Path:
    """Render the template with the real CLI (this repository's catchment)."""
    proc = _run([sys.executable, "-m", "catchment", "new", "adapter", name, "--dir", str(dst)])
    assert proc.returncode == 0, proc.stderr
    assert f"created catchment-{name.replace('_', '-')}" in proc.stdout
    return dst


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


@dataclass
class Env:
    """A fresh virtual environment with the local core and the generated adapters."""

    root: Path
    good: Path
    dupes: Path
    greedy: Path

    @property
    def python(self) -> str:
        return str(self.root / "bin" / "python")

    def catchment(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        # only this environment's adapters: no leakage from the developer's venv
        env = {"VIRTUAL_ENV": str(self.root), "PYTHONPATH": "", "CATCHMENT_ADAPTERS": ""}
        return _run([self.python, "-m", "catchment", *args], cwd=cwd, env=env)

    def pytest(self, adapter: Path) -> subprocess.CompletedProcess[str]:
        return _run(
            [self.python, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"],
            cwd=adapter,
            env={"VIRTUAL_ENV": str(self.root), "PYTHONPATH": ""},
        )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Env:
    base = tmp_path_factory.mktemp("template")
    good = _new_adapter("acme", base / "catchment-acme")
    dupes = _new_adapter("dupes", base / "catchment-dupes")
    greedy = _new_adapter("greedy", base / "catchment-greedy")
    # dupes: every table gets the same asset key (breaks C5)
    _edit(
        dupes / "src" / "catchment_dupes" / "assets.py",
        "key = AssetKey((schema, t.name))",
        'key = AssetKey((schema, "table"))',
    )
    # greedy: writes and reports every table, selected or not (breaks C7)
    _edit(
        greedy / "src" / "catchment_greedy" / "execution.py",
        "selected = [t for t in tables if t.key in context.selected_keys]",
        "selected = list(tables)",
    )
    venv = base / "venv"
    uv = _uv()
    made = _run([uv, "venv", "-q", str(venv), "--python", sys.executable])
    assert made.returncode == 0, made.stderr
    installed = _run(
        [
            uv,
            "pip",
            "install",
            "-q",
            "--python",
            str(venv / "bin" / "python"),
            "-c",
            str(CONSTRAINTS),
            "-e",
            str(REPO / "core"),
            *(x for p in (good, dupes, greedy) for x in ("-e", f"{p}[test]")),
        ]
    )
    assert installed.returncode == 0, installed.stderr
    return Env(root=venv, good=good, dupes=dupes, greedy=greedy)


def test_generated_adapter_is_complete(env: Env) -> None:
    files = {p.relative_to(env.good).as_posix() for p in env.good.rglob("*") if p.is_file()}
    for expected in (
        "pyproject.toml",
        "README.md",
        "CHANGELOG.md",
        ".copier-answers.yml",
        ".github/workflows/ci.yml",
        "src/catchment_acme/hooks.py",
        "src/catchment_acme/attributes.py",
        "src/catchment_acme/component.py",
        "src/catchment_acme/assets.py",
        "src/catchment_acme/execution.py",
        "tests/test_conformance.py",
    ):
        assert expected in files
    pyproject = (env.good / "pyproject.toml").read_text()
    assert '[project.entry-points."catchment.adapters"]' in pyproject
    assert 'acme = "catchment_acme.hooks"' in pyproject
    assert (
        'CORE_API = ">=1.0,<2"' in (env.good / "src" / "catchment_acme" / "__init__.py").read_text()
    )
    assert "adapter_name: acme" in (env.good / ".copier-answers.yml").read_text()
    assert "pytest" in (env.good / ".github" / "workflows" / "ci.yml").read_text()
    assert shape_problems(env.good) == []  # the shape every first-party adapter has


def test_generated_adapter_passes_its_own_tests_in_a_fresh_environment(env: Env) -> None:
    result = env.pytest(env.good)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
    assert "failed" not in result.stdout.splitlines()[-1]


def test_catchment_lists_the_generated_adapter_and_its_assets(env: Env, tmp_path: Path) -> None:
    plugins = env.catchment("plugins", "--json")
    assert plugins.returncode == 0, plugins.stderr
    [record] = [r for r in json.loads(plugins.stdout) if r["name"] == "acme"]
    assert record["status"] == "ok", record
    assert record["distribution"] == "catchment-acme"
    assert record["component_types"] == ["acme"]

    project = tmp_path / "project"
    project.mkdir()
    (project / "catchment.yaml").write_text(
        "project: {name: demo}\n"
        "components:\n"
        "  - type: acme\n"
        "    name: demo\n"
        "    attributes:\n"
        "      schema: raw\n"
        "      tables:\n"
        "        - {name: numbers, sql: 'select range as n from range(4)'}\n"
        "        - {name: evens, sql: 'select n from raw.numbers where n % 2 = 0', "
        "reads: [numbers]}\n"
    )
    listed = env.catchment("assets", "list", "--json", "--project", str(project))
    assert listed.returncode == 0, listed.stderr
    rows = {r["key"]: r for r in json.loads(listed.stdout)}
    assert set(rows) == {"raw/numbers", "raw/evens"}
    assert rows["raw/evens"]["deps"] == ["raw/numbers"]  # linked by table identity
    assert rows["raw/numbers"]["adapter"] == "acme"
    assert rows["raw/numbers"]["table"]["qualified_name"] == "warehouse.raw.numbers"

    run = env.catchment("materialize", "--project", str(project))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 materialized" in run.stdout


def test_duplicate_keys_fail_the_kit_naming_the_rule(env: Env) -> None:
    result = env.pytest(env.dupes)
    assert result.returncode != 0
    assert "conformance rule C5 (asset keys are unique)" in result.stdout
    assert "asset keys declared more than once: ['main/table']" in result.stdout
    failed = _failed(result)
    assert "test_c5_asset_keys_are_unique" in failed
    assert "test_c1_registers_through_entry_point" not in failed


def test_reporting_outside_the_selection_fails_the_kit_naming_the_rule(env: Env) -> None:
    result = env.pytest(env.greedy)
    assert result.returncode != 0
    assert "conformance rule C7 (execution reports exactly the selected subset)" in result.stdout
    assert "was not selected" in result.stdout
    failed = _failed(result)
    assert "test_c7_execution_reports_exactly_the_selection" in failed
    # the rules the adapter keeps still pass
    assert "test_c5_asset_keys_are_unique" not in failed
    assert "test_c2_discovery_returns_valid_specs" not in failed


def _failed(result: subprocess.CompletedProcess[str]) -> str:
    return "\n".join(ln for ln in result.stdout.splitlines() if ln.startswith("FAILED"))
