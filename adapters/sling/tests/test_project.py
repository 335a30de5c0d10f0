"""The ``sling`` component loaded from catchment.yaml through the plugin registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from catchment.keys import AssetKey
from catchment.project import load_project

PROJECT = """\
project:
  name: ingest_demo
components:
  - type: sling
    name: ingest
    attributes:
      replication: replication.yaml
      connections:
        PG: "{{ env('SLING_TEST_PG_URL') }}"
        WH: {url_env: SLING_TEST_WH_URL}
      overrides:
        shop.orders: {group: sales}
"""

REPLICATION = """\
source: PG
target: WH
defaults:
  object: raw.{stream_table}
streams:
  shop.orders:
    mode: incremental
    primary_key: [id]
    update_key: updated_at
"""


def test_component_loads_from_catchment_yaml_with_templated_connections(
    project: Path,
    pg_url: str,
    password: str,
    monkeypatch: pytest.MonkeyPatch,
    registry: Any,
) -> None:
    (project / "catchment.yaml").write_text(PROJECT)
    (project / "replication.yaml").write_text(REPLICATION)
    monkeypatch.setenv("SLING_TEST_PG_URL", pg_url)
    monkeypatch.setenv("SLING_TEST_WH_URL", "duckdb://warehouse.duckdb")
    loaded = load_project(project, registry=registry)
    assert loaded.problems == []
    graph = loaded.require_graph()
    spec = graph.specs[AssetKey("raw/orders")]
    assert spec.group == "sales"
    assert spec.kinds == ("sling", "duckdb")
    assert graph.definition_of(spec.key).adapter == "sling"
    assert graph.is_external(AssetKey("external/postgres/postgres/shop/orders"))
    assert password not in repr(loaded.definitions)


def test_bad_replication_becomes_a_problem_of_that_component_only(
    project: Path, monkeypatch: pytest.MonkeyPatch, registry: Any
) -> None:
    (project / "catchment.yaml").write_text(PROJECT)
    (project / "replication.yaml").write_text("source: PG\ntarget: [WH\n")
    monkeypatch.setenv("SLING_TEST_PG_URL", "postgresql://u:topsecret@h/db")
    monkeypatch.setenv("SLING_TEST_WH_URL", "duckdb://warehouse.duckdb")
    loaded = load_project(project, registry=registry)
    (problem,) = loaded.problems
    assert problem.kind == "component"
    assert "does not parse" in problem.message
    assert "replication.yaml:" in problem.message + problem.where
    assert "topsecret" not in f"{problem}"
