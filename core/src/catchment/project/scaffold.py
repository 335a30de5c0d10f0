"""A new project: the smallest catchment.yaml that loads, runs and teaches the next step."""

from __future__ import annotations

from pathlib import Path

from catchment.errors import ConfigError

CATCHMENT_YAML = """\
# A catchment project: components (what assets exist), resources, IO managers, defaults.
# Docs: getting started, component types and the CLI reference.
project:
  name: {name}

components:
  - type: python
    name: assets
    attributes:
      module: assets.py

  # Add your tools as components once their adapters are installed, e.g.:
  # - type: dbt
  #   name: transform
  #   attributes:
  #     project_dir: dbt
"""

ASSETS_PY = '''\
"""Plain Python assets; each parameter names an upstream asset."""

from __future__ import annotations

import pandas as pd

from catchment import asset, asset_check


@asset(group="example")
def numbers() -> pd.DataFrame:
    """A small table, stored in the project's DuckDB warehouse (warehouse.duckdb)."""
    return pd.DataFrame({{"n": [1, 2, 3]}})


@asset(group="example")
def doubled(numbers: pd.DataFrame) -> pd.DataFrame:
    """Reads ``numbers`` and doubles it."""
    return numbers.assign(n=numbers["n"] * 2)


@asset_check(asset="doubled")
def all_even(doubled: pd.DataFrame) -> bool:
    """Every value is even."""
    return bool((doubled["n"] % 2 == 0).all())
'''

GITIGNORE = ".catchment/\nwarehouse.duckdb\nwarehouse.duckdb.wal\n"


def create_project(name: str, dst: Path) -> Path:
    """Write a new project into ``dst`` (new or empty) and return it."""
    if dst.exists() and (not dst.is_dir() or any(dst.iterdir())):
        raise ConfigError(
            "exists and is not an empty folder",
            where=str(dst),
            hint="pass --dir with a new or empty folder",
        )
    dst.mkdir(parents=True, exist_ok=True)
    (dst / "catchment.yaml").write_text(CATCHMENT_YAML.format(name=name))
    (dst / "assets.py").write_text(ASSETS_PY.format())
    (dst / ".gitignore").write_text(GITIGNORE)
    return dst
