"""Helpers of the CLI tests that plan and apply a project in this process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from catchment.cli.main import app
from catchment.events import EventType
from catchment.storage import open_storage
from typer.testing import CliRunner


class ProjectCli:
    """Run commands on a project folder and read what they did."""

    def __call__(self, project: Path, *args: str) -> Any:
        return CliRunner().invoke(app, [*args, "--project", str(project)])

    def plan(self, project: Path) -> dict[str, dict[str, Any]]:
        """``plan --json``, observing afresh: each asset's row by key."""
        result = self(project, "plan", "--json", "--observe-ttl", "0")
        assert result.exit_code == 0, result.output
        return {row["key"]: row for row in json.loads(result.output)}

    def last_run_built(self, project: Path) -> set[str]:
        """The assets the newest run materialized."""
        store = open_storage(f"sqlite:///{project / '.catchment' / 'runs.db'}")
        try:
            (run, *_) = store.list_runs(limit=1)
            events = store.events_for_run(run.run_id, [EventType.MATERIALIZATION])
            return {e.asset_key or "" for e in events}
        finally:
            store.close()


@pytest.fixture
def cli() -> ProjectCli:
    """Commands on a project, its plan and its last run."""
    return ProjectCli()
