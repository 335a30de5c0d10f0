"""Alerting (issue 25): a ``webhook_alerts`` resource posts to a real local HTTP receiver when
a run fails, a check fails or freshness goes overdue; its URL (a secret) never leaks."""

from __future__ import annotations

import json
import logging
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from catchment.automation.freshness import evaluate_freshness, record_freshness
from catchment.execution.project import open_project_storage, run_project
from catchment.project import load_project

from .project.conftest import make_registry

TOKEN = "T0KEN-b7f3a9d2e1"


class Receiver:
    """A loopback HTTP server on a free port that records JSON posts (or answers ``status``)."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.status = 200
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                owner.posts.append(json.loads(self.rfile.read(length)))
                owner.paths.append(self.path)
                self.send_response(owner.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/{TOKEN}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


MODULE = """
from catchment import asset, asset_check

@asset
def orders():
    raise RuntimeError("the API is down")

@asset(freshness="1h")
def customers():
    return 1

@asset_check(asset="customers")
def has_rows(value):
    return False
"""

YAML = """
project: {name: shop}
components:
  - {type: python, name: code, attributes: {module: shop.py}}
io_managers:
  default: {type: memory}
resources:
  alerts:
    type: webhook_alerts
    config:
      url: "{{ env('ALERT_URL') }}"
      format: FORMAT
      project: shop
      when: [run_failed, check_failed, freshness_failed]
"""


def _project(root: Path, fmt: str = "json") -> Path:
    root.mkdir()
    (root / "shop.py").write_text(textwrap.dedent(MODULE))
    (root / "catchment.yaml").write_text(YAML.replace("FORMAT", fmt))
    return root


def test_a_failed_run_and_a_failed_check_are_posted(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALERT_URL", receiver.url)
    project = load_project(_project(tmp_path / "p"), registry=make_registry())
    assert project.problems == []
    assert TOKEN not in repr(project.resources["alerts"])
    result = run_project(project, "*")
    assert not result.success
    events = [p["event"] for p in receiver.posts]
    assert events == ["check_failed", "run_failed"]
    check, run = receiver.posts
    assert check["text"] == "[shop] customers:has_rows failed"
    assert run["run_id"] == result.run_id
    assert run["text"].startswith(f"[shop] run {result.run_id} failed")
    assert receiver.paths == [f"/hooks/{TOKEN}"] * 2
    # the secret URL is in no record of the run
    records = json.dumps([e.data for e in result.events], default=str)
    assert TOKEN not in records


def test_an_overdue_freshness_check_is_posted_in_slack_format(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALERT_URL", receiver.url)
    project = load_project(_project(tmp_path / "p", fmt="slack"), registry=make_registry())
    storage = open_project_storage(project)
    now = 1_796_000_000.0  # a fixed clock: customers was never materialized
    result = evaluate_freshness(project.require_graph(), storage, now)
    record_freshness(storage, result, run_id="tick-1", hooks=project.hooks)
    [post] = receiver.posts
    assert set(post) == {"text"}  # Slack's incoming-webhook shape
    assert post["text"].startswith("[shop] customers:freshness is overdue (freshness): overdue:")


def test_an_undeliverable_alert_is_one_warning_without_the_url(
    tmp_path: Path,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver.status = 500
    monkeypatch.setenv("ALERT_URL", receiver.url)
    project = load_project(_project(tmp_path / "p"), registry=make_registry())
    with caplog.at_level(logging.WARNING, logger="catchment.alerts"):
        result = run_project(project, "orders")
    assert result.status == "failure"  # the run's own outcome, not the alert's
    [warning] = [r.getMessage() for r in caplog.records if r.name == "catchment.alerts"]
    assert warning == "alert to webhook at 127.0.0.1 was not delivered: HTTP 500"
    assert TOKEN not in caplog.text


def test_a_closed_port_does_not_hang_or_fail_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    dead = Receiver()
    url = dead.url
    dead.close()  # nothing listens there now
    monkeypatch.setenv("ALERT_URL", url)
    project = load_project(_project(tmp_path / "p"), registry=make_registry())
    with caplog.at_level(logging.WARNING, logger="catchment.alerts"):
        result = run_project(project, "orders")
    assert result.status == "failure"
    assert "was not delivered" in caplog.text
    assert TOKEN not in caplog.text
