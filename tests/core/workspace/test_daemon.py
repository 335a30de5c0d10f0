"""`catchment daemon` on a workspace: schedules read from each project's snapshot,
automation conditions from the merged graph, runs launched through the workspace runner (each
project's assets in its own environment), state in the shared record store."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from catchment.daemon.clock import FakeClock
from catchment.daemon.daemon import Daemon
from catchment.storage import Storage, open_storage
from catchment.workspace.daemon import WorkspaceSensorRunner, load_for_daemon
from catchment.workspace.execute import execute_workspace_run

from tests.core.daemon.conftest import T0, RecordingLauncher, settle
from tests.core.workspace.conftest import (
    BUDGET_CODE,
    LEDGER_CODE,
    run_catchment,
    simple_workspace,
    wait_ended,
)

pytestmark = pytest.mark.timeout(240)

SCHEDULE = """\
schedules:
  - name: hourly
    cron: "0 * * * *"
    select: "*"
"""

SENSOR = """\
sensors:
  - name: poke
    function: sensors.py:poke
"""

SENSOR_CODE = """\
import os
import sys

from catchment.runs.request import RunRequest
from catchment.sensors import SensorResult

def poke(context):
    n = int(context.cursor or "0") + 1
    where = {"cwd": os.getcwd(), "root": context.project_root, "python": sys.executable}
    return SensorResult(run_requests=[RunRequest(run_key=f"n{n}", tags=where)], cursor=str(n))
