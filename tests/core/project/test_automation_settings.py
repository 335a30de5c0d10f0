"""Automation in catchment.yaml: a component's condition, scope and freshness, per-asset
overrides, the project's freshness section, and errors that name the file and line."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

from catchment import AssetKey
from catchment.automation.conditions import eager, on_cron, on_missing
from catchment.automation.policy import FreshnessPolicy
from catchment.partitions import PartitionScope
from catchment.plugins import PluginRegistry
from catchment.project import Project, load_project

WriteProject = Callable[..., Path]

HEADER = """project: {name: shop}
components:
  - type: python
    name: core
    attributes: {module: assets.py, group: sales}
"""


def _load(
    write_project: WriteProject, registry: PluginRegistry, component: str, sections: str = ""
) -> Project:
    """A project whose one component, ``core`` (the python module below, group ``sales``),
    has the lines ``component``, followed by the top-level ``sections``."""
    text = HEADER + textwrap.indent(textwrap.dedent(component).lstrip("\n"), "    ")
    root = write_project(text + textwrap.dedent(sections), {"assets.py": ASSETS})
    return load_project(root, registry=registry)


ASSETS = """
from catchment import asset, StaticPartitions

@asset
def orders():
    return 1

@asset(automation="on_missing()")
def daily_revenue(orders):
    return orders

@asset(partitions=StaticPartitions(["eu", "us"]))
def daily_costs(orders):
    return {"eu": 1, "us": 2}
"""


def test_component_condition_with_per_asset_overrides(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    project = _load(
        write_project,
        registry,
        """
            automation_condition: "{{ automation_condition.eager() }}"
            freshness: 36h
            assets:
              "daily_*":
                automation_condition: >-
                  {{ automation_condition.on_cron('0 3 * * *', timezone='Europe/Berlin') }}
              daily_costs:
                partition_scope: last 1
                freshness: {cron: "0 9 * * *"}
        """,
    )
    assert project.problems == []
    specs = project.require_graph().specs
    cron = on_cron("0 3 * * *", "Europe/Berlin")
    assert specs[AssetKey("orders")].automation == eager()  # the component's
    assert specs[AssetKey("daily_revenue")].automation == cron  # the override beats the code
    assert specs[AssetKey("daily_costs")].automation == cron
    assert specs[AssetKey("daily_costs")].partition_scope == PartitionScope(last=1)
    assert specs[AssetKey("daily_costs")].freshness == FreshnessPolicy(cron="0 9 * * *")
    assert specs[AssetKey("orders")].freshness == FreshnessPolicy(max_lag=36 * 3600)


def test_the_code_s_condition_beats_the_component_default(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    specs = (
        _load(
            write_project,
            registry,
            """
            automation_condition: "eager() & ~check_failed()"
        """,
        )
        .require_graph()
        .specs
    )
    assert specs[AssetKey("daily_revenue")].automation == on_missing()
    assert str(specs[AssetKey("orders")].automation) == "eager() & ~check_failed()"


def test_bad_conditions_and_overrides_are_problems_at_their_line(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    project = _load(
        write_project,
        registry,
        """
            automation_condition: "{{ automation_condition.on_cron('0 3 * *') }}"
            partition_scope: recent
            assets:
              orderz:
                automation_condition: "eagre()"
              orders:
                freshness: 36 hours
        """,
    )
    found = {p.where.rsplit(":", 1)[1]: p.message for p in project.problems}
    assert "invalid cron schedule '0 3 * *'" in found["6"]
    assert "unknown partition scope 'recent'" in found["7"]
    assert "matches no asset of this component" in found["9"]
    assert "unknown operand eagre()" in found["10"]
    assert "invalid duration '36 hours'" in found["12"]
    assert all(p.where.rsplit(":", 1)[0].endswith("catchment.yaml") for p in project.problems)
    # the assets still load, without the settings that were wrong
    assert project.graph is not None
    assert project.graph.specs[AssetKey("orders")].automation is None


def test_project_freshness_section_by_selection(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    project = _load(
        write_project,
        registry,
        """
            assets:
              orders: {freshness: 2h}
        """,
        """
        freshness:
          - {max_lag: 48h}
          - {select: "key:daily_*", cron: "0 9 * * *", timezone: Europe/Berlin}
          - {select: "group:nope+", max_lag: 1h}
        """.lstrip("\n"),
    )
    specs = project.graph.specs if project.graph else {}
    assert specs[AssetKey("orders")].freshness == FreshnessPolicy(max_lag=7200)  # its own wins
    assert specs[AssetKey("daily_costs")].freshness == FreshnessPolicy(
        cron="0 9 * * *", timezone="Europe/Berlin"
    )
    (problem,) = project.problems
    assert problem.where.endswith("catchment.yaml:11")
    assert "nope" in problem.message


def test_a_bad_condition_in_python_names_the_module_line(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    root = write_project(
        HEADER.replace("assets.py", "bad.py"),
        {
            "bad.py": """
                from catchment import asset
                from catchment.automation.conditions import on_cron

                @asset(automation=on_cron("0 3 * *"))
                def nightly():
                    return 1
            """
        },
    )
    (problem,) = load_project(root, registry=registry).problems
    assert "invalid cron schedule '0 3 * *'" in problem.message
    assert problem.where.endswith(f"({root / 'bad.py'}:5)")


def test_a_bad_condition_string_in_python_names_the_module_line(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    root = write_project(
        HEADER.replace("assets.py", "bad.py"),
        {
            "bad.py": """
                from catchment import asset

                @asset(automation="eagre() & ~failed()")
                def nightly():
                    return 1
            """
        },
    )
    (problem,) = load_project(root, registry=registry).problems
    assert "unknown operand eagre()" in problem.message
    assert problem.where.endswith(f"({root / 'bad.py'}:4)")
