"""Shared fixtures: copies of the real jaffle dbt-duckdb project (dbt writes into its folder)."""

from __future__ import annotations

import importlib.util
import shutil
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

FIXTURE = Path(__file__).parent / "fixtures" / "jaffle"


@dataclass
class Jaffle:
    """A private copy of the fixture project and the DuckDB file its profile writes to."""

    project_dir: Path
    warehouse: Path

    def load_raw(self, variant: int = 1) -> dict[str, int]:
        return load_raw_module().load_raw(str(self.warehouse), variant)


def load_raw_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("jaffle_load_raw", FIXTURE / "load_raw.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def copy_jaffle(root: Path) -> Jaffle:
    target = root / "jaffle"
    shutil.copytree(FIXTURE, target, ignore=shutil.ignore_patterns("target", "logs", "*.duckdb"))
    return Jaffle(project_dir=target, warehouse=root / "warehouse.duckdb")


@pytest.fixture
def jaffle(tmp_path: Path) -> Jaffle:
    """A fresh copy per test."""
    return copy_jaffle(tmp_path)


@pytest.fixture(scope="session")
def parsed_jaffle(tmp_path_factory: pytest.TempPathFactory) -> Jaffle:
    """One copy shared by read-only discovery tests (parsed once per session)."""
    from catchment_dbt import dbt_assets

    copy = copy_jaffle(tmp_path_factory.mktemp("parsed"))
    dbt_assets(copy.project_dir, warehouse=copy.warehouse)
    return copy
