"""`catchment materialize --json` and `catchment runs retry --json`: stdout is one JSON document,
the run as `catchment runs show RUN --json` prints it, with the exit codes of the human form.
Real `catchment` processes on a small Python-asset project."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from catchment.testing import CliResult, run_cli

from tests.core.cli.test_run_commands import ASSETS, make_project

NOISY = ASSETS.replace('    mark("a")\n', '    mark("a")\n    print("a prints to stdout")\n')
FAILING = NOISY.replace("return a + 1", "raise ValueError('no b')")


def _cli(root: Path, *args: str) -> CliResult:
    return run_cli(args, cwd=root, env={"CATCHMENT_DEBUG": ""}, timeout=120)


def _json(done: CliResult) -> Any:
    """The one JSON document on stdout (``json.loads`` fails on anything else there)."""
    return json.loads(done.stdout)


def _by_type(payload: dict[str, Any], kind: str) -> list[str]:
    return [e["asset_key"] for e in payload["events"] if e["type"] == kind]


def test_materialize_json_is_the_run_as_runs_show_prints_it(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", NOISY)
    done = _cli(root, "materialize", "-s", "+b", "--json")
    assert done.returncode == 0, done.stderr
    payload = _json(done)  # the asset's print went to stderr
    assert "a prints to stdout" in done.stderr
    assert payload["status"] == "success"
    assert payload["run"]["status"] == "success"
    assert payload["run"]["asset_keys"] == ["a", "b"]
    assert _by_type(payload, "materialization") == ["a", "b"]
    [check] = [e for e in payload["events"] if e["type"] == "check_evaluated"]
    assert check["data"]["passed"] is True
    shown = _cli(root, "runs", "show", payload["run_id"], "--json")
    assert _json(shown) == payload


def test_a_failure_exits_1_with_the_failure_in_json_and_retry_json_reads_too(
    tmp_path: Path,
) -> None:
    root = make_project(tmp_path / "p", FAILING)
    done = _cli(root, "materialize", "--json")
    assert done.returncode == 1, done.stderr
    failed = _json(done)
    assert failed["status"] == "failure"
    assert _by_type(failed, "materialization") == ["a"]
    [failure] = [e for e in failed["events"] if e["type"] == "asset_failed"]
    assert failure["asset_key"] == "b"
    assert "no b" in failure["data"]["message"]
    assert sorted(_by_type(failed, "asset_skipped")) == ["c", "d"]

    again = _cli(root, "runs", "retry", failed["run_id"][:8], "--from-failure", "--json")
    assert again.returncode == 1, again.stderr  # still failing: the same exit code
    assert _json(again)["run"]["parent_run_id"] == failed["run_id"]

    (root / "assets.py").write_text(NOISY)
    fixed = _cli(root, "runs", "retry", failed["run_id"], "--from-failure", "--json")
    assert fixed.returncode == 0, fixed.stderr
    retried = _json(fixed)
    assert retried["status"] == "success"
    assert retried["run"]["parent_run_id"] == failed["run_id"]
    assert _by_type(retried, "materialization") == ["b", "c", "d"]


def test_ctrl_c_exits_130_with_the_canceled_run_in_json(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "slow").write_text("")  # c sleeps a minute
    proc = subprocess.Popen(
        [sys.executable, "-m", "catchment", "materialize", "--json"],
        cwd=root,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "CATCHMENT_DEBUG": ""},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:  # the progress lines
        seen.append(line)
        if "c started" in line:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, "".join(seen) + err
    canceled = json.loads(out)
    assert canceled["status"] == "canceled"
    assert _by_type(canceled, "materialization") == ["a", "b"]


def test_queue_json_is_the_queued_run(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    done = _cli(root, "materialize", "-s", "a", "--queue", "--json")
    assert done.returncode == 0, done.stderr
    queued = _json(done)
    assert queued["status"] == "queued"
    assert queued["queue_position"] == 1
    assert queued["run"]["selection"] == "a"
    (listed,) = _json(_cli(root, "runs", "list", "--json"))
    assert listed["run_id"] == queued["run_id"]


def test_nothing_selected_json_says_so(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    done = _cli(root, "materialize", "-s", "a and b", "--json")
    assert done.returncode == 0, done.stderr
    assert _json(done) == {"run_id": None, "status": "nothing selected", "run": None, "events": []}


def test_apply_json_is_its_status_and_each_run(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", NOISY)
    done = _cli(root, "apply", "--no-observe", "--json")
    assert done.returncode == 0, done.stderr
    applied = _json(done)  # progress, "applying ..." and the asset's print on stderr
    assert "applying 4 asset(s)" in done.stderr
    assert applied["status"] == "success"
    [run] = applied["runs"]
    assert run["run"]["tags"]["trigger"] == "apply"
    assert _by_type(run, "materialization") == ["a", "b", "c", "d"]
    assert _json(_cli(root, "runs", "show", run["run_id"], "--json")) == run

    again = _cli(root, "apply", "--no-observe", "--json")
    assert again.returncode == 0, again.stderr
    assert _json(again) == {"status": "fresh", "runs": []}


def test_apply_json_failure_and_queue(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", FAILING)
    done = _cli(root, "apply", "--no-observe", "--json")
    assert done.returncode == 1, done.stderr
    failed = _json(done)
    assert failed["status"] == "failure"
    assert [r["status"] for r in failed["runs"]] == ["failure"]

    queued = _cli(root, "apply", "--no-observe", "--queue", "--json")
    assert queued.returncode == 0, queued.stderr
    document = _json(queued)
    assert document["status"] == "queued"
    assert [r["status"] for r in document["runs"]] == ["queued"]
    assert document["runs"][0]["run"]["tags"]["trigger"] == "apply"
