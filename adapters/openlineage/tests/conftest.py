"""A real HTTP receiver on 127.0.0.1 (a free port per test), the OpenLineage JSON schema
validator, and the environment each test starts from (no OpenLineage settings inherited)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

SCHEMA_DIR = Path(__file__).parent / "schema"


class Receiver:
    """Collects the JSON bodies POSTed to it; ``mode`` is ``ok``, ``slow`` or ``error``."""

    def __init__(self, mode: str = "ok", delay: float = 5.0):
        self.mode = mode
        self.delay = delay
        self.events: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.paths: list[str] = []
        self.attempts = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.attempts += 1
                if receiver.mode == "slow":
                    time.sleep(receiver.delay)
                if receiver.mode == "error":
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.events.append(json.loads(body))
                receiver.headers.append(dict(self.headers))
                receiver.paths.append(self.path)
                self.send_response(201)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """An OpenLineage HTTP receiver that accepts everything."""
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(autouse=True)
def clean_openlineage_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No OpenLineage configuration leaks in from the environment or the home directory."""
    import os

    for name in list(os.environ):
        if name.startswith("OPENLINEAGE") or name.startswith("CATCHMENT_OPENLINEAGE"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)


def validate(event: dict[str, Any]) -> None:
    """Validate ``event`` against the OpenLineage JSON schema (spec 2-0-2) and each facet
    against its own schema (files from the OpenLineage spec, in tests/schema: the client
    package does not ship them)."""
    import jsonschema
    from referencing import Registry, Resource

    resources = []
    by_id: dict[str, Any] = {}
    for path in SCHEMA_DIR.glob("*.json"):
        doc = json.loads(path.read_text())
        by_id[doc["$id"]] = doc
        resources.append((doc["$id"], Resource.from_contents(doc)))
    registry: Registry[Any] = Registry().with_resources(resources)
    core = by_id["https://openlineage.io/spec/2-0-2/OpenLineage.json"]
    root = {"$ref": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"}
    jsonschema.Draft202012Validator(root, registry=registry).validate(event)
    assert core  # the core schema was loaded

    facets: list[dict[str, Any]] = []
    facets += list((event["run"].get("facets") or {}).values())
    facets += list((event["job"].get("facets") or {}).values())
    for dataset in event.get("inputs", []) + event.get("outputs", []):
        facets += list((dataset.get("facets") or {}).values())
        facets += list((dataset.get("outputFacets") or {}).values())
    for facet in facets:
        url = facet["_schemaURL"]
        assert url.split("#")[0] in by_id, f"no schema for facet {url}"
        jsonschema.Draft202012Validator({"$ref": url}, registry=registry).validate(facet)
