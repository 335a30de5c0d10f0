"""What each page shows, as plain data: the HTML templates and the JSON API render the same
dicts, so a script reads exactly what a person sees. Everything shown passes ``safe`` (no
secret on any page) and every list is paginated or bounded.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from catchment.storage.base import ACTIVE_RUN_STATUSES
from catchment.ui.catalog import FACETS, MAX_PER_PAGE, Entry
from catchment.ui.params import KNOWN_STATUSES, BadRequest, choice_param, int_param, text_param

if TYPE_CHECKING:
    from catchment.events import Event
    from catchment.keys import AssetKey
    from catchment.storage import RunRecord
    from catchment.storage.control import TickRecord
    from catchment.ui.state import UiState

_SECRET_NAME = re.compile(
    r"(?i)(password|passwd|secret|token|api[_-]?key|credential|private[_-]?key)"
)
_URL_WITH_PASSWORD = re.compile(r"\b([a-z][a-z0-9+.-]*://[^/\s:@]*):[^@\s/]+@", re.I)
MAX_EVENTS = 2000
MAX_TEXT = 4000
RUN_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
MAX_MESSAGE = 300  # characters of a materialization's metadata in the run page's log


def safe(value: Any, name: str = "") -> Any:
    """``value`` fit to show: values under secret-looking names masked, passwords in URLs
    masked, long texts cut (recursively through mappings and lists)."""
    if name and _SECRET_NAME.search(name):
        return "***"
    if isinstance(value, str):
        text = _URL_WITH_PASSWORD.sub(r"\1:***@", value)
        return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"
    if isinstance(value, Mapping):
        return {str(k): safe(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [safe(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return safe(str(value))


def when(ts: float | None) -> str:
    """A timestamp as UTC text (empty for None)."""
    if ts is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts))


# -- catalog -------------------------------------------------------------------------------


def catalog(state: UiState, query: Mapping[str, str]) -> dict[str, Any]:
    """One page of the catalog: search text, facet filters, page number and size."""
    loaded = state.require()
    index = loaded.catalog
    q = text_param(query, "q")
    filters = {f: choice_param(query, f, index.counts[f]) or "" for f in FACETS}
    per_page = int_param(query, "per_page", 50, 1, MAX_PER_PAGE)
    page = int_param(query, "page", 1, 1, 1_000_000)
    found = index.search(q, filters)
    pages = max(1, -(-len(found) // per_page))
    if page > pages:
        raise BadRequest(f"page={page} is past the last page ({pages})")
    shown = found[(page - 1) * per_page : page * per_page]
    states = state.asset_states()
    return {
        "q": q,
        "filters": filters,
        "facets": {f: dict(c) for f, c in index.counts.items()},
        "page": page,
        "pages": pages,
        "per_page": per_page,
        "total": len(found),
        "assets": [_entry(e, state_of(states.states, e)) for e in shown],
    }


def state_of(states: Mapping[Any, str], e: Entry) -> str:
    """The state of a catalog entry (external sources have no other)."""
    return "external" if e.external else states.get(e.key, "missing")


def _entry(e: Entry, status: str) -> dict[str, Any]:
    spec = e.spec
    return {
        "key": e.name,
        "description": safe(clip((spec.description or "").split("\n", 1)[0], 200)),
        "group": spec.group,
        "kinds": list(spec.kinds),
        "owners": list(spec.owners),
        "tool": e.tool,
        "component": e.component,
        "table": spec.table.qualified_name if spec.table else None,
        "state": status,
    }


# -- one asset -----------------------------------------------------------------------------

HISTORY = 30
ROW_COUNT_NAMES = ("rows", "row_count", "rows_affected", "num_rows")


def row_count(metadata: Mapping[str, Any]) -> int | None:
    """The row count a materialization recorded (adapters name it differently), or None."""
    for name in ROW_COUNT_NAMES:
        value = metadata.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value)
    return None


def asset(state: UiState, name: str) -> dict[str, Any]:
    """Everything the asset page shows about ``name``."""
    from catchment.keys import AssetKey

    loaded = state.require()
    graph = loaded.graph
    try:
        key = AssetKey.parse(name)
    except Exception as exc:
        raise BadRequest(f"{name!r} is not an asset key: {exc}") from None
    if key not in graph:
        raise LookupError(f"no asset {name!r} in the graph")
    spec = graph.specs[key]
    storage = state.storage
    entry = next(e for e in loaded.catalog.entries if e.key == key)
    states = state.asset_states()
    by_partition = storage.latest_materializations_by_partition(key)
    latest = max(by_partition.values(), key=lambda r: r.seq, default=None)
    partitions: list[dict[str, Any]] = []
    if spec.partitions is not None:
        try:
            known = list(spec.partitions.keys())[-500:]
        except Exception:  # a dynamic set not bound, a window that cannot be listed
            known = sorted(p for p in by_partition if p)
        partitions = [
            {"key": p, "state": "materialized" if p in by_partition else "missing"} for p in known
        ]
    checks = [
        {
            "check": r.check_name,
            "passed": r.passed,
            "severity": r.severity,
            "run_id": r.run_id,
            "at": when(r.timestamp),
            "partition": r.partition,
            "metadata": safe(r.metadata),
        }
        for r in storage.check_history(key, limit=20)
    ]
    history = [
        {
            "run_id": r.run_id,
            "seq": r.seq,
            "at": when(r.timestamp),
            "partition": r.partition,
            "rows": row_count(r.metadata),
        }
        for r in reversed(storage.materialization_history(key, limit=HISTORY))
    ]
    return {
        **_entry(entry, state_of(states.states, entry)),
        "history": history,
        "evaluations": evaluations(state, key) if spec.automation is not None else [],
        "reasons": list(states.reasons.get(key, ())),
        "description_full": safe(spec.description or ""),
        "tags": safe(dict(spec.tags)),
        "metadata": safe(dict(spec.metadata)),
        "code_version": spec.code_version,
        "partitioned": spec.partitions is not None,
        "partitions": partitions,
        "automation": str(spec.automation) if spec.automation is not None else None,
        "freshness": str(spec.freshness) if spec.freshness is not None else None,
        "checks_declared": [c.name for c in graph.checks_for(key)],
        "upstream": sorted(k.to_string() for k in graph.upstream(key)),
        "downstream": sorted(k.to_string() for k in graph.downstream(key)),
        "latest": None
        if latest is None
        else {
            "run_id": latest.run_id,
            "at": when(latest.timestamp),
            "partition": latest.partition,
            "code_version": latest.code_version,
            "data_version": latest.data_version,
            "metadata": safe(dict(latest.metadata)),
        },
        "checks": checks,
    }


EVALUATIONS = 10


def evaluations(state: UiState, key: AssetKey) -> list[dict[str, Any]]:
    """What the daemon's last ``EVALUATIONS`` automation ticks decided for ``key`` (newest
    first): requested or not and why, its problem if any, and for the newest the condition
    tree with each node's value, all from the tick bodies (``catchment automation explain``'s
    record; one read of the ``ticks`` table)."""
    import msgspec

    from catchment.automation.explain import TICK_KIND, explain_result
    from catchment.automation.result import EvaluationResult
    from catchment.errors import CatchmentError

    name = key.to_string()
    out: list[dict[str, Any]] = []
    for tick in state.storage.list_ticks(kind=TICK_KIND, limit=EVALUATIONS):
        row: dict[str, Any] = {
            "tick_id": tick.tick_id,
            "at": when(tick.started_at),
            "status": tick.status,
            "error": safe(tick.error or ""),
            "requested": [],
            "reasons": [],
            "problem": "",
            "nodes": [],
        }
        out.append(row)
        if "state" not in tick.body:
            continue
        try:
            result = EvaluationResult.from_body(tick.body)
        except (msgspec.ValidationError, TypeError):
            row["error"] = row["error"] or "the tick's record could not be read"
            continue
        mine = [d for d in result.decisions if d.asset == name]
        row["requested"] = [d.partition or "" for d in mine]
        row["reasons"] = list(dict.fromkeys(safe(d.reason) for d in mine if d.reason))
        row["problem"] = safe(result.problems.get(name, ""))
        if len(out) == 1:  # the newest: its condition tree, node by node
            try:
                explained = explain_result(state.require().graph, result, key)
            except CatchmentError as exc:
                row["problem"] = row["problem"] or safe(str(exc))
            else:
                row["partition"] = explained.partition
                row["nodes"] = [
                    {"depth": n.depth, "label": safe(n.label), "value": n.value}
                    for n in explained.nodes
                ]
    return out


# -- runs ----------------------------------------------------------------------------------


def run_summary(run: RunRecord) -> dict[str, Any]:
    """One run as the runs list shows it."""
    end = run.finished_at or (time.time() if run.status in ACTIVE_RUN_STATUSES else None)
    return {
        "run_id": run.run_id,
        "status": run.status,
        "created_at": when(run.created_at),
        "finished_at": when(run.finished_at),
        "duration": round(end - run.created_at, 2) if end else None,
        "selection": safe(run.selection),
        "assets": list(run.asset_keys[:20]),
        "asset_count": len(run.asset_keys),
        "partitions": list(run.partition_keys[:20]),
        "tags": safe(dict(run.tags)),
        "parent_run_id": run.parent_run_id,
    }


def runs(state: UiState, query: Mapping[str, str]) -> dict[str, Any]:
    """The newest runs, optionally of one status and with one tag (``key`` or ``key=value``)."""
    status = choice_param(query, "status", KNOWN_STATUSES, "run status")
    tag = text_param(query, "tag", 200)
    limit = int_param(query, "limit", 50, 1, 500)
    listed = state.storage.list_runs(limit=limit if not tag else 2000, status=status)
    if tag:
        k, _, v = tag.partition("=")
        listed = [r for r in listed if k in r.tags and (not v or r.tags[k] == v)][:limit]
    return {
        "status": status or "",
        "tag": tag,
        "limit": limit,
        "statuses": list(KNOWN_STATUSES),
        "runs": [run_summary(r) for r in listed],
    }


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in "…" when cut, so a reader can tell a
    shortened value from a whole one."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def event_row(e: Event) -> dict[str, Any]:
    """One event as the run page's log shows it: type, step, asset and a one-line message."""
    from catchment.events import EventType

    message = ""
    if e.type in (EventType.STEP_FAILED, EventType.ASSET_FAILED):
        message = e.failure.message or ""
    elif e.type == EventType.LOG:
        message = e.log_line.message
    elif e.type == EventType.CHECK_EVALUATED:
        c = e.check
        message = f"{c.check_name}: {'passed' if c.passed else 'FAILED'}"
    elif e.type == EventType.STEP_FINISHED:
        message = f"{e.step_finished.status} in {e.step_finished.duration:.2f}s"
    elif e.type == EventType.RUN_FINISHED:
        message = e.run_finished.status
    elif e.type == EventType.MATERIALIZATION:
        meta = e.materialization.metadata
        message = clip(
            ", ".join(f"{k}={v}" for k, v in meta.items() if isinstance(v, str | int | float)),
            MAX_MESSAGE,
        )
    elif e.type == EventType.ASSET_SKIPPED:
        message = e.skipped.reason or ""
    elif e.type == EventType.STEP_RETRY:
        message = f"retry {e.retry.attempt}/{e.retry.of}: {e.retry.message or ''}"
    return {
        "seq": e.seq,
        "at": when(e.timestamp),
        "type": str(e.type),
        "step": e.step_key,
        "asset": e.asset_key,
        "partition": e.partition,
        "message": safe(message),
    }


