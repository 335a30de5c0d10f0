"""The run page's live event log (server-sent events): a recorded run streams every event and
an ``end``; a run that is still going streams its events as they are recorded and ends when
the run does; bad run ids get a 400 or 404 with a message."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from pathlib import Path
from typing import Any, cast

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _messages(text: str) -> list[tuple[str, dict[str, Any], str | None]]:
    """``(event, data, id)`` of each SSE message in ``text`` (comments skipped)."""
    out = []
    for block in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":")
        )
        if "event" in fields:
            out.append((fields["event"], json.loads(fields["data"]), fields.get("id")))
    return out


A_RUN_START_TO_END = [
    ("log", "run_started"),
    ("log", "step_started"),
    ("log", "run_finished"),
    ("end", None),
]
"""What the stream sends for a run that starts, starts a step and ends."""


def _run_id(client: Any) -> str:
    run_id: str = client.get("/api/runs").json()["runs"][0]["run_id"]
    return run_id


def test_a_finished_run_streams_every_event_then_end(client: Any) -> None:
    run_id = _run_id(client)
    recorded = client.get(f"/api/runs/{run_id}").json()["events"]
    with client.stream("GET", f"/api/runs/{run_id}/events") as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        text = "".join(r.iter_text())
    messages = _messages(text)
    assert [m[1]["seq"] for m in messages[:-1]] == [e["seq"] for e in recorded]
    assert [m[2] for m in messages[:-1]] == [str(e["seq"]) for e in recorded]
    assert messages[-1][0] == "end"
    assert messages[-1][1] == {"status": "success", "last_seq": recorded[-1]["seq"]}


def test_the_stream_resumes_after_a_seq_or_the_last_event_id(client: Any) -> None:
    run_id = _run_id(client)
    seqs = [e["seq"] for e in client.get(f"/api/runs/{run_id}").json()["events"]]
    by_query = _messages(client.get(f"/api/runs/{run_id}/events?after={seqs[-2]}").text)
    assert [(m[0], m[1].get("seq")) for m in by_query] == [("log", seqs[-1]), ("end", None)]
    resumed = client.get(
        f"/api/runs/{run_id}/events?after=0", headers={"Last-Event-ID": str(seqs[-1])}
    )
    assert [m[0] for m in _messages(resumed.text)] == ["end"]


@pytest.mark.parametrize(
    ("path", "status", "needle"),
    [
        ("/api/runs/no_such_run/events", 404, "no run 'no_such_run'"),
        ("/api/runs/bad%20id!/events", 400, "is not a run id"),
    ],
)
def test_bad_run_ids_get_a_message(client: Any, path: str, status: int, needle: str) -> None:
    r = client.get(path)
    assert r.status_code == status
    assert needle in r.json()["error"]


def test_a_bad_after_is_a_400(client: Any) -> None:
    r = client.get(f"/api/runs/{_run_id(client)}/events?after=soon")
    assert r.status_code == 400
    assert "after" in r.json()["error"]


@pytest.mark.parametrize("status", ["queued", "starting", "started", "canceling"])
def test_the_page_of_a_run_that_has_not_ended_follows_the_stream_and_keeps_polling_as_fallback(
    tmp_path: Path, status: str
) -> None:
    """Every state before the run's end is live (streams, and polls as fallback); the page of
    an ended run is not."""
    from catchment.storage import RunRecord, open_storage
    from catchment.storage.base import ACTIVE_RUN_STATUSES, HOSTNAME, RunStatus
    from catchment.ui.app import create_app
    from catchment.ui.state import UiState

    from .conftest import client_class, write_project

    assert status in ACTIVE_RUN_STATUSES
    root = write_project(tmp_path / "p")
    (root / ".catchment").mkdir()
    storage = open_storage(f"sqlite:///{root / '.catchment' / 'runs.db'}")
    live = cast("RunStatus", status)
    storage.create_run(RunRecord(run_id="going", status=live, pid=os.getpid(), host=HOSTNAME))
    storage.create_run(RunRecord(run_id="ended", pid=os.getpid(), host=HOSTNAME))
    storage.update_run_status("ended", "success")
    storage.close()
    state = UiState(root)
    state.load()
    with client_class()(create_app(state, start=False)) as c:
        html = c.get("/runs/going").text
        ended = c.get("/runs/ended").text
        listed = c.get(f"/api/runs?status={status}").json()["runs"]
        script = c.get("/static/ui.js").text
    assert 'data-run="going" data-active="1"' in html
    assert 'hx-trigger="every 1s [!window.catchmentLive]"' in html  # polling unless streaming
    assert '"/api/runs/" + live.dataset.run + "/events?after="' in script
    assert "window.catchmentLive = true" in script
    assert 'data-run="ended" data-active="0"' in ended
    assert "hx-trigger" not in ended
    assert [r["run_id"] for r in listed] == ["going"]  # the runs list filters by it too


def test_a_live_run_streams_events_as_recorded_and_ends_with_the_run(tmp_path: Path) -> None:
    from catchment.events import Event, EventType
    from catchment.storage import RunRecord, open_storage
    from catchment.storage.base import HOSTNAME
    from catchment.ui.live import run_events

    storage = open_storage(f"sqlite:///{tmp_path / 'runs.db'}")
    storage.create_run(RunRecord(run_id="live1", pid=os.getpid(), host=HOSTNAME))
    storage.append_events([Event(run_id="live1", type=EventType.RUN_STARTED)])

    def engine() -> None:  # records a step, then ends the run, while the stream is open
        time.sleep(0.3)
        storage.append_events([Event(run_id="live1", type=EventType.STEP_STARTED, step_key="a")])
        time.sleep(0.3)
        storage.append_events([Event(run_id="live1", type=EventType.RUN_FINISHED)])
        storage.update_run_status("live1", "success")

    async def collect() -> list[tuple[float, str]]:
        got = []
        t0 = time.monotonic()

        async def connected() -> bool:
            return False

        async for m in run_events(storage, "live1", 0, connected, poll=0.05, limit=10):
            got.append((time.monotonic() - t0, m))
        return got

    writer = threading.Thread(target=engine)
    writer.start()
    try:
        got = asyncio.run(collect())
    finally:
        writer.join()
        storage.close()
    messages = [_messages(m)[0] for _, m in got]
    assert [(m[0], m[1].get("type")) for m in messages] == A_RUN_START_TO_END
    assert messages[-1][1]["status"] == "success"
    assert got[0][0] < 0.2  # the recorded event at once
    assert 0.25 < got[1][0] < 1.0  # the step as it was recorded, not at the end
    assert got[-1][0] < 2.0


def test_a_run_streams_through_starting_and_canceling_until_it_ends(tmp_path: Path) -> None:
    """A run that is ``starting`` streams, keeps streaming while ``started`` and ``canceling``,
    and ends the stream only once it is ``canceled``. Each poll of the stream moves the run one
    real transition on (no clock involved)."""
    from catchment.events import Event, EventType
    from catchment.storage import RunRecord, open_storage
    from catchment.storage.base import HOSTNAME
    from catchment.ui.live import run_events

    storage = open_storage(f"sqlite:///{tmp_path / 'runs.db'}")
    storage.create_run(RunRecord(run_id="r1", status="starting", pid=os.getpid(), host=HOSTNAME))

    def claimed() -> None:
        storage.update_run_status("r1", "started")
        storage.append_events([Event(run_id="r1", type=EventType.RUN_STARTED)])

    def asked_to_stop() -> None:
        storage.append_events([Event(run_id="r1", type=EventType.STEP_STARTED, step_key="a")])
        assert storage.cancel_run("r1", time.time()) == "canceling"

    def stopped() -> None:
        storage.append_events([Event(run_id="r1", type=EventType.RUN_FINISHED)])
        storage.update_run_status("r1", "canceled")

    engine = [claimed, asked_to_stop, stopped]
    statuses = []

    async def collect() -> list[str]:
        async def disconnected() -> bool:  # called once per poll, after the events were sent
            run = storage.get_run("r1")
            statuses.append(run.status if run else None)
            if engine:
                engine.pop(0)()
            return False

        return [m async for m in run_events(storage, "r1", 0, disconnected, poll=0, limit=60)]

    try:
        got = asyncio.run(collect())
    finally:
        storage.close()
    messages = [_messages(m)[0] for m in got]
    assert statuses == ["starting", "started", "canceling"]
    assert [(m[0], m[1].get("type")) for m in messages] == A_RUN_START_TO_END
    assert messages[-1][1]["status"] == "canceled"


def test_a_stream_is_bounded_in_time(tmp_path: Path) -> None:
    from catchment.storage import RunRecord, open_storage
    from catchment.storage.base import HOSTNAME
    from catchment.ui.live import run_events

    storage = open_storage(f"sqlite:///{tmp_path / 'runs.db'}")
    storage.create_run(RunRecord(run_id="stuck", pid=os.getpid(), host=HOSTNAME))

    async def collect() -> tuple[int, float]:
        t0 = time.monotonic()
        polls = 0

        async def connected() -> bool:
            nonlocal polls
            polls += 1
            return False

        async for _ in run_events(storage, "stuck", 0, connected, poll=0.05, limit=0.3):
            pass
        return polls, time.monotonic() - t0

    try:
        polls, seconds = asyncio.run(collect())
    finally:
        storage.close()
    assert 0.3 <= seconds < 1.5
    assert 3 <= polls <= 10  # one store read per poll interval, no busy loop


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_an_open_stream_does_not_hold_up_ctrl_c(tmp_path: Path) -> None:
    """A real `catchment ui` with a browser following a run that never ends stops on SIGINT
    within a few seconds (the stream is cut), not when the stream would have ended."""
    import signal
    import urllib.request

    from catchment.storage import RunRecord, open_storage

    from .conftest import write_project
    from .server import UiServer

    root = write_project(tmp_path / "p")
    (root / ".catchment").mkdir()
    storage = open_storage(f"sqlite:///{root / '.catchment' / 'runs.db'}")
    storage.create_run(RunRecord(run_id="forever", pid=os.getpid(), host="elsewhere"))
    storage.close()
    server = UiServer(root)
    try:
        server.wait_ready()
        opened = threading.Event()

        def follow() -> None:
            try:
                with urllib.request.urlopen(f"{server.url}/api/runs/forever/events") as r:
                    opened.set()
                    r.read()
            except Exception:  # cut by the shutdown: what this test wants
                pass

        threading.Thread(target=follow, daemon=True).start()
        assert opened.wait(30)
        time.sleep(1.0)
        t0 = time.monotonic()
        server.proc.send_signal(signal.SIGINT)
        server.proc.wait(30)
        assert time.monotonic() - t0 < 10
    finally:
        if server.proc.poll() is None:
            server.stop()
