"""Choosing the executor: ``--executor`` over ``defaults.executor`` over ``--workers``."""

from __future__ import annotations

from pathlib import Path

import pytest
from catchment.errors import ConfigError
from catchment.execution.choose import executor_for_project, parse_executor_option
from catchment.execution.executors import InProcessExecutor, MultiprocessExecutor
from catchment.project import load_project

YAML = (
    "project: {name: c}\n"
    "components:\n  - {type: python, name: code, attributes: {module: assets.py}}\n"
    "io_managers:\n  default: {type: filesystem, config: {base_dir: s}}\n"
)


def _project(tmp_path: Path, defaults: str = ""):  # type: ignore[no-untyped-def]
    (tmp_path / "catchment.yaml").write_text(YAML + defaults)
    (tmp_path / "assets.py").write_text(
        "from catchment import asset\n\n@asset\ndef a():\n    return 1\n"
    )
    return load_project(tmp_path)


def test_the_option_names_a_type_and_maybe_an_address() -> None:
    assert parse_executor_option("dask") == {"type": "dask", "address": None}
    assert parse_executor_option("dask:tcp://h:8786") == {"type": "dask", "address": "tcp://h:8786"}
    assert parse_executor_option("multiprocess")["type"] == "multiprocess"
    with pytest.raises(ConfigError, match="unknown executor 'ray'") as caught:
        parse_executor_option("ray")
    assert caught.value.where == "--executor"


def test_defaults_executor_is_used_unless_the_option_overrides_it(tmp_path: Path) -> None:
    from catchment.execution.dask_executor import DaskExecutor

    project = _project(
        tmp_path, "defaults:\n  executor: {type: dask, address: 'tcp://127.0.0.1:8786'}\n"
    )
    assert project.problems == []
    chosen = executor_for_project(project)
    assert isinstance(chosen, DaskExecutor)
    assert chosen.address == "tcp://127.0.0.1:8786"
    assert chosen.storage_url == project.defaults.storage_url
    assert isinstance(executor_for_project(project, "inprocess"), InProcessExecutor)
    assert isinstance(executor_for_project(project, "multiprocess", 3), MultiprocessExecutor)


def test_without_settings_workers_decide(tmp_path: Path) -> None:
    project = _project(tmp_path)
    assert isinstance(executor_for_project(project, workers=1), InProcessExecutor)
    assert isinstance(executor_for_project(project, workers=2), MultiprocessExecutor)


def test_a_bad_executor_type_is_a_problem_naming_the_field(tmp_path: Path) -> None:
    project = _project(tmp_path, "defaults:\n  executor: {type: ray}\n")
    assert any("executor" in p.where for p in project.problems), project.problems
