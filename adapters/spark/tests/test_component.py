"""Discovery of `spark` components: specs, identities, reads, checks, versions, errors
(no Spark is started)."""

from __future__ import annotations

from pathlib import Path

import pytest
from catchment.components import ComponentContext, ProjectDefaults
from catchment.errors import ConfigError
from catchment.graph import AssetGraph
from catchment.io_managers import DuckDBIOManager
from catchment.keys import AssetKey
from catchment.tables import duckdb_table, file_table, table
from catchment_spark.attributes import SparkAttributes
from catchment_spark.component import build
from pydantic import ValidationError


def context(root: Path) -> ComponentContext:
    return ComponentContext(
        name="spark_jobs", project=ProjectDefaults.for_root(root), source="catchment.yaml:7"
    )


def attributes(**job) -> SparkAttributes:
    base = {
        "name": "revenue",
        "script": "jobs/revenue.py",
        "outputs": [{"key": "spark/revenue", "path": "data/revenue"}],
    }
    return SparkAttributes.model_validate({"jobs": [{**base, **job}], "group": "analytics"})


@pytest.fixture
def root(tmp_path):
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "revenue.py").write_text("print('v1')\n")
    return tmp_path


def test_a_job_declares_its_outputs_with_identity_reads_and_checks(root):
    attrs = attributes(
        inputs=[
            {"duckdb": "main.orders"},
            {"duckdb": "orders", "duckdb_file": "other.duckdb"},
            {"path": "data/raw/events"},
            {"table": "ops.public.users", "system": "postgres", "location": "db:5432"},
            {"asset": "raw/customers"},
        ],
        outputs=[
            {"key": "spark/revenue", "path": "data/revenue", "checks": [{"name": "positive"}]},
            {"key": "spark/top", "table": "analytics.top"},
        ],
        owners=["finance@example.com"],
        args=["--day", "2026-01-01"],
    )
    [defn] = build(attrs, context(root))
    assert defn.name == "spark_jobs.revenue"
    assert defn.adapter == "spark"
    assert defn.component == "spark_jobs"
    assert not defn.can_subset
    revenue, top = defn.specs
    assert revenue.table == file_table(root / "data" / "revenue")
    assert top.table == table("spark", "top", schema="analytics")
    assert revenue.reads == (
        duckdb_table(root / "warehouse.duckdb", "orders"),
        duckdb_table(root / "other.duckdb", "orders"),
        file_table(root / "data" / "raw" / "events"),
        table("postgres", "users", schema="public", database="ops", location="db:5432"),
    )
    assert revenue.dep_keys == (AssetKey("raw/customers"),)
    assert revenue.group == "analytics"
    assert revenue.owners == ("finance@example.com",)
    assert revenue.kinds == ("spark", "parquet")
    assert [c.id for c in revenue.checks] == ["spark/revenue:positive"]


def test_reads_link_to_the_duckdb_writer_in_the_graph(root):
    from catchment import asset

    @asset
    def orders():
        return None

    defns = build(attributes(inputs=[{"duckdb": "main.orders"}]), context(root))
    manager = DuckDBIOManager(root / "warehouse.duckdb")
    graph = AssetGraph.build([orders, *defns], io_tables=lambda s: manager.table_for(s.key))
    assert graph.upstream(AssetKey("spark/revenue")) == {AssetKey("orders")}
    assert not any(graph.is_external(k) for k in graph.specs)


def test_an_unmatched_read_becomes_an_external_source(root):
    defns = build(attributes(inputs=[{"duckdb": "raw.clicks"}]), context(root))
    graph = AssetGraph.build(defns)
    [upstream] = graph.upstream(AssetKey("spark/revenue"))
    assert graph.is_external(upstream)
    assert upstream.path[-2:] == ("raw", "clicks")


def test_editing_the_script_changes_the_code_version(root):
    [before] = build(attributes(), context(root))
    (root / "jobs" / "revenue.py").write_text("print('v2')\n")
    [after] = build(attributes(), context(root))
    assert before.specs[0].code_version != after.specs[0].code_version


def test_a_missing_script_names_the_field_and_the_project_folder(tmp_path):
    with pytest.raises(ConfigError) as info:
        build(attributes(script="jobs/nope.py"), context(tmp_path))
    assert info.value.where == "catchment.yaml:7 attributes.jobs[0].script"
    assert str(tmp_path) in info.value.hint


@pytest.mark.parametrize(
    ("relation", "message"),
    [
        ({"path": "a", "duckdb": "b"}, "exactly one of path, duckdb or table (got path, duckdb)"),
        ({}, "exactly one of path, duckdb or table"),
        ({"asset": "x", "path": "a"}, "either asset or one of path, duckdb, table"),
        ({"path": "a", "duckdb_file": "w.duckdb"}, "duckdb_file only applies with duckdb"),
    ],
)
def test_an_input_needs_exactly_one_identity(relation, message):
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        attributes(inputs=[relation])


def test_outputs_cannot_be_duckdb_and_job_names_are_unique(root):
    with pytest.raises(ConfigError, match="write paths or tables, not DuckDB"):
        build(attributes(outputs=[{"key": "x", "duckdb": "main.x"}]), context(root))
    job = {"name": "a", "script": "jobs/revenue.py", "outputs": [{"key": "k", "path": "p"}]}
    attrs = SparkAttributes.model_validate({"jobs": [job, {**job}]})
    with pytest.raises(ConfigError, match="repeated: a"):
        build(attrs, context(root))


def test_unknown_attributes_are_rejected():
    with pytest.raises(ValidationError, match="scirpt"):
        SparkAttributes.model_validate({"jobs": [{"name": "a", "scirpt": "x.py"}]})
