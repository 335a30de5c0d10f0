"""The ``catchment`` entry point: `assets list --json` answered without typer prints what the
typer command prints; anything else goes to the typer app."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from catchment.cli.fast import _parse

ASSETS = """
from catchment import asset

@asset(group="sales")
def orders():
    return [1]

@asset
def revenue(orders):
    return 1
"""


def _project(root: Path) -> Path:
    (root / "catchment.yaml").write_text(
        "project: {name: shop}\n"
        "io_managers: {default: {type: memory}}\n"
        "components: [{type: python, name: core, attributes: {module: fast_assets.py}}]\n"
    )
    (root / "fast_assets.py").write_text(ASSETS)
    return root


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["assets", "list", "--json"], {"json": True}),
        (
            ["assets", "list", "--json", "-s", "group:sales", "--project=x", "--no-cache"],
            {"json": True, "select": "group:sales", "project": "x", "no_cache": True},
        ),
        (["assets", "list"], None),  # the table: typer and rich
        (["assets", "list", "--json", "--help"], None),
        (["assets", "list", "--json", "--bogus"], None),
        (["assets", "list", "--json", "-s"], None),
        (["plan", "--json"], None),
        ([], None),
    ],
)
def test_only_exactly_assets_list_json_takes_the_fast_path(
    argv: list[str], expected: dict[str, object] | None
) -> None:
    assert _parse(argv) == expected


def _catchment(root: Path, *args: str, fast: bool) -> subprocess.CompletedProcess[str]:
    entry = "catchment.cli.fast" if fast else "catchment.cli.main"
    code = f"import sys; sys.argv[0] = 'catchment'; from {entry} import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.mark.parametrize("args", [(), ("-s", "group:sales"), ("-s", "group:nope")])
def test_the_fast_path_prints_what_the_typer_command_prints(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    root = _project(tmp_path)
    typer_path = _catchment(root, "assets", "list", "--json", *args, fast=False)
    fast_path = _catchment(root, "assets", "list", "--json", *args, fast=True)
    assert fast_path.returncode == typer_path.returncode
    assert fast_path.stderr == typer_path.stderr
    if typer_path.returncode == 0:
        assert json.loads(fast_path.stdout) == json.loads(typer_path.stdout)
