"""`timeout:` in catchment.yaml: per component (any type) and as a project default, checked
at load with file:line, and enforced when the project runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from catchment.events import EventType
from catchment.execution.project import run_project
from catchment.plugins import PluginRegistry
from catchment.project import load_project
from catchment.storage.sqlite import SqliteStorage

WriteProject = Callable[..., Path]

SLOW = """
import time
from catchment import asset

@asset
def slow():
    time.sleep(30)
    return 1

@asset(timeout=90)
def own_limit():
    return 2
"""


def test_component_timeout_applies_to_its_definitions_and_runs(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    root = write_project(
        """
        project: {name: p}
        defaults: {timeout: 2h}
        components:
          - type: python
            name: jobs
            timeout: 0.3s
            attributes: {module: jobs.py}
          - type: typed
            name: other
            attributes: {server: {host: h, port: 1}, tables: [t]}
        """,
        {"jobs.py": SLOW},
    )
    project = load_project(root, registry=registry)
    assert project.problems == []
    limits = {d.name: d.timeout for d in project.definitions}
    # the component's limit wins over what the code said; other components keep theirs
    assert limits == {"slow": 0.3, "own_limit": 0.3, "other/t": None}
    assert project.defaults.timeout == 7200.0
    storage = SqliteStorage(":memory:")
    result = run_project(project, "slow", storage=storage)
    (failed,) = [e for e in result.events if e.type is EventType.ASSET_FAILED]
    assert "timed out after 0.3 s" in failed.data["message"]
    run = storage.get_run(result.run_id)
    assert run is not None
    assert run.status == "failure"


def test_the_project_default_limits_steps_without_their_own(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    root = write_project(
        """
        project: {name: p}
        defaults: {timeout: 0.3}
        components:
          - type: python
            name: jobs
            attributes: {module: jobs.py}
        """,
        {"jobs.py": SLOW},
    )
    project = load_project(root, registry=registry)
    result = run_project(project, "slow", storage=SqliteStorage(":memory:"))
    assert result.status_of("slow") == "failed"
    assert "timed out after 0.3 s" in result.failures[0].data["message"]


def test_a_bad_timeout_is_a_problem_naming_the_line(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    root = write_project(
        """
        project: {name: p}
        defaults: {timeout: forever}
        components:
          - type: python
            name: jobs
            timeout: -1
            attributes: {module: jobs.py}
        """,
        {"jobs.py": SLOW},
    )
    problems = [str(p) for p in load_project(root, registry=registry).problems]
    assert len(problems) == 2, problems
    assert "catchment.yaml:2: timeout 'forever' is not a duration" in problems[0]
    assert "catchment.yaml:6: timeout must be more than 0 s" in problems[1]
