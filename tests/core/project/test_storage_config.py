"""A configured run store that cannot be used is an error, never a silent fall back to the
project's SQLite file; `check` validates the storage URL and IO manager paths without creating
anything; an invalid resource config stops a run at load."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from catchment.execution.project import open_project_storage
from catchment.plugins import PluginRegistry
from catchment.project import load_defaults, load_project
from catchment.storage import StorageError
from catchment.testing import CliResult, run_cli

WriteProject = Callable[..., Path]

ASSETS = "from catchment import asset\n\n@asset\ndef one():\n    return 1\n"

BAD_STORAGE = {
    "unset variable": "\"{{ env('CATCHMENT_TEST_UNSET_URL') }}\"",
    "a number": "123",
    "mysql": "mysql://ana:pw@db/runs",
    "empty": "\"{{ env('CATCHMENT_TEST_UNSET_URL', '') }}\"",
    "a folder": "sqlite:///{root}/.catchment",
    "a folder relative to the project": "sqlite:///.catchment",
    "a host": "sqlite://runs.db",
}


def _yaml(storage: str) -> str:
    return f"""
        project: {{name: shop}}
        defaults:
          storage: {storage}
        components:
          - {{type: python, name: core, attributes: {{module: assets.py}}}}
        """


@pytest.mark.parametrize("case", sorted(BAD_STORAGE))
def test_a_storage_that_cannot_be_used_is_a_problem_and_never_falls_back(
    write_project: WriteProject, registry: PluginRegistry, case: str, tmp_path: Path
) -> None:
    root = tmp_path / "proj"
    (root / ".catchment").mkdir(parents=True)
    write_project(_yaml(BAD_STORAGE[case].format(root=root)), {"assets.py": ASSETS})
    project = load_project(root, registry=registry)
    (problem,) = project.problems
    assert problem.where.endswith("catchment.yaml:3")
    assert "defaults.storage" in problem.message
    assert "pw" not in problem.message
    for opened in (project, load_defaults(root)):
        with pytest.raises(StorageError, match="configured run store cannot be used"):
            open_project_storage(opened)
    assert not (root / ".catchment" / "runs.db").exists()


@pytest.mark.parametrize("relative", [".catchment/runs.db", "runs.db", "../shared/runs.db"])
def test_a_relative_sqlite_store_is_in_the_project_folder_whatever_the_working_directory(
    write_project: WriteProject,
    registry: PluginRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    relative: str,
) -> None:
    """``sqlite:///PATH`` (three slashes) is relative to the folder of catchment.yaml, as
    SQLAlchemy users expect, never to the filesystem root or the working directory."""
    root = write_project(_yaml(f"sqlite:///{relative}"), {"assets.py": ASSETS})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    store = (root / relative).resolve()
    project = load_project(root, registry=registry)
    for defaults in (project.defaults, load_defaults(root)):
        assert defaults.storage_url == f"sqlite:///{store}"
        assert defaults.storage_problem is None
        open_project_storage(defaults).close()
    assert store.is_file()
    assert list(elsewhere.iterdir()) == []


def test_the_cli_records_into_a_relative_sqlite_store_from_another_folder(
    write_project: WriteProject, tmp_path: Path
) -> None:
    root = write_project(
        """
        project: {name: shop}
        defaults: {storage: "sqlite:///state/runs.db"}
        io_managers: {default: {type: filesystem, config: {base_dir: out}}}
        components:
          - {type: python, name: core, attributes: {module: assets.py}}
        """,
        {"assets.py": ASSETS},
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = run_cli(["materialize", "-p", str(root)], cwd=elsewhere, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    from catchment.storage import open_storage

    store = open_storage(f"sqlite:///{root.resolve() / 'state' / 'runs.db'}")
    (run,) = store.list_runs()
    store.close()
    assert run.status == "success"
    assert list(elsewhere.iterdir()) == []


def test_check_validates_without_side_effects(
    write_project: WriteProject, registry: PluginRegistry, tmp_path: Path
) -> None:
    store = tmp_path / "not" / "yet" / "runs.db"
    root = write_project(
        f"""
        project: {{name: shop}}
        defaults: {{storage: "sqlite:///{store}"}}
        io_managers:
          default: {{type: duckdb, config: {{path: tables}}}}
          files: {{type: filesystem, config: {{base_dir: assets.py}}}}
        components:
          - {{type: python, name: core, attributes: {{module: assets.py}}}}
        """,
        {"assets.py": ASSETS, "tables/keep": ""},
    )
    project = load_project(root, registry=registry)
    text = "\n".join(str(p) for p in project.problems)
    assert "IO manager 'default': path" in text
    assert "is a folder, not a DuckDB file" in text
    assert "IO manager 'files': base_dir" in text
    assert "is a file, not a folder" in text
    assert len(project.problems) == 2  # the SQLite URL itself is fine
    assert not store.parent.exists()  # checking created nothing


def test_a_warehouse_that_is_a_folder_is_a_problem(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    root = write_project("project: {name: shop}\ndefaults: {warehouse: wh}\n", {"wh/keep": ""})
    problem, io_manager = load_project(root, registry=registry).problems
    assert problem.where.endswith("catchment.yaml:2")
    assert "defaults.warehouse" in problem.message
    assert "is a folder, not a DuckDB file" in io_manager.message


def _cli(root: Path, *args: str) -> CliResult:
    return run_cli(args, cwd=root, env={"CATCHMENT_DEBUG": ""}, timeout=120)


@pytest.mark.parametrize(
    "command", [["materialize"], ["runs", "list"], ["check"], ["materialize", "--allow-broken"]]
)
def test_the_cli_refuses_an_unset_storage_variable(
    write_project: WriteProject, command: list[str]
) -> None:
    root = write_project(_yaml(BAD_STORAGE["unset variable"]), {"assets.py": ASSETS})
    done = _cli(root, *command)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "CATCHMENT_TEST_UNSET_URL is not set" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (root / ".catchment").exists()


def test_an_invalid_resource_config_stops_a_run_at_load(write_project: WriteProject) -> None:
    pytest.importorskip("catchment_snowflake")
    root = write_project(
        """
        project: {name: shop}
        resources:
          sf: {type: snowflake, config: {no_such_field: 1}}
        components:
          - {type: python, name: core, attributes: {module: assets.py}}
        """,
        {"assets.py": ASSETS},
    )
    done = _cli(root, "materialize")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "catchment.yaml:3" in done.stderr
    assert "resource 'sf'" in done.stderr
    assert not (root / ".catchment").exists()  # no run was recorded