"""


def _store(root: Path) -> Storage:
    return open_storage(f"sqlite:///{root / '.catchment' / 'runs.db'}")


def test_a_projects_schedule_ticks_on_the_workspace_and_runs_in_its_environment(
    tmp_path: Path,
) -> None:
    file = simple_workspace(
        tmp_path, {"finance": LEDGER_CODE.format(TAGS="{}"), "marketing": BUDGET_CODE}
    )
    with (tmp_path / "finance" / "catchment.yaml").open("a") as f:
        f.write(SCHEDULE)
    clock = FakeClock(T0 + 60)
    launcher = RecordingLauncher()
    store = _store(tmp_path)
    d = Daemon(file, clock=clock, storage=store, launcher=launcher, load=load_for_daemon)
    try:
        d.step()
        assert ("schedule", "finance:hourly") in d.loop_names
        clock.advance(3600)
        (tick,) = d.step()
        assert tick.status == "success", tick.error
        (run,) = store.list_runs()
        assert run.asset_keys == ("ledger",)  # `*` of finance's schedule: finance's assets only
        assert run.tags["run_key"].startswith("schedule:finance:hourly:")
        assert launcher.launched == [run.run_id]
        clock.advance(1)
        d.step()
        assert len(store.list_runs()) == 1
    finally:
        d.close()
    assert execute_workspace_run(file, run.run_id)
    runs = {r.run_id: r for r in store.list_runs()}
    assert runs[run.run_id].status == "success"
    (child,) = [r for r in runs.values() if r.tags.get("workspace_run") == run.run_id]
    assert child.tags["workspace_project"] == "finance"
    assert child.status == "success"
    assert {str(k) for k in store.latest_materializations()} == {"ledger"}
    store.close()


def test_a_projects_sensor_runs_in_its_environment_and_folder(tmp_path: Path) -> None:
    file = simple_workspace(
        tmp_path, {"finance": LEDGER_CODE.format(TAGS="{}"), "marketing": BUDGET_CODE}
    )
    with (tmp_path / "finance" / "catchment.yaml").open("a") as f:
        f.write(SENSOR)
    (tmp_path / "finance" / "sensors.py").write_text(SENSOR_CODE)
    store = _store(tmp_path)
    d = Daemon(
        file,
        clock=FakeClock(T0),
        storage=store,
        launcher=RecordingLauncher(),
        sensor_runner=WorkspaceSensorRunner(file),
        load=load_for_daemon,
    )
    try:
        assert d.workspace.problems == ()
        (tick,) = settle(d)
        assert (tick.kind, tick.name, tick.status) == ("sensor", "finance:poke", "success")
        (run,) = store.list_runs()
        assert run.tags["run_key"] == "sensor:finance:poke:n1"
        assert run.selection == "project:finance"  # its default target: finance's assets
        finance = str((tmp_path / "finance").resolve())
        assert (run.tags["cwd"], run.tags["root"]) == (finance, finance)
        assert run.tags["python"] == sys.executable  # the project's `python:`
    finally:
        d.close()
        store.close()


AUTO_LEDGER = LEDGER_CODE.format(TAGS="{}").replace(
    "@asset(table=", '@asset(automation="on_missing()", table='
)
AUTO_BUDGET = BUDGET_CODE.replace("@asset(reads=", '@asset(automation="eager()", reads=')


class _Daemon:
    def __init__(self, root: Path, n: int):
        self.log = root / f"daemon-{n}.log"
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "catchment", "daemon", "--poll", "100ms", "-v"],
                cwd=root,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill9(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)  # the daemon, not the runs it launched
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill9()


@pytest.fixture
def auto_workspace(tmp_path: Path) -> Iterator[Path]:
    simple_workspace(tmp_path, {"finance": AUTO_LEDGER, "marketing": AUTO_BUDGET})
    yield tmp_path
    with contextlib.suppress(Exception):
        store = _store(tmp_path)
        for run in store.list_runs(limit=1000):
            if run.status == "started" and run.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(run.pid, signal.SIGKILL)
        store.close()


@pytest.mark.slow
def test_the_daemon_runs_automation_across_projects_once_across_a_kill_9(
    auto_workspace: Path,
) -> None:
    root = auto_workspace
    daemons = [_Daemon(root, 1)]
    store = _store(root)

    def logs() -> str:
        runs = "\n".join(
            f"{r.run_id[:8]} {r.status} {r.asset_keys} {r.tags}" for r in store.list_runs()
        )
        text = "\n".join(d.log.read_text()[-3000:] for d in daemons)
        files = sorted((root / ".catchment" / "logs" / "runs").glob("*.log"))
        tails = "\n".join(f"--- {f.name}\n{f.read_text()[-1500:]}" for f in files)
        return f"{text}\n--- runs\n{runs}\n{tails}"

    def wait(what: str, check: object, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not check():  # type: ignore[operator]
            assert time.monotonic() < deadline, f"timed out waiting for {what}\n{logs()}"
            time.sleep(0.1)

    try:
        wait("the ledger's run", lambda: any("ledger" in r.asset_keys for r in store.list_runs()))
        daemons[0].kill9()  # mid-flight: the launched run goes on in its own process
        daemons.append(_Daemon(root, 2))
        wait(
            "both assets",
            lambda: {str(k) for k in store.latest_materializations()} == {"ledger", "budget"},
        )
        time.sleep(2)  # more evaluations: nothing new is requested
        runs = store.list_runs(limit=1000)
        parents = [r for r in runs if "workspace_run" not in r.tags]
        keys = [r.tags.get("run_key") for r in parents]
        assert len(keys) == len(set(keys)), logs()
        assert sorted(k for r in parents for k in r.asset_keys) == ["budget", "ledger"], logs()
        wait("the runs to end", lambda: all(r.status == "success" for r in store.list_runs()))
        children = [r for r in store.list_runs(limit=1000) if "workspace_run" in r.tags]
        assert sorted(r.tags["workspace_project"] for r in children) == ["finance", "marketing"]
    finally:
        for d in daemons:
            d.stop()
        store.close()


def test_queued_materialize_and_apply_are_started_by_the_workspace_daemon(tmp_path: Path) -> None:
    simple_workspace(tmp_path, {"finance": LEDGER_CODE.format(TAGS="{}"), "marketing": BUDGET_CODE})
    queued = run_catchment(tmp_path, "materialize", "--queue", "-s", "ledger", "--tag", "who=me")
    assert queued.returncode == 0, queued.stderr
    assert "queued run" in queued.stdout
    store = _store(tmp_path)
    try:
        (run,) = store.list_runs()
        assert (run.status, run.asset_keys, run.tags["who"]) == ("queued", ("ledger",), "me")
        once = run_catchment(tmp_path, "daemon", "--once")
        assert once.returncode == 0, once.stderr
        wait_ended(store)
        assert store.get_run(run.run_id).status == "success"  # type: ignore[union-attr]
        ticks = run_catchment(tmp_path, "ticks", "--json")
        assert ticks.returncode == 0, ticks.stderr
        assert [t["run_ids"] for t in json.loads(ticks.stdout)] == [[run.run_id]]
        applied = run_catchment(tmp_path, "apply", "--queue")
        assert applied.returncode == 0, applied.stderr
        assert "queuing 1 asset(s): budget" in applied.stdout
        assert run_catchment(tmp_path, "daemon", "--once").returncode == 0
        wait_ended(store)
        runs = store.list_runs(limit=1000)
        assert {r.status for r in runs} == {"success"}
        children = [r for r in runs if "workspace_run" in r.tags]
        assert sorted(r.tags["workspace_project"] for r in children) == ["finance", "marketing"]
        assert {str(k) for k in store.latest_materializations()} == {"ledger", "budget"}
        again = run_catchment(tmp_path, "materialize", "--queue", "-s", "budget")
        assert again.returncode == 0, again.stderr
        run_id = again.stdout.split()[2]
        canceled = run_catchment(tmp_path, "runs", "cancel", run_id[:10])
        assert canceled.returncode == 0, canceled.stderr
        assert f"run {run_id} canceled (it had not started)" in canceled.stdout
    finally:
        store.close()


def test_automation_commands_read_the_merged_graph_and_the_shared_store(tmp_path: Path) -> None:
    simple_workspace(tmp_path, {"finance": AUTO_LEDGER, "marketing": AUTO_BUDGET})
    listed = run_catchment(tmp_path, "automation", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert {(r["asset"], r["condition"]) for r in json.loads(listed.stdout)} == {
        ("ledger", "on_missing()"),
        ("budget", "eager()"),
    }
    evaluated = run_catchment(tmp_path, "automation", "evaluate", "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    requested = json.loads(evaluated.stdout)["run_requests"]
    # one run across both projects: the workspace runner orders the batches
    assert [r["asset_keys"] for r in requested] == [["budget", "ledger"]]
    explained = run_catchment(tmp_path, "automation", "explain", "budget", "--now")
    assert explained.returncode == 0, explained.stderr
    assert "budget: requested" in explained.stdout
    assert "eager()" in explained.stdout


def test_schedules_and_sensors_list_every_projects_declarations(tmp_path: Path) -> None:
    simple_workspace(tmp_path, {"finance": LEDGER_CODE.format(TAGS="{}"), "marketing": BUDGET_CODE})
    with (tmp_path / "finance" / "catchment.yaml").open("a") as f:
        f.write(SCHEDULE + SENSOR)
    (tmp_path / "finance" / "sensors.py").write_text(SENSOR_CODE)
    schedules = run_catchment(tmp_path, "schedules", "list", "--json")
    assert schedules.returncode == 0, schedules.stderr
    assert [(s["name"], s["target"]) for s in json.loads(schedules.stdout)] == [
        ("finance:hourly", "project:finance and (*)")
    ]
    sensors = run_catchment(tmp_path, "sensors", "list", "--json")
    assert sensors.returncode == 0, sensors.stderr
    assert [(s["name"], s["target"]) for s in json.loads(sensors.stdout)] == [
        ("finance:poke", "project:finance")
    ]


def test_sensors_preview_evaluates_a_projects_sensor_in_its_environment_storing_nothing(
    tmp_path: Path,
) -> None:
    simple_workspace(tmp_path, {"finance": LEDGER_CODE.format(TAGS="{}"), "marketing": BUDGET_CODE})
    with (tmp_path / "finance" / "catchment.yaml").open("a") as f:
        f.write(SENSOR)
    (tmp_path / "finance" / "sensors.py").write_text(SENSOR_CODE)
    preview = run_catchment(tmp_path, "sensors", "preview", "finance:poke", "--json")
    assert preview.returncode == 0, preview.stderr
    data = json.loads(preview.stdout)
    assert (data["sensor"], data["error"], data["result"]["cursor"]) == ("finance:poke", None, "1")
    (request,) = data["result"]["run_requests"]
    assert request["run_key"] == "sensor:finance:poke:n1"  # completed as the daemon would
    assert request["selection"] == "project:finance"
    finance = str((tmp_path / "finance").resolve())
    assert (request["tags"]["cwd"], request["tags"]["root"]) == (finance, finance)
    text = run_catchment(tmp_path, "sensors", "preview", "finance:poke", "--cursor", "41")
    assert text.returncode == 0, text.stderr
    assert "would request project:finance (run key sensor:finance:poke:n42)" in text.stdout
    assert text.stdout.splitlines()[-1] == "cursor: 42"
    store = _store(tmp_path)
    try:
        assert store.list_runs() == []  # nothing launched
        assert store.list_ticks() == []
        assert store.get_cursors(["sensor:finance:poke"]) == {}  # no cursor stored
    finally:
        store.close()


def test_sensors_preview_of_an_unknown_sensor_names_the_workspaces_sensors(tmp_path: Path) -> None:
    simple_workspace(tmp_path, {"finance": LEDGER_CODE.format(TAGS="{}"), "marketing": BUDGET_CODE})
    with (tmp_path / "finance" / "catchment.yaml").open("a") as f:
        f.write(SENSOR)
    (tmp_path / "finance" / "sensors.py").write_text(SENSOR_CODE)
    for name in ("poke", "marketing:poke"):
        out = run_catchment(tmp_path, "sensors", "preview", name)
        assert out.returncode == 1, name
        assert f"no sensor {name!r} in the workspace" in out.stderr
        assert "sensors: finance:poke" in out.stderr
        assert "Traceback" not in out.stderr


def test_the_daemon_reads_schedules_and_sensors_from_the_projects_snapshots(
    tmp_path: Path,
) -> None:
    """Starting the workspace daemon asks no project's environment for its schedules and
    sensors: they come with its snapshot, so a project's code is imported once (by the load
    that writes the snapshot) and never again while it is current."""
    log = tmp_path / "imports.log"
    marker = f"open({str(log)!r}, 'a').write('imported\\n')\n"
    simple_workspace(
        tmp_path, {"finance": marker + LEDGER_CODE.format(TAGS="{}"), "marketing": BUDGET_CODE}
    )
    with (tmp_path / "finance" / "catchment.yaml").open("a") as f:
        f.write(SCHEDULE + SENSOR)
    (tmp_path / "finance" / "sensors.py").write_text(SENSOR_CODE)
    for _ in range(2):
        view = load_for_daemon(tmp_path)
        assert not view.problems, view.problems
        assert [s.name for s in view.schedules] == ["finance:hourly"]
        assert [(s.name, s.selection) for s in view.sensors] == [
            ("finance:poke", "project:finance")
        ]
    assert log.read_text() == "imported\n"