def run_record(state: UiState, run_id: str) -> RunRecord:
    """The run ``run_id``: ``BadRequest`` for what is not a run id, ``LookupError`` for none."""
    if not RUN_ID.fullmatch(run_id):
        raise BadRequest(f"{run_id!r} is not a run id (letters, digits, - and _)")
    record = state.storage.get_run(run_id)
    if record is None:
        raise LookupError(f"no run {run_id!r} in the record store")
    return record


def full_run_id(state: UiState, prefix: str) -> str | None:
    """The id of the only run whose id starts with ``prefix`` (the 12-character ids the pages
    show), as ``catchment runs show`` accepts; ``None`` for no run or several."""
    if state.storage.get_run(prefix) is not None:
        return prefix
    found = [r.run_id for r in state.storage.list_runs(limit=10_000) if r.run_id.startswith(prefix)]
    return found[0] if len(found) == 1 else None


def run(state: UiState, run_id: str, after: int = 0) -> dict[str, Any]:
    """A run, its steps (a timeline) and its events after ``after``."""
    from catchment.events import EventType

    record = run_record(state, run_id)
    events = state.storage.events_for_run(run_id)
    running = record.status in ACTIVE_RUN_STATUSES
    steps: dict[str, dict[str, Any]] = {}
    for e in events:
        if not e.step_key:
            continue
        step = steps.setdefault(
            e.step_key, {"step": e.step_key, "start": e.timestamp, "end": None, "status": "waiting"}
        )
        if e.type == EventType.STEP_STARTED:
            step["start"], step["status"] = e.timestamp, "running"
        elif e.type == EventType.STEP_FINISHED:
            step["end"], step["status"] = e.timestamp, e.step_finished.status or "success"
        elif e.type == EventType.STEP_FAILED:
            step["end"], step["status"] = e.timestamp, "failure"
        elif e.type == EventType.ASSET_SKIPPED and step["status"] == "waiting":
            step["end"], step["status"] = e.timestamp, "skipped"  # never started
    for step in steps.values():
        if step["end"] is None and not running:  # the run ended (or died) before the step did
            step["status"] = "interrupted" if step["status"] == "running" else "not started"
            step["end"] = record.finished_at or max(step["start"], record.heartbeat_at or 0)
    t0 = min((s["start"] for s in steps.values()), default=record.created_at)
    t1 = max((s["end"] or time.time() for s in steps.values()), default=t0)
    span = max(t1 - t0, 0.001)
    timeline = [
        {
            **s,
            "offset_pct": round(100 * (s["start"] - t0) / span, 2),
            "width_pct": max(0.5, round(100 * ((s["end"] or t1) - s["start"]) / span, 2)),
            "seconds": round((s["end"] or time.time()) - s["start"], 2),
            "start": when(s["start"]),
            "end": when(s["end"]),
        }
        for s in steps.values()
    ]
    shown = [e for e in events if (e.seq or 0) > after][-MAX_EVENTS:]
    return {
        **run_summary(record),
        "active": record.status in ACTIVE_RUN_STATUSES,  # the page streams until the run ends
        "timeline": timeline,
        "span_seconds": round(span, 2),
        "events": [event_row(e) for e in shown],
        "last_seq": max((e.seq or 0 for e in events), default=after),
    }


