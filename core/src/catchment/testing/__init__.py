"""The adapter conformance kit: base test classes and fixtures an adapter's tests subclass.

``AdapterConformance`` checks the rules in :data:`RULES` (C1..C12) against the real plugin
registry, loader, engine and CLI; a violated rule fails naming it. Needs pytest (the
``catchment[testing]`` extra). ``import catchment`` never loads this package.
"""

from __future__ import annotations

from catchment.testing.project import (
    CliResult,
    describe_definitions,
    load_isolated,
    run_cli,
    snapshot_files,
    warehouse_of,
    warehouse_tables,
    write_project,
)
from catchment.testing.rules import RULES, ConformanceViolation, Rule, check, violated
from catchment.testing.suite import AdapterConformance, Selection

__all__ = [
    "RULES",
    "AdapterConformance",
    "CliResult",
    "ConformanceViolation",
    "Rule",
    "Selection",
    "check",
    "describe_definitions",
    "load_isolated",
    "run_cli",
    "snapshot_files",
    "violated",
    "warehouse_of",
    "warehouse_tables",
    "write_project",
]
