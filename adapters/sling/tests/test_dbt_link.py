"""A dbt source over a Sling target table links to the Sling stream, and both run in order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from catchment import materialize
from catchment.keys import AssetKey
from catchment.project import load_project

pytestmark = pytest.mark.slow

CATCHMENT_YAML = """\
project:
  name: linked
components:
  - type: sling
    name: ingest
    attributes:
      replication:
        source: LOCAL
        target: WH
        defaults: {object: "raw.{stream_file_name}"}
        streams:
          file://data/people.csv:
      connections:
        WH: duckdb://warehouse.duckdb
  - type: dbt
    name: transform
    attributes:
      project_dir: dbt
"""

FILES = {
    "data/people.csv": "id,name\n1,ann\n2,bob\n",
    "dbt/dbt_project.yml": (
        "name: linked\nversion: '1.0'\nprofile: linked\nconfig-version: 2\nmodel-paths: [models]\n"
    ),
    "dbt/profiles.yml": (
        "linked:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        "      path: \"{{ env_var('CATCHMENT_WAREHOUSE') }}\"\n      schema: main\n"
        "      threads: 1\n"
    ),
    "dbt/models/sources.yml": (
        "version: 2\nsources:\n  - name: raw\n    schema: raw\n    tables:\n      - name: people\n"
    ),
    "dbt/models/people_upper.sql": (
        "select id, upper(name) as name from {{ source('raw', 'people') }}\n"
    ),
}


def test_dbt_source_over_a_sling_table_links_to_the_stream(project: Path, registry: Any) -> None:
    pytest.importorskip("catchment_dbt")
    pytest.importorskip("dbt.cli.main")
    for rel, text in FILES.items():
        path = project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (project / "catchment.yaml").write_text(CATCHMENT_YAML)
    loaded = load_project(project, registry=registry)
    assert loaded.problems == []
    graph = loaded.require_graph()
    stream = AssetKey("raw/people")
    (model,) = [k for k in graph.specs if k.name == "people_upper"]
    assert graph.definition_of(stream).adapter == "sling"
    assert graph.upstream(model) == frozenset({stream})
    # the only external input is the CSV file the stream reads
    (external,) = [k for k in graph.ancestors([model]) if graph.is_external(k)]
    assert graph.specs[external].table == graph.specs[stream].reads[0]

    result = materialize(loaded.definitions)
    assert result.materialized_keys == [stream, model]
    with duckdb.connect(str(project / "warehouse.duckdb")) as con:  # dbt-duckdb holds it open
        rows = con.execute("select name from main.people_upper order by id").fetchall()
    assert rows == [("ANN",), ("BOB",)]