# -- automation and health -----------------------------------------------------------------


def tick_row(t: TickRecord) -> dict[str, Any]:
    """One daemon tick with its recorded reason."""
    return {
        "tick_id": t.tick_id,
        "kind": t.kind,
        "name": t.name,
        "status": t.status,
        "started_at": when(t.started_at),
        "seconds": round(t.finished_at - t.started_at, 3) if t.finished_at else None,
        "reason": safe(t.body.get("reason") or ""),
        "error": safe(t.error or ""),
        "run_ids": list(t.run_ids),
    }


def automation(state: UiState, query: Mapping[str, str]) -> dict[str, Any]:
    """Schedules, sensors, the daemon's lease and the newest ticks (of one kind / name)."""
    from catchment.daemon.lease import daemon_lease

    loaded = state.require()
    project = loaded.project
    storage = state.storage
    kinds = {"schedule", "sensor", "automation", "freshness"}
    latest = storage.latest_ticks()
    kinds.update(k for k, _ in latest)
    kind = choice_param(query, "kind", kinds, "tick kind")
    name = text_param(query, "name", 200) or None
    limit = int_param(query, "limit", 50, 1, 500)
    now = time.time()
    lease, live = daemon_lease(storage, now)
    return {
        "kind": kind or "",
        "name": name or "",
        "kinds": sorted(kinds),
        "daemon": None
        if lease is None
        else {
            "holder": lease.holder,
            "since": when(lease.acquired_at),
            "alive": live,
            "expires_in": round(lease.expires_at - now, 1),
        },
        "schedules": [
            {
                "name": s.name,
                "cron": s.cron,
                "timezone": s.timezone,
                "target": s.selection or ", ".join(s.asset_keys),
                "enabled": s.enabled,
                "last": tick_row(latest[("schedule", s.name)])
                if ("schedule", s.name) in latest
                else None,
            }
            for s in project.schedules
        ],
        "sensors": [
            {
                "name": s.name,
                "type": s.type,
                "interval": s.interval,
                "target": s.selection or ", ".join(s.asset_keys),
                "last": tick_row(latest[("sensor", s.name)])
                if ("sensor", s.name) in latest
                else None,
            }
            for s in project.sensors
        ],
        "ticks": [tick_row(t) for t in storage.list_ticks(kind=kind, name=name, limit=limit)],
    }


def health(state: UiState) -> dict[str, Any]:
    """Installed adapters, load problems, the project's load time and the record store."""
    from catchment.storage.base import redact_url

    loaded = state.loaded
    out: dict[str, Any] = {
        "status": state.status,
        "error": safe(state.error or ""),
        "uptime_seconds": round(time.time() - state.started_at, 1),
    }
    if loaded is None:
        return out
    project = loaded.project
    out.update(
        {
            "project": project.name,
            "root": str(project.root),
            "graph_version": loaded.version,
            "assets": len(loaded.graph),
            "load_seconds": round(loaded.seconds, 3),
            "states_seconds": round(state.states_seconds, 3),
            "loaded_at": when(loaded.loaded_at),
            "storage": redact_url(project.defaults.storage_url),
            "adapters": [safe(a) for a in project.adapters],
            "components": dict(project.components),
            "problems": [safe(p.to_dict()) for p in project.problems],
        }
    )
    return out
