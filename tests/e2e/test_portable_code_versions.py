"""A code version does not depend on where the project lives: the example platform copied to
two other folders has the same code version for every asset (else every asset of a moved
project shows stale "code changed")."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from catchment.definitions import location_free
from catchment.project import load_project

EXAMPLE = Path(__file__).parents[2] / "examples" / "platform"


def test_location_free_writes_the_project_folder_as_a_token(tmp_path: Path) -> None:
    text = f"duckdb {tmp_path}/warehouse.duckdb main.orders"
    assert location_free(text, tmp_path) == "duckdb <project>/warehouse.duckdb main.orders"
    assert location_free("nothing here", tmp_path) == "nothing here"


def _code_versions(root: Path) -> dict[str, str | None]:
    project = load_project(root)
    assert project.graph is not None, [str(p) for p in project.problems]
    return {k.to_string(): s.code_version for k, s in project.graph.specs.items()}


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_the_example_copied_elsewhere_keeps_every_code_version(tmp_path: Path) -> None:
    one = tmp_path / "a" / "platform"
    two = tmp_path / "somewhere" / "else" / "shop"
    for target in (one, two):
        shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".catchment", "*.duckdb"))
    first, second = _code_versions(one), _code_versions(two)
    assert first.keys() == second.keys()
    assert any(first.values())
    changed = {k: (first[k], second[k]) for k in first if first[k] != second[k]}
    assert not changed
