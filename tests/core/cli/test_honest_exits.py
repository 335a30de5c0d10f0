"""Commands that act on a project whose parts did not load exit non-zero and name each
problem with file:line; `--allow-broken` (or CATCHMENT_ALLOW_BROKEN=1) acts on what loaded.
Real temp projects, real `catchment` processes (so `sys.exit` and `KeyboardInterrupt` raised
by project code meet the real interpreter)."""

from __future__ import annotations

from pathlib import Path

import pytest
from catchment.testing import CliResult, run_cli

PROJECT = """\
project: {name: honest}
components:
  - type: python
    name: good
    attributes: {module: good.py}
  - type: python
    name: bad
    attributes: {module: bad.py}
io_managers:
  default: {type: filesystem, config: {base_dir: values}}
"""

GOOD = """\
from catchment import asset

@asset
def healthy():
    return 1
"""

BROKEN = {
    "syntax": ("x = 1\ndef (:\n", "SyntaxError", "bad.py:2"),
    "exit": ("import sys\nsys.exit(3)\n", "called sys.exit(3)", "bad.py:2"),
    "interrupt": ("raise KeyboardInterrupt\n", "raised KeyboardInterrupt", "bad.py:1"),
}

ACTING = [
    ["materialize"],
    ["apply"],
    ["plan"],
    ["check"],
    ["materialize", "-s", "healthy"],
    ["runs", "retry", "nothing", "--from-failure"],
]


def _project(tmp_path: Path, broken: str) -> Path:
    (tmp_path / "catchment.yaml").write_text(PROJECT)
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "bad.py").write_text(BROKEN[broken][0])
    return tmp_path


def _cli(root: Path, *args: str, **env: str) -> CliResult:
    return run_cli(args, cwd=root, env={"CATCHMENT_DEBUG": "", **env}, timeout=120)


@pytest.mark.parametrize("broken", sorted(BROKEN))
@pytest.mark.parametrize("command", ACTING, ids=lambda c: "-".join(c))
def test_an_acting_command_on_a_broken_project_exits_1_naming_file_and_line(
    tmp_path: Path, broken: str, command: list[str]
) -> None:
    root = _project(tmp_path, broken)
    done = _cli(root, *command)
    _, what, where = BROKEN[broken]
    assert done.returncode == 1, done.stdout + done.stderr
    assert what in done.stderr
    assert where in done.stderr
    assert "catchment.yaml:6" in done.stderr  # the component's entry
    assert "Traceback" not in done.stderr
    assert not (root / "values").exists()  # nothing ran


def test_allow_broken_runs_a_selection_of_healthy_components(tmp_path: Path) -> None:
    root = _project(tmp_path, "syntax")
    done = _cli(root, "materialize", "--allow-broken", "-s", "healthy")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "warning:" in done.stderr
    assert "bad.py:2" in done.stderr
    assert (root / "values").exists()
    again = _cli(root, "apply", CATCHMENT_ALLOW_BROKEN="1")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "fresh" in again.stdout


def test_allow_broken_with_nothing_loaded_to_run_is_still_an_error(tmp_path: Path) -> None:
    root = _project(tmp_path, "exit")
    (root / "good.py").write_text("X = 1\n")  # no assets at all
    done = _cli(root, "materialize", "--allow-broken")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "nothing selected" in done.stdout + done.stderr


def test_a_broken_adapter_no_component_uses_is_a_warning_not_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import catchment.project
    from catchment.cli.common import load_for_run
    from catchment.project import load_project

    def with_broken_adapter(path: Path) -> catchment.project.Project:
        project = load_project(path)
        project.problems.append(catchment.project.Problem("adapter", "adapter x", "failed: boom"))
        return project

    root = _project(tmp_path, "syntax")
    (root / "bad.py").write_text(GOOD.replace("healthy", "other"))
    monkeypatch.setattr(catchment.project, "load_project", with_broken_adapter)
    assert load_for_run(root).problems[0].kind == "adapter"
