"""``import catchment`` stays light: no tool, no dataframe library, no pydantic."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "dbt",
    "dlt",
    "pyspark",
    "modal",
    "snowflake",
    "pandas",
    "polars",
    "pyarrow",
    "duckdb",
    "pydantic",
)


def _modules_after(code: str) -> set[str]:
    script = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return set(json.loads(result.stdout))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


def test_import_catchment_loads_no_heavy_module() -> None:
    modules = _modules_after("import catchment")
    assert "catchment" in modules
    assert _heavy(modules) == []


def test_graph_selection_partitions_and_io_managers_stay_light_until_used() -> None:
    modules = _modules_after(
        "import catchment\n"
        "from catchment.graph import AssetGraph\n"
        "from catchment.selection import parse\n"
        "from catchment.io_managers import DuckDBIOManager, FilesystemIOManager\n"
        "from catchment.partitions import TimeWindowPartitions, TimeWindowMapping\n"
        "catchment.asset, catchment.AssetGraph, catchment.StaticMapping\n"
        "g = AssetGraph.build([catchment.asset(lambda: 1, key='a')])\n"
        "assert g.select('+a') == {catchment.AssetKey('a')}"
    )
    assert "catchment.graph" in modules
    assert "catchment.io_managers.duckdb" in modules
    assert _heavy(modules) == []


def test_automation_and_reconciliation_import_no_engine_and_no_pydantic() -> None:
    """The daemon evaluates conditions and freshness and explains them without importing
    the engine, pydantic or any tool."""
    modules = _modules_after(
        "import catchment.automation.evaluator, catchment.automation.freshness\n"
        "import catchment.automation.explain, catchment.execution.reconcile"
    )
    assert "catchment.execution.engine" not in modules
    assert _heavy(modules) == []


def test_the_check_itself_detects_a_heavy_import() -> None:
    """Guard against a vacuous pass: the same probe sees duckdb once something imports it."""
    assert "duckdb" in _heavy(_modules_after("import catchment, duckdb"))


def test_every_public_name_resolves() -> None:
    """Each lazy export names a real object (a typo would only fail at first use)."""
    import catchment

    missing = [name for name in catchment.__all__ if getattr(catchment, name, None) is None]
    assert missing == []
    assert {"materialize", "AssetGraph", "FilesystemIOManager", "load_project"} <= set(
        catchment.__all__
    )


def test_the_loader_and_the_snapshot_share_one_problem_class_without_pydantic() -> None:
    """``Problem`` lives in ``catchment.problems`` (no pydantic): the snapshot's read-only
    view uses that class (``ReadOnlyProblem`` is another name for it), and a problem
    redacts secrets however it is made."""
    modules = _modules_after(
        "import catchment.snapshot\n"
        "from catchment.problems import Problem\n"
        "from catchment.snapshot import ReadOnlyProblem\n"
        "assert ReadOnlyProblem is Problem\n"
        "p = ReadOnlyProblem('graph', 'x.yaml:3', 'postgresql://bob:s3cret@db/x is down')\n"
        "assert 's3cret' not in str(p), str(p)"
    )
    assert "catchment.problems" in modules
    assert _heavy(modules) == []
    from catchment.problems import Problem
    from catchment.project import Problem as LoaderProblem

    assert LoaderProblem is Problem
