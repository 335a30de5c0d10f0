"""Schedules and sensors as the project declares them: YAML sections, Python modules, and the
`check` errors that name file:line."""

from __future__ import annotations

from pathlib import Path

from catchment.cli.main import app
from catchment.project import load_project
from typer.testing import CliRunner

from .conftest import write_project

BAD = """\
schedules:
  - name: nightly
    cron: "0 3 * *"
    assets: [a]
  - name: berlin
    cron: "0 3 * * *"
    timezone: Mars/Olympus
    assets: [a]
  - name: nowhere
    cron: "@daily"
    assets: [no_such_asset]
sensors:
  - name: ftp
    type: ftp
    assets: [a]
  - name: landing
    type: files
    path: landing
    assets: [events]
  - name: slow
    function: sensors.py:raising
    interval: soon
"""


def test_bad_declarations_are_problems_naming_file_line_and_field(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", BAD)
    project = load_project(root)
    problems = {p.where.rsplit("/", 1)[-1]: p for p in project.problems}
    text = "\n".join(str(p) for p in project.problems)
    assert "catchment.yaml:15" in problems, text
    assert "invalid cron schedule '0 3 * *'" in problems["catchment.yaml:15"].message
    assert "unknown timezone 'Mars/Olympus'" in problems["catchment.yaml:19"].message
    assert "unknown sensor type 'ftp'" in problems["catchment.yaml:26"].message
    assert "files, " not in problems["catchment.yaml:26"].message  # the hint lists them
    assert "python, files, asset" in (problems["catchment.yaml:26"].hint or "")
    assert "`pattern` is required" in text
    assert "interval 'soon' is not a duration" in text
    assert "no asset no_such_asset" in text
    assert [s.name for s in project.schedules] == ["nowhere"]  # the valid one still loads
    assert [s.name for s in project.sensors] == []
    result = CliRunner().invoke(app, ["check", str(root)])
    assert result.exit_code == 1
    assert "catchment.yaml:15" in result.output


GOOD = """\
schedules:
  - name: nightly
    cron: "0 3 * * *"
    timezone: Europe/Berlin
    select: "a+"
  - module: schedules.py
sensors:
  - module: sensors.py
  - name: landing
    type: files
    path: landing
    pattern: "%Y/%m/%d/%H"
    assets: [events]
    interval: 1m
"""

SCHEDULES_PY = """\
from catchment.schedules import schedule

hourly = schedule("hourly_events", "@hourly", asset_keys=["events"])
"""


def test_yaml_and_python_declarations_load_together(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", GOOD)
    (root / "schedules.py").write_text(SCHEDULES_PY)
    project = load_project(root)
    assert project.problems == []
    schedules = {s.name: s for s in project.schedules}
    assert set(schedules) == {"nightly", "hourly_events"}
    assert schedules["nightly"].source is not None
    assert schedules["nightly"].source.endswith("catchment.yaml:14")
    assert schedules["hourly_events"].source.endswith("schedules.py:3")  # type: ignore[union-attr]
    sensors = {s.name: s for s in project.sensors}
    assert set(sensors) == {"counting", "landing"}
    assert sensors["landing"].interval == 60.0
    assert sensors["landing"].config == {"path": "landing", "pattern": "%Y/%m/%d/%H"}
    assert sensors["counting"].function is not None
    assert sensors["counting"].function.endswith("sensors.py:counting")


def test_schedules_and_sensors_list_and_preview(tmp_path: Path) -> None:
    import json

    root = write_project(tmp_path / "p", GOOD)
    (root / "schedules.py").write_text(SCHEDULES_PY)
    (root / "landing" / "2025" / "08" / "01" / "03").mkdir(parents=True)
    runner = CliRunner()
    listed = json.loads(runner.invoke(app, ["schedules", "list", "-p", str(root), "--json"]).output)
    nightly = next(s for s in listed if s["name"] == "nightly")
    assert nightly["next_ticks"][0].endswith(("+01:00", "+02:00"))  # Berlin time
    assert nightly["next_ticks"][0][11:16] == "03:00"
    sensors = json.loads(runner.invoke(app, ["sensors", "list", "-p", str(root), "--json"]).output)
    assert {s["name"]: s["type"] for s in sensors} == {"counting": "python", "landing": "files"}
    out = runner.invoke(app, ["sensors", "preview", "landing", "-p", str(root), "--json"])
    assert out.exit_code == 0, out.output
    preview = json.loads(out.output)
    (request,) = preview["result"]["run_requests"]
    assert request["asset_keys"] == ["events"]
    assert request["partition_keys"] == ["2025-08-01-03:00"]
    # nothing was submitted
    ticks = runner.invoke(app, ["ticks", "-p", str(root), "--json"])
    assert json.loads(ticks.output) == []


def test_daemon_once_then_ticks_from_the_cli(tmp_path: Path) -> None:
    import json

    root = write_project(tmp_path / "p", GOOD)
    (root / "schedules.py").write_text(SCHEDULES_PY)
    (root / "landing" / "2025" / "08" / "01" / "03").mkdir(parents=True)
    runner = CliRunner()
    once = runner.invoke(app, ["daemon", "-p", str(root), "--once"])
    assert once.exit_code == 0, once.output
    assert "sensor landing success -> 1 run(s)" in once.output
    ticks = json.loads(runner.invoke(app, ["ticks", "-p", str(root), "--json"]).output)
    by_name = {t["name"]: t for t in ticks}
    assert by_name["landing"]["status"] == "success"
    assert by_name["counting"]["status"] == "success"
    assert by_name["landing"]["body"]["requests"][0]["partition_keys"] == ["2025-08-01-03:00"]
    listed = runner.invoke(app, ["ticks", "-p", str(root), "--kind", "sensor", "--name", "landing"])
    assert "landing" in listed.output
    assert "counting" not in listed.output
    # the daemon launched real `runs execute` processes: they run to the end on their own
    import time

    from catchment.storage import open_storage

    store = open_storage(f"sqlite:///{root / '.catchment' / 'runs.db'}")
    deadline = time.monotonic() + 60
    while any(r.status in ("queued", "starting", "started") for r in store.list_runs()):
        assert time.monotonic() < deadline, [(r.run_id, r.status) for r in store.list_runs()]
        time.sleep(0.2)
    assert {r.status for r in store.list_runs()} == {"success"}
    store.close()
