"""`enabled:` on a component: false (or a template rendering to false) leaves it out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from catchment.keys import AssetKey
from catchment.plugins import PluginRegistry
from catchment.project import load_project

WriteProject = Callable[..., Path]

PROJECT = """
project: {name: shop}
components:
  - type: typed
    name: always
    attributes: {server: {host: h, port: 1}, tables: [a]}
  - type: typed
    name: optional
    enabled: "{{ env('CATCHMENT_TEST_OPTIONAL', '') != '' }}"
    attributes: {server: {host: h, port: 1}, tables: [b]}
"""


@pytest.mark.parametrize(("value", "loaded"), [(None, False), ("postgresql://x", True)])
def test_a_templated_enabled_switches_the_component(
    write_project: WriteProject,
    registry: PluginRegistry,
    monkeypatch: pytest.MonkeyPatch,
    value: str | None,
    loaded: bool,
) -> None:
    if value is None:
        monkeypatch.delenv("CATCHMENT_TEST_OPTIONAL", raising=False)
    else:
        monkeypatch.setenv("CATCHMENT_TEST_OPTIONAL", value)
    project = load_project(write_project(PROJECT), registry=registry)
    assert project.problems == []
    keys = set(project.require_graph().specs)
    assert AssetKey("always/a") in keys
    assert (AssetKey("optional/b") in keys) is loaded
    assert ("optional" in project.components) is loaded


def test_a_disabled_component_is_not_validated(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    root = write_project(
        """
        project: {name: shop}
        components:
          - type: typed
            name: skipped
            enabled: false
            attributes: {tables: "not a list"}
        """
    )
    project = load_project(root, registry=registry)
    assert project.problems == []
    assert project.components == {}


def test_enabled_that_is_not_a_boolean_is_a_problem_naming_the_field(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    root = write_project(
        """
        project: {name: shop}
        components:
          - type: typed
            name: odd
            enabled: "{{ 'maybe' }}"
            attributes: {server: {host: h, port: 1}, tables: [a]}
        """
    )
    (problem,) = load_project(root, registry=registry).problems
    assert "enabled" in problem.message
    assert problem.where.endswith(":5")  # the line of `enabled:`
