"""The daemon on a fake clock: run keys, cursors, catch-up, lease takeover and contained
sensor failures. Sensors run in real subprocesses; time only moves when a test moves it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from catchment.daemon.sensor_loop import SensorLoop
from catchment.events import EventType

from .conftest import ASSETS, T0, Harness, settle, write_project

HOURLY_SCHEDULE = """\
schedules:
  - name: hourly_events
    cron: "0 * * * *"
    assets: [events]
"""


def test_each_cron_tick_runs_the_window_that_just_ended_once(harness: Harness) -> None:
    d = harness.make(HOURLY_SCHEDULE)
    assert d.step() == []  # first sight: the cursor starts now, no history is replayed
    harness.clock.advance(30 * 60)
    assert d.step() == []  # 10:30: nothing due
    harness.clock.advance(30 * 60)  # 11:00
    (tick,) = d.step()
    assert (tick.kind, tick.name, tick.status) == ("schedule", "hourly_events", "success")
    (run,) = harness.runs()
    assert run.status == "starting"  # queued, then let through by the queue and launched
    assert run.asset_keys == ("events",)
    assert run.partition_keys == ("2025-08-01-10:00",)  # the hour that just ended
    assert run.tags["origin"] == "schedule:hourly_events"
    assert harness.launcher.launched == [run.run_id]
    assert tick.run_ids == (run.run_id,)
    assert tick.body["tick_time"] == "2025-08-01T11:00:00+00:00"


def test_a_tick_repeated_after_a_crash_starts_no_second_run(harness: Harness) -> None:
    """The daemon dies after submitting a tick's run but before moving its cursor: the next
    daemon handles the tick again, and the run key (taken in the run's transaction) stops a
    second run."""
    d = harness.make(HOURLY_SCHEDULE)
    d.step()
    harness.clock.advance(3600)
    d.step()
    (run,) = harness.runs()
    assert harness.store.claim_run(run.run_id, os.getpid(), "here", T0)  # its process took it
    harness.store.set_cursors({"schedule:hourly_events": repr(T0)}, T0)  # the lost write
    d.close()
    again = harness.make()
    (tick,) = again.step()
    assert tick.status == "skipped"
    assert tick.body["reason"] == "already requested (run key taken)"
    assert tick.body["requests"][0]["created"] is False
    assert len(harness.runs()) == 1
    assert harness.launcher.launched == [run.run_id]


def test_ticks_missed_while_down_are_run_within_the_catch_up_window(harness: Harness) -> None:
    d = harness.make(HOURLY_SCHEDULE, catch_up=3 * 3600.0)
    d.step()
    d.close()  # down from 10:00 to 15:30: ticks at 11, 12, 13, 14 and 15 were missed
    harness.clock.advance(5.5 * 3600)
    ticks = harness.make(catch_up=3 * 3600.0).step()
    assert [t.body["tick_time"][11:16] for t in ticks] == ["13:00", "14:00", "15:00"]
    assert ticks[0].body["missed"] == 2  # 11:00 and 12:00 were older than 3 h
    parts = sorted(r.partition_keys[0] for r in harness.runs())
    assert parts == ["2025-08-01-12:00", "2025-08-01-13:00", "2025-08-01-14:00"]


def test_one_daemon_acts_and_a_standby_takes_over_when_its_lease_lapses(
    harness: Harness,
) -> None:
    a = harness.make(HOURLY_SCHEDULE, lease_ttl=30.0)
    b = harness.make(lease_ttl=30.0)
    a.step()
    assert b.step() == []
    assert b.loops == {}
    harness.clock.advance(3600)  # 11:00; A is stuck (no step), its lease lapses
    (tick,) = b.step()
    assert tick.status == "success"
    assert b.lease.held
    assert a.step() == []  # A comes back: the lease is B's, A stands by and acts on nothing
    assert not a.lease.held
    assert a.loops == {}
    assert len(harness.runs()) == 1
    b.close()  # a clean stop releases the lease: A takes over at once
    harness.clock.advance(3600)
    (tick,) = a.step()
    assert tick.body["tick_time"].startswith("2025-08-01T12:00")
    assert len(harness.runs()) == 2


SENSORS_YAML = """\
sensors:
  - module: sensors.py
  - name: raising
    function: sensors.py:raising
    assets: [a]
  - name: hanging
    function: sensors.py:hanging
    assets: [a]
    timeout: 5s
  - name: garbage
    function: sensors.py:garbage
    assets: [a]
  - name: exiting
    function: sensors.py:exiting
    assets: [a]
schedules:
  - name: hourly_a
    cron: "0 * * * *"
    assets: [a]
"""


def test_a_failing_sensor_is_a_failed_tick_and_the_rest_go_on(harness: Harness) -> None:
    d = harness.make(SENSORS_YAML)
    ticks = {t.name: t for t in settle(d, hung=("hanging",))}
    assert ticks["counting"].status == "success"
    assert ticks["raising"].status == "failure"
    assert "raised ValueError: the API said no" in (ticks["raising"].error or "")
    assert "sensors.py:" in (ticks["raising"].error or "")  # where in the user's code
    assert ticks["garbage"].status == "failure"
    assert "returned int" in (ticks["garbage"].error or "")
    assert ticks["exiting"].status == "failure"
    assert "SystemExit" in (ticks["exiting"].error or "")
    assert "hanging" not in ticks  # still running, blocking nobody
    hanging = d.loops[("sensor", "hanging")]
    assert isinstance(hanging, SensorLoop)
    assert hanging.running is not None
    pid = hanging.running[0].proc.pid
    harness.clock.advance(3600)  # past the hanging sensor's timeout, and the cron's 11:00
    ticks = {t.name: t for t in settle(d, hung=("hanging",))}
    assert ticks["hanging"].status == "failure"
    assert "timed out after 5s" in (ticks["hanging"].error or "")
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the sensor's process was killed
    assert ticks["hourly_a"].status == "success"
    assert ticks["counting"].status == "success"
    assert ticks["counting"].body["cursor"] == "2"
    stored = {t.name: t.status for t in harness.store.list_ticks(limit=100)}
    assert stored["raising"] == "failure"


def test_a_sensor_cursor_survives_a_restart(harness: Harness) -> None:
    d = harness.make("sensors:\n  - module: sensors.py\n")
    settle(d)
    harness.clock.advance(10)
    settle(d)
    assert harness.store.get_cursors(["sensor:counting"]) == {"sensor:counting": "2"}
    d.close()
    harness.clock.advance(10)
    again = harness.make()
    (tick,) = settle(again)
    assert tick.body["cursor_before"] == "2"
    assert tick.body["cursor"] == "3"
    keys = sorted(r.tags["run_key"] for r in harness.runs())
    assert keys == ["sensor:counting:n1", "sensor:counting:n2", "sensor:counting:n3"]
    assert {r.asset_keys for r in harness.runs()} == {("a",)}


def test_a_sensor_waits_its_interval_after_a_restart(harness: Harness) -> None:
    d = harness.make("sensors:\n  - module: sensors.py\n")
    settle(d)
    d.close()
    harness.clock.advance(3)
    second = harness.make()
    assert settle(second) == []  # interval 10 s, last tick 3 s ago
    second.close()
    harness.clock.advance(7)
    assert len(settle(harness.make())) == 1


FILES_YAML = """\
sensors:
  - name: landing
    type: files
    path: landing
    pattern: "%Y/%m/%d/%H"
    assets: [events]
    interval: 5s
"""


def test_the_files_sensor_requests_the_hour_of_each_new_folder_once(harness: Harness) -> None:
    landing = harness.root / "landing"
    (landing / "2025/08/01/03").mkdir(parents=True)
    d = harness.make(FILES_YAML)
    (tick,) = settle(d)
    (run,) = harness.runs()
    assert (run.asset_keys, run.partition_keys) == (("events",), ("2025-08-01-03:00",))
    assert run.tags["run_key"] == "sensor:landing:2025-08-01-03:00"
    (landing / "2025/08/01/04").mkdir(parents=True)
    (landing / "2025/08/01/notes.txt").write_text("not a partition")
    harness.clock.advance(5)
    (tick,) = settle(d)
    assert [r["partition_keys"] for r in tick.body["requests"]] == [["2025-08-01-04:00"]]
    harness.clock.advance(5)
    (tick,) = settle(d)
    assert tick.status == "skipped"
    assert len(harness.runs()) == 2


def test_a_ready_marker_holds_a_folder_back_until_it_is_complete(harness: Harness) -> None:
    folder = harness.root / "landing" / "2025" / "08" / "01" / "05"
    folder.mkdir(parents=True)
    d = harness.make(FILES_YAML.replace("interval: 5s", "interval: 5s\n    ready_marker: _SUCCESS"))
    assert settle(d)[0].status == "skipped"
    (folder / "_SUCCESS").write_text("")
    harness.clock.advance(5)
    assert settle(d)[0].status == "success"
    assert harness.runs()[0].partition_keys == ("2025-08-01-05:00",)


ASSET_SENSOR_YAML = """\
sensors:
  - name: after_a
    type: asset
    asset: a
    assets: [b]
    interval: 1h
"""


def test_an_asset_sensor_reacts_to_a_materialization_at_once(harness: Harness) -> None:
    from catchment.events import Event, EventType
    from catchment.storage import RunRecord

    d = harness.make(ASSET_SENSOR_YAML)
    (tick,) = d.step()
    assert tick.status == "skipped"  # first tick: starts watching
    harness.store.create_run(RunRecord(run_id="cli-run"))
    harness.store.append_events(
        [Event(run_id="cli-run", type=EventType.MATERIALIZATION, asset_key="a")]
    )
    (tick,) = d.step()  # same instant, an hour before its interval: pushed
    assert tick.status == "success"
    (run,) = harness.store.list_runs(status="starting")
    assert run.asset_keys == ("b",)
    assert d.step() == []


EAGER_ASSETS = """\
from catchment import asset
from catchment.automation.conditions import eager

@asset
def a():
    return 1

@asset(automation=eager())
def b(a):
    return a + 1

@asset(automation=eager())
def c(b):
    return b + 1
"""


def test_push_evaluates_automation_in_the_step_that_sees_the_materialization(
    harness: Harness,
) -> None:
    """A materialization recorded by another process (here: the test, as the CLI would)
    makes the next step evaluate the eager downstream, an hour before its interval."""
    from catchment.daemon.evaluators import evaluate_conditions
    from catchment.events import Event, EventType
    from catchment.storage import RunRecord

    write_project(harness.root)
    (harness.root / "assets.py").write_text(EAGER_ASSETS)
    d = harness.make(evaluator=evaluate_conditions, automation_interval=3600.0)
    (first,) = d.step()
    assert (first.kind, first.status) == ("automation", "skipped")  # a is missing: wait
    assert d.step() == []  # its interval is an hour
    harness.clock.advance(1)
    harness.store.create_run(RunRecord(run_id="cli-run", asset_keys=("a",)))
    harness.store.append_events(
        [Event(run_id="cli-run", type=EventType.MATERIALIZATION, asset_key="a")]
    )
    harness.store.update_run_status("cli-run", "success")
    (tick,) = d.step()
    assert tick.kind == "automation"
    assert tick.status == "success"
    (run,) = harness.store.list_runs(status="starting")
    assert "b" in run.asset_keys  # the eager chain starts at once (c may share the run)
    assert run.tags["run_key"].startswith("automation:2:")
    assert tick.body["decisions"][0]["asset"] == "b"
    cursors = harness.store.get_cursors(["automation", "automation:evaluations"])
    assert cursors["automation:evaluations"] == "2"
    assert '"cursor"' in cursors["automation"]  # the evaluator's state, for the next tick
    # a restarted daemon resumes from that state: nothing new, nothing requested twice
    d.close()
    again = harness.make(evaluator=evaluate_conditions, automation_interval=3600.0)
    (resumed,) = again.step()
    assert resumed.status == "skipped", resumed.body.get("decisions")
    assert len(harness.store.list_runs(status="starting")) == 1


DYNAMIC_ASSETS = """\
from catchment import asset
from catchment.partitions import DynamicPartitions

@asset(partitions=DynamicPartitions("customers"))
def per_customer(context):
    return context.partition_key
"""

DYNAMIC_SENSOR = """\
from catchment.runs.request import RunRequest
from catchment.sensors import SensorResult, sensor

@sensor(asset_keys=["per_customer"])
def new_customers(context):
    return SensorResult(
        dynamic_partitions={"customers": ["acme"]},
        run_requests=[RunRequest(partition_keys=("acme",), run_key="acme")],
    )

@sensor(asset_keys=["per_customer"])
def wrong_set(context):
    return SensorResult(dynamic_partitions={"suppliers": ["x"]})
"""


def test_a_sensor_adds_dynamic_partition_keys_and_runs_them(harness: Harness) -> None:
    from catchment.runs.execute import execute_run

    write_project(harness.root, "sensors:\n  - module: sensors.py\n")
    (harness.root / "assets.py").write_text(DYNAMIC_ASSETS)
    (harness.root / "sensors.py").write_text(DYNAMIC_SENSOR)
    ticks = {t.name: t for t in settle(harness.make())}
    assert ticks["new_customers"].status == "success"
    assert ticks["new_customers"].body["dynamic_partitions"] == {"customers": ["acme"]}
    assert harness.store.dynamic_partitions(["customers"]) == {"customers": ["acme"]}
    assert ticks["wrong_set"].status == "failure"
    assert "no dynamic partition set named 'suppliers'" in (ticks["wrong_set"].error or "")
    (run,) = harness.runs()
    assert run.partition_keys == ("acme",)
    result = execute_run(harness.root, run.run_id)  # the launched process sees the new key
    assert [e.partition for e in result.materializations] == ["acme"]


def test_the_files_sensor_lists_an_object_store_prefix_through_fsspec(tmp_path: Path) -> None:
    """fsspec's in-memory filesystem stands in for an object store (no S3 here)."""
    import fsspec
    from catchment.sensors.definition import SensorContext
    from catchment.sensors.files import files_sensor

    fs = fsspec.filesystem("memory")
    fs.pipe("/landing/2025/08/01/03/part-0.json", b"{}")
    fs.pipe("/landing/2025/08/01/04/_SUCCESS", b"")
    fs.pipe("/landing/2025/08/01/04/part-0.json", b"{}")
    config = {
        "path": "memory://landing",
        "pattern": "%Y/%m/%d/%H",
        "ready_marker": "_SUCCESS",
        "partition_format": "%Y-%m-%d-%H:%M",
    }
    context = SensorContext(sensor_name="s3", project_root=str(tmp_path), config=config)
    result = files_sensor(context)
    assert [r.partition_keys for r in result.run_requests] == [("2025-08-01-04:00",)]
    fs.pipe("/landing/2025/08/01/03/_SUCCESS", b"")  # the late hour completes
    again = files_sensor(msgspec_replace(context, cursor=result.cursor))
    assert [r.partition_keys for r in again.run_requests] == [("2025-08-01-03:00",)]
    third = files_sensor(msgspec_replace(context, cursor=again.cursor))
    assert third.run_requests == []


def msgspec_replace(context: object, **changes: object) -> object:
    import msgspec

    return msgspec.structs.replace(context, **changes)  # type: ignore[type-var]


CHECK_SENSOR_YAML = """\
sensors:
  - name: on_bad_a
    type: asset
    asset: a
    event: check_failed
    assets: [b]
"""


def test_an_asset_sensor_can_react_to_a_failed_check(harness: Harness) -> None:
    from catchment.events import Event, EventType
    from catchment.storage import RunRecord

    d = harness.make(CHECK_SENSOR_YAML)
    d.step()
    harness.store.create_run(RunRecord(run_id="r"))

    def check(passed: bool) -> Event:
        data = {"check_name": "positive", "passed": passed, "severity": "error"}
        return Event(run_id="r", type=EventType.CHECK_EVALUATED, asset_key="a", data=data)

    harness.store.append_events([check(True)])
    harness.clock.advance(30)
    assert d.step()[0].status == "skipped"
    harness.store.append_events([check(False)])
    harness.clock.advance(30)
    (tick,) = d.step()
    assert tick.status == "success"
    assert "failed check of a" in tick.body["requests"][0]["reason"]


def test_ticks_from_a_warm_snapshot_import_none_of_the_projects_code(harness: Harness) -> None:
    """Schedules and automation evaluate from the definitions snapshot: a daemon started on
    a warm one runs a cron tick and an automation tick (a fake clock, in a fresh
    interpreter) without importing the project's modules or the loader."""
    import json
    import subprocess
    import sys
    import textwrap

    from catchment.snapshot import load_read_only

    write_project(harness.root, HOURLY_SCHEDULE)
    (harness.root / "assets.py").write_text(ASSETS_WITH_EAGER)
    load_read_only(harness.root)  # warm
    code = textwrap.dedent(
        f"""
        import json, sys
        from catchment.daemon.clock import FakeClock
        from catchment.daemon.daemon import Daemon

        class Recording:
            launched = []
            def launch(self, run):
                self.launched.append(run.run_id)

        clock = FakeClock({T0})
        d = Daemon({str(harness.root)!r}, clock=clock, launcher=Recording())
        ticks = d.step()
        clock.advance(3600)
        ticks += d.step()
        d.close()
        print(json.dumps({{
            "ticks": sorted(f"{{t.kind}} {{t.status}}" for t in ticks),
            "imported": [m for m in ("assets", "catchment.project.loader") if m in sys.modules],
        }}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    seen = json.loads(out.stdout)
    assert "schedule success" in seen["ticks"]
    assert any(t.startswith("automation") for t in seen["ticks"])
    assert seen["imported"] == []


ASSETS_WITH_EAGER = (
    ASSETS
    + """
from catchment.automation.conditions import eager

@asset(automation=eager())
def c(b):
    return b + 1
"""
)


def test_a_project_edit_is_noticed_on_the_next_tick(harness: Harness) -> None:
    """Editing any project file (here the assets' module, not catchment.yaml) while the
    daemon runs makes its next tick read the project again, however long its reload
    interval: the snapshot's key is recomputed before each tick."""
    schedule = 'schedules:\n  - name: hourly\n    cron: "0 * * * *"\n    select: "a+"\n'
    d = harness.make(schedule, reload_every=24 * 3600.0)
    assert d.step() == []  # first sight
    harness.clock.advance(30 * 60)
    (harness.root / "assets.py").write_text(ASSETS + "\n@asset\ndef late(b):\n    return b\n")
    harness.clock.advance(30 * 60)  # 11:00
    (tick,) = d.step()
    assert tick.status == "success", tick.error
    (run,) = harness.runs()
    assert set(run.asset_keys) == {"a", "b", "late"}
    assert d.workspace.snapshot is not None  # read from the (rebuilt) snapshot


def test_an_overdue_freshness_tick_is_posted_to_the_projects_alert_resource(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daemon reads the project from its snapshot, yet a freshness check it records
    still reaches the project's ``webhook_alerts`` (its hooks made on first use)."""
    from ..test_alerts import Receiver

    receiver = Receiver()
    try:
        monkeypatch.setenv("ALERT_URL", receiver.url)
        alerts = (
            "resources:\n  alerts:\n    type: webhook_alerts\n"
            "    config: {url: \"{{ env('ALERT_URL') }}\", format: json,\n"
            "             when: [freshness_failed]}\n"
        )
        write_project(harness.root, alerts)
        (harness.root / "assets.py").write_text(
            "from catchment import asset\n\n"
            "@asset(freshness='1h')\ndef customers():\n    return 1\n"
        )
        d = harness.make()
        (tick,) = d.step()
        assert (tick.kind, tick.status) == ("freshness", "success")
        assert d.workspace.snapshot is not None
        [post] = receiver.posts
        assert post["event"] == "freshness_failed"
        assert "customers" in post["text"]
    finally:
        receiver.close()


CHAIN_ASSETS = """\
import time
from catchment import asset
from catchment.automation.conditions import eager

@asset
def src():
    return time.time_ns()  # new data each time

@asset(automation=eager())
def a(src):
    return src

@asset(automation=eager())
def b(a):
    return a

@asset(automation=eager())
def c(b):
    return b
"""


def test_a_source_update_runs_a_chain_of_three_eager_assets_in_one_run(tmp_path: Path) -> None:
    """Real processes: the CLI records a new ``src``, ``catchment daemon --once`` asks for the
    eager chain below it, and the ``runs execute`` process it launches builds a, b and c in
    ONE run; the next ``--once`` asks for nothing more."""
    import subprocess
    import sys
    import time

    from catchment.storage import open_storage

    root = write_project(tmp_path / "p")
    (root / "assets.py").write_text(CHAIN_ASSETS)

    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "catchment", *args, "-p", str(root)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    cli("materialize")
    cli("daemon", "--once")  # the first evaluation: everything there, nothing new
    cli("materialize", "-s", "src")
    cli("daemon", "--once")
    store = open_storage(f"sqlite:///{root / '.catchment' / 'runs.db'}")
    try:
        deadline = time.monotonic() + 60
        while any(r.status in ("queued", "starting", "started") for r in store.list_runs()):
            assert time.monotonic() < deadline, [(r.run_id, r.status) for r in store.list_runs()]
            time.sleep(0.2)
        (chain,) = [r for r in store.list_runs() if r.tags.get("origin") == "automation"]
        assert chain.asset_keys == ("a", "b", "c")
        assert chain.status == "success"
        built = store.events_for_run(chain.run_id, types=[EventType.MATERIALIZATION])
        assert [e.asset_key for e in built] == ["a", "b", "c"]
        cli("daemon", "--once")  # the chain's own materializations ask for nothing more
        assert [r.run_id for r in store.list_runs() if r.tags.get("origin") == "automation"] == [
            chain.run_id
        ]
    finally:
        store.close()
