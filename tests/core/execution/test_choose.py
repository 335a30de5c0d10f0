"""Choosing the executor: ``--executor`` over ``defaults.executor`` over ``--workers``."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
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


# -- kill_grace_seconds: how long a stuck step runs past its last deadline -----------------------


def test_the_option_takes_a_kill_grace_for_every_executor(tmp_path: Path) -> None:
    from catchment.execution.dask_executor import DaskExecutor

    assert parse_executor_option("multiprocess,kill_grace_seconds=2.5") == {
        "type": "multiprocess",
        "address": None,
        "kill_grace_seconds": 2.5,
    }
    project = _project(tmp_path)
    chosen = executor_for_project(project, "multiprocess,kill_grace_seconds=2.5", 3)
    assert isinstance(chosen, MultiprocessExecutor)
    assert (chosen.capacity, chosen.kill_grace) == (3, 2.5)
    dask = executor_for_project(project, "dask:tcp://127.0.0.1:8786,kill_grace_seconds=0")
    assert isinstance(dask, DaskExecutor)
    assert (dask.address, dask.kill_grace) == ("tcp://127.0.0.1:8786", 0.0)
    default = executor_for_project(project, "multiprocess")
    assert isinstance(default, MultiprocessExecutor)
    assert default.kill_grace == 10.0
    # in process nothing is killed: the grace is when a stuck step is logged as such
    inprocess = executor_for_project(project, "inprocess,kill_grace_seconds=30")
    assert isinstance(inprocess, InProcessExecutor)
    assert (inprocess.kill_grace, InProcessExecutor().kill_grace) == (30.0, 10.0)


@pytest.mark.parametrize("kind", ["inprocess", "multiprocess", "dask"])
def test_defaults_executor_kill_grace_reaches_the_executor(tmp_path: Path, kind: str) -> None:
    project = _project(
        tmp_path, f"defaults:\n  executor: {{type: {kind}, kill_grace_seconds: 30}}\n"
    )
    assert project.problems == []
    chosen = executor_for_project(project)
    assert getattr(chosen, "kill_grace", None) == 30.0


def test_without_kill_grace_the_executor_waits_10_seconds(tmp_path: Path) -> None:
    project = _project(tmp_path, "defaults:\n  executor: {type: multiprocess}\n")
    chosen = executor_for_project(project)
    assert isinstance(chosen, MultiprocessExecutor)
    assert chosen.kill_grace == 10.0


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("abc", "must be a number of seconds"),
        ("-1", "must be 0 or more"),
        ("[1]", "must be a number of seconds"),
        ("true", "must be a number of seconds"),
        (".inf", "must be a number of seconds"),
    ],
)
def test_a_bad_kill_grace_in_the_file_is_one_problem_naming_file_and_field(
    tmp_path: Path, value: str, said: str
) -> None:
    project = _project(
        tmp_path,
        f"defaults:\n  executor:\n    type: multiprocess\n    kill_grace_seconds: {value}\n",
    )
    (problem,) = project.problems
    assert problem.where == f"{tmp_path / 'catchment.yaml'}:9"  # the kill_grace_seconds line
    assert problem.message.startswith(f"field defaults.executor.kill_grace_seconds: {said}")
    assert "0 or more" in (problem.hint or "")
    chosen = executor_for_project(project)  # only if the user allows a broken project
    assert isinstance(chosen, MultiprocessExecutor)
    assert chosen.kill_grace == 10.0


@pytest.mark.parametrize(
    ("option", "said"),
    [
        ("multiprocess,kill_grace_seconds=abc", "must be a number of seconds, got 'abc'"),
        ("dask,kill_grace_seconds=-3", "must be 0 or more, got '-3'"),
        ("multiprocess,kill_grace_seconds", "unknown executor setting 'kill_grace_seconds'"),
        ("multiprocess,grace=3", "unknown executor setting 'grace=3'"),
        ("inprocess,kill_grace_seconds=", "must be a number of seconds, got ''"),
    ],
)
def test_a_bad_kill_grace_in_the_option_is_one_clear_error(option: str, said: str) -> None:
    with pytest.raises(ConfigError, match=said) as caught:
        parse_executor_option(option)
    assert caught.value.where == "--executor"
    assert caught.value.hint


def test_materialize_with_a_bad_kill_grace_exits_1_with_the_error_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from catchment.cli.main import main

    _project(tmp_path)
    option = "multiprocess,kill_grace_seconds=soon"
    argv = ["catchment", "materialize", "--executor", option, "--project", str(tmp_path)]
    monkeypatch.setattr("sys.argv", argv)
    monkeypatch.delenv("CATCHMENT_DEBUG", raising=False)
    with pytest.raises(SystemExit) as stop:
        main()
    assert stop.value.code == 1
    err = capsys.readouterr().err
    assert "error: --executor: kill_grace_seconds must be a number of seconds, got 'soon'" in err
    assert "hint: give a number of seconds, 0 or more" in err
    assert "Traceback" not in err


def test_an_inprocess_step_is_logged_as_stuck_kill_grace_seconds_past_its_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In-process nothing is killed, but a step blocked past its deadline is said to be still
    running after the project's kill_grace_seconds, not a fixed 10 s. The deadline timer is
    replaced by one that reports the grace it was given and calls the overdue report at once
    (as if the compute were still blocked then), so nothing waits."""
    from catchment import asset
    from catchment.events import EventType
    from catchment.execution import step as step_module
    from catchment.execution.api import materialize

    project = _project(
        tmp_path, "defaults:\n  executor: {type: inprocess, kill_grace_seconds: 2.5}\n"
    )
    chosen = executor_for_project(project)
    graces: list[float] = []

    @contextlib.contextmanager
    def timer(
        deadline: float | None, *, on_overdue: Callable[[], None] | None = None, grace: float = 10
    ) -> Iterator[None]:
        graces.append(grace)
        if on_overdue is not None:
            on_overdue()
        yield

    monkeypatch.setattr(step_module, "interrupt_at", timer)

    @asset(timeout=60)
    def crunch() -> int:
        return 1

    result = materialize([crunch], executor=chosen)
    assert graces == [2.5]
    said = [str(e.data["message"]) for e in result.events if e.type is EventType.LOG]
    assert any("step crunch passed its 60 s timeout but is still running" in m for m in said)
