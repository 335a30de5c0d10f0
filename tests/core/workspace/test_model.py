"""The workspace file: what it means, and errors that name file:line and the field."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from catchment.errors import ConfigError
from catchment.workspace import find_workspace
from catchment.workspace.model import load_workspace_file


def _write(tmp_path: Path, text: str) -> Path:
    file = tmp_path / "catchment.workspace.yaml"
    file.write_text(text)
    return file


def test_a_workspace_file_names_projects_environments_teams_and_storage(tmp_path: Path) -> None:
    file = _write(
        tmp_path,
        "workspace: {name: acme}\n"
        "projects:\n"
        "  - path: finance\n"
        "    python: finance/.venv/bin/python\n"
        "    team: finance\n"
        "  - path: marketing\n"
        "    uv_project: marketing\n"
        "    load_timeout: 30\n",
    )
    ws = load_workspace_file(file)
    assert ws.name == "acme"
    assert ws.storage_url == f"sqlite:///{tmp_path.resolve() / '.catchment' / 'runs.db'}"
    finance, marketing = ws.projects
    assert finance.python == tmp_path.resolve() / "finance/.venv/bin/python"
    assert finance.team == "finance"
    assert finance.load_timeout == 120
    assert marketing.command("-m", "x")[1:5] == [
        "run",
        "--quiet",
        "--project",
        str(tmp_path.resolve() / "marketing"),
    ]
    assert marketing.load_timeout == 30
    assert marketing.team is None
    assert find_workspace(tmp_path) == file.resolve()
    assert find_workspace(file) == file.resolve()
    assert find_workspace(tmp_path / "finance") is None


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (
            "projects:\n  - path: a\n    pyhton: x\n",
            ":3",
            "field projects[0].pyhton: unknown field",
        ),
        ("projects:\n  - path: a\n", ":2", "needs the Python environment"),
        (
            "projects:\n  - path: a\n    python: p\n    uv_project: a\n",
            ":4",
            "field projects[0].uv_project: give python: or uv_project:, not both",
        ),
        (
            "projects:\n  - {path: a, python: p}\n  - {path: b, python: p, name: a}\n",
            ":3",
            "a second project named 'a'",
        ),
        ("projects: []\n", ":1", "field projects: must be a non-empty list"),
        (
            "storage: mysql://x\nprojects:\n  - {path: a, python: p}\n",
            ":1",
            "field storage:",
        ),
        (
            "projects:\n  - {path: a, python: p, load_timeout: -1}\n",
            ":2",
            "field projects[0].load_timeout: must be a positive number",
        ),
        (
            "policy:\n  cross_project: {require: public}\nprojects:\n  - {path: a, python: p}\n",
            ":2",
            "field policy.cross_project.require: unknown field",
        ),
        (
            "projects:\n  - {path: a, python: p}\nqueue:\n  max_concurrent_runs: -1\n",
            ":4",
            "field queue.max_concurrent_runs: Input should be greater than or equal to 0",
        ),
        (
            "projects:\n  - {path: a, python: p}\nqueue:\n  tag_limits:\n"
            "    - {key: team, limit: many}\n",
            ":5",
            "field queue.tag_limits[0].limit: Input should be a valid integer",
        ),
        (
            "projects:\n  - {path: a, python: p}\nqueue:\n  max_runs: 2\n",
            ":4",
            "field queue.max_runs: Extra inputs are not permitted",
        ),
        (
            "projects:\n  - {path: a, python: p}\npools:\n  warehouse: -2\n",
            ":4",
            "field pools.warehouse: must be a number of slots, 0 or more, not -2",
        ),
        (
            "projects:\n  - {path: a, python: p}\npools: [warehouse]\n",
            ":3",
            "field pools: must be a mapping of pool name to slots",
        ),
    ],
)
def test_errors_name_the_file_line_and_field(
    tmp_path: Path, text: str, where: str, message: str
) -> None:
    file = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_workspace_file(file)
    assert info.value.where is not None
    assert info.value.where.startswith(str(file.resolve()))
    assert info.value.where.endswith(where)
    assert message in info.value.message


def test_storage_can_come_from_an_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WS_STORE", f"sqlite:///{tmp_path / 'shared.db'}")
    file = _write(
        tmp_path,
        "storage: \"{{ env('WS_STORE') }}\"\n"
        f"projects:\n  - {{path: a, python: {sys.executable}}}\n",
    )
    assert load_workspace_file(file).storage_url == f"sqlite:///{tmp_path / 'shared.db'}"


def test_an_unchanged_file_is_read_from_its_cache_and_a_change_is_validated(
    tmp_path: Path,
) -> None:
    file = _write(tmp_path, f"projects:\n  - {{path: a, python: {sys.executable}, team: x}}\n")
    first = load_workspace_file(file)
    cache = tmp_path / ".catchment" / "workspace" / "file.cache"
    assert cache.is_file()
    assert load_workspace_file(file) == first
    file.write_text(f"projects:\n  - {{path: a, python: {sys.executable}, taem: x}}\n")
    with pytest.raises(ConfigError, match="taem: unknown field"):
        load_workspace_file(file)


def test_a_templated_file_is_never_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WS_STORE", "postgresql://u:secret@db/x")
    file = _write(
        tmp_path,
        "storage: \"{{ env('WS_STORE') }}\"\n"
        f"projects:\n  - {{path: a, python: {sys.executable}}}\n",
    )
    assert load_workspace_file(file).storage_url == "postgresql://u:secret@db/x"
    assert not (tmp_path / ".catchment" / "workspace" / "file.cache").exists()


def test_a_relative_sqlite_store_is_in_the_workspace_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``sqlite:///PATH`` is relative to the workspace file's folder, like ``path:``."""
    file = _write(
        tmp_path,
        f"storage: sqlite:///state/runs.db\nprojects:\n  - {{path: a, python: {sys.executable}}}\n",
    )
    monkeypatch.chdir(tmp_path / "..")
    for _ in range(2):  # validated, then read from the cache
        ws = load_workspace_file(file)
        assert ws.storage_url == f"sqlite:///{tmp_path.resolve() / 'state' / 'runs.db'}"


def test_queue_and_pools_take_the_projects_queue_fields_and_survive_the_cache(
    tmp_path: Path,
) -> None:
    from catchment.storage.queue import QueueLimits, TagLimit

    file = _write(
        tmp_path,
        f"projects:\n  - {{path: a, python: {sys.executable}, team: x}}\n"
        "queue:\n  max_concurrent_runs: 4\n  tag_limits: [{key: team, limit: 1}]\n"
        "  pool_lease_seconds: 30\n"
        "pools: {warehouse: 2, api: 0}\n",
    )
    for _ in range(2):  # validated, then read from the cache
        ws = load_workspace_file(file)
        assert ws.queue.limits == QueueLimits(
            max_concurrent_runs=4, tag_limits=(TagLimit(key="team", limit=1),)
        )
        assert ws.queue.pools == {"warehouse": 2, "api": 0}
        assert ws.queue.pool_lease_seconds == 30
        assert ws.teams
    bare = _write(tmp_path, f"projects:\n  - {{path: a, python: {sys.executable}}}\n")
    ws = load_workspace_file(bare)
    assert ws.queue.limits == QueueLimits()
    assert ws.queue.pools == {}
    assert not ws.teams
