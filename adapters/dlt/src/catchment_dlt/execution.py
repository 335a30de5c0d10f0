"""Execution: load exactly the selected resources in one ``pipeline.run`` and report per asset.

Rows per table come from the normalize step, the load id and schema changes from the load
info. When dlt fails, the asset it names fails with dlt's message: the resource that raised
(extract), the table that broke a schema contract (normalize) or whose load job failed (load).
Other assets of the same run did not commit, so they are skipped (extract) or failed (later
steps). Before reporting, a failed run's pending load package is aborted, which restores the
pipeline's incremental state, so a later run starts clean and loses no rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from catchment.context import StepContext
from catchment.keys import AssetKey
from catchment.partitions import PartitionsDefinition
from catchment.results import AssetFailure, AssetSkipped, MaterializeResult, StepResult

from catchment_dlt.discovery import Layout, TableAsset
from catchment_dlt.telemetry import quiet_dlt
from catchment_dlt.windows import window_of, windowed


def run_step(
    context: StepContext,
    *,
    layout: Layout,
    make_source: Callable[[], Any],
    pipeline_name: str,
    pipelines_dir: Path | None,
    partitions: PartitionsDefinition | None = None,
    where: str,
) -> Iterator[StepResult]:
    """Run the resources behind ``context.selected_keys`` and yield one result per asset."""
    quiet_dlt()
    import dlt
    from dlt.pipeline.exceptions import PipelineStepFailed

    selected = set(context.selected_keys)
    resources = layout.resources_for(selected)
    # a child table is always loaded with its resource; report it only when selected
    reported = [t for t in layout.tables_of(resources) if t.key in selected]
    if not resources:
        return
    source = make_source().with_resources(*resources)
    window = _apply_partition(context, layout, source, resources, partitions)
    folder = pipelines_dir or context.project_root / ".catchment" / "dlt"
    folder.mkdir(parents=True, exist_ok=True)
    pipeline = dlt.pipeline(
        pipeline_name,
        pipelines_dir=str(folder),
        destination=layout.target.to_dlt(),
        dataset_name=layout.dataset,
    )
    _finish_pending(pipeline, context)
    context.log.info(
        "dlt: running pipeline %s (resources %s) into %s, dataset %s",
        pipeline_name,
        ", ".join(resources),
        layout.target.describe(),
        layout.dataset,
    )
    gone = _gone_tables(layout, resources) if pipeline.first_run is False else []
    if gone:
        # dlt's stored schema says these tables exist, so it would not create them again:
        # drop the resources' tables and state and load them afresh
        context.log.warning(
            "dlt: tables %s are gone from %s; reloading their resources from scratch",
            ", ".join(gone),
            layout.target.describe(),
        )
    started = time.perf_counter()
    try:
        info = pipeline.run(source, refresh="drop_resources") if gone else pipeline.run(source)
    except PipelineStepFailed as exc:
        _abort_pending(pipeline, context)
        yield from _failures(exc, reported, layout, where)
        return
    except Exception as exc:  # dlt config / destination errors before any step ran
        _abort_pending(pipeline, context)
        message = f"{type(exc).__name__}: {exc}"
        for t in reported:
            yield AssetFailure(
                key=t.key, message=message, error_class=type(exc).__name__, where=where
            )
        return
    duration = round(time.perf_counter() - started, 3)
    yield from _successes(pipeline, info, reported, layout, pipeline_name, duration, window, where)
    _note_new_tables(pipeline, layout, context)


def _gone_tables(layout: Layout, resources: list[str]) -> list[str]:
    """The tables of ``resources`` that are not in a DuckDB destination any more (dropped
    behind dlt's back); other destinations are not checked."""
    from catchment.observation import DuckDBObserver

    refs = {
        t.table: layout.target.table(layout.dataset, t.table)
        for t in layout.tables_of(resources)
        if t.table is not None and not t.is_child
    }
    duck = [r for r in refs.values() if r.system == "duckdb" and r.location != ":memory:"]
    if not duck or not Path(duck[0].location).exists():
        return []
    try:
        found = DuckDBObserver(duck[0].location).observe(duck)
    except Exception:  # a lock or a broken file: let dlt report it
        return []
    return sorted(name for name, r in refs.items() if r in found and found[r].exists is False)


def _apply_partition(
    context: StepContext,
    layout: Layout,
    source: Any,
    resources: list[str],
    partitions: PartitionsDefinition | None,
) -> tuple[str, str] | None:
    keys = context.partition_keys or (
        (context.partition_key,) if context.partition_key is not None else ()
    )
    if not keys:
        return None
    # a range of consecutive windows is one incremental window from the first to the last
    start, end = window_of(partitions, keys[0])[0], window_of(partitions, keys[-1])[1]
    key = keys[0] if len(keys) == 1 else f"{keys[0]}...{keys[-1]}"
    for name in resources:
        incremental = layout.cursors.get(name)
        if incremental is None:
            context.log.warning(
                "dlt: resource %s declares no incremental cursor; partition %s loads it whole",
                name,
                key,
            )
            continue
        source.resources[name].apply_hints(incremental=windowed(incremental, start, end))
    return start.isoformat(), end.isoformat()


def _finish_pending(pipeline: Any, context: StepContext) -> None:
    """Load packages a crashed run left behind, so ``run`` extracts this run's data."""
    if not pipeline.has_pending_data:
        return
    context.log.warning(
        "dlt: pipeline %s has pending load packages; loading them first", pipeline.pipeline_name
    )
    try:
        pipeline.load()
    except Exception as exc:
        context.log.warning("dlt: pending packages failed (%s); aborting them", exc)
        _abort_pending(pipeline, context)


def _abort_pending(pipeline: Any, context: StepContext) -> None:
    """Abort what a failed run left pending; dlt restores the pipeline state to before it."""
    try:
        if pipeline.has_pending_data:
            # dlt >= 1.30 restores the state; older versions only drop the packages
            abort = getattr(pipeline, "abort_packages", None) or pipeline.drop_pending_packages
            abort()
            context.log.warning(
                "dlt: aborted the failed load package of pipeline %s and restored its state",
                pipeline.pipeline_name,
            )
    except Exception as exc:
        context.log.error("dlt: could not abort pending load packages: %s", exc)


def _successes(
    pipeline: Any,
    info: Any,
    reported: list[TableAsset],
    layout: Layout,
    pipeline_name: str,
    duration: float,
    window: tuple[str, str] | None,
    where: str,
) -> Iterator[StepResult]:
    trace = pipeline.last_trace
    normalize = trace.last_normalize_info if trace is not None else None
    row_counts: Mapping[str, int] = (normalize.row_counts if normalize is not None else None) or {}
    load_ids = list(info.loads_ids) if info is not None else []
    new_columns: dict[str, list[str]] = {}
    failed: dict[str, str] = {}
    for package in info.load_packages if info is not None else ():
        for table_name, table in (package.schema_update or {}).items():
            cols = [c for c in (table.get("columns") or {}) if not c.startswith("_dlt_")]
            if cols:
                new_columns.setdefault(table_name, []).extend(cols)
        for job in package.jobs.get("failed_jobs", ()):
            failed[job.job_file_info.table_name] = _last_line(job.failed_message or "")
    state = _incremental_state(pipeline, layout.source_name)
    for t in reported:
        table_name = t.table
        if table_name is not None and table_name in failed:
            yield AssetFailure(
                key=t.key,
                message=f"dlt load job for table {table_name!r} failed: {failed[table_name]}",
                error_class="LoadJobFailed",
                where=where,
            )
            continue
        metadata: dict[str, Any] = {
            "rows": _rows(t, row_counts, pipeline),
            "dlt_pipeline": pipeline_name,
            "dlt_dataset": layout.dataset,
            "dlt_resource": t.resource,
            "destination": layout.target.describe(),
            "duration_s": duration,
        }
        if table_name is not None:
            metadata["table"] = str(layout.target.table(layout.dataset, table_name))
        if load_ids:
            metadata["dlt_load_id"] = load_ids[-1]
        if table_name in new_columns:
            metadata["schema_changes"] = {"new_columns": new_columns[table_name]}
        if window is not None:
            metadata["incremental_window"] = list(window)
        if not t.is_child and t.resource in state:
            metadata["incremental_last_value"] = state[t.resource]
        yield MaterializeResult(key=t.key, metadata=metadata)


def _note_new_tables(pipeline: Any, layout: Layout, context: StepContext) -> None:
    """Say which tables dlt created that are not declared yet (the next discovery declares them)."""
    known = {t.table for t in layout.tables}
    created = sorted(
        name
        for name, table in pipeline.default_schema.tables.items()
        if name not in known and not name.startswith("_dlt_") and table.get("parent")
    )
    if created:
        context.log.info(
            "dlt: child tables %s are not declared as assets yet; the next project load "
            "declares them from the pipeline's stored schema",
            ", ".join(created),
        )


def _rows(t: TableAsset, row_counts: Mapping[str, int], pipeline: Any) -> int:
    if t.table is not None:
        return int(row_counts.get(t.table, 0))
    schema = pipeline.default_schema
    names = [n for n, tab in schema.tables.items() if tab.get("resource") == t.resource]
    return sum(int(row_counts.get(n, 0)) for n in names)


def _incremental_state(pipeline: Any, source_name: str) -> dict[str, Any]:
    """Last cursor value per resource after the run (for metadata)."""
    out: dict[str, Any] = {}
    try:
        resources = pipeline.state["sources"][source_name]["resources"]
    except (KeyError, TypeError):
        return out
    for name, state in resources.items():
        cursors = (state or {}).get("incremental") or {}
        for cursor_state in cursors.values():
            if isinstance(cursor_state, Mapping) and "last_value" in cursor_state:
                value = cursor_state["last_value"]
                out[name] = value if isinstance(value, int | float | str) else str(value)
    return out


def _failures(
    exc: Any, reported: list[TableAsset], layout: Layout, where: str
) -> Iterator[StepResult]:
    """Map dlt's failure to the asset it names; the others of this run did not commit."""
    inner = exc.exception
    step = exc.step
    culprit_keys: set[AssetKey] = set()
    message = _last_line(str(inner)) or str(exc)
    if step == "extract":
        resource = getattr(inner, "pipe_name", None) or getattr(inner, "resource_name", None)
        culprit_keys = {t.key for t in reported if t.resource == resource}
        message = str(inner)
    else:
        table_name = getattr(inner, "table_name", None)
        job_id = getattr(inner, "job_id", None)
        if job_id and not table_name:
            # dlt job ids look like ``<table>.<file id>[.<retry>].<format>``; names hold no dots
            table_name = str(job_id).split(".", 1)[0]
        client = getattr(inner, "client_exception", None)
        if client is not None:
            message = f"load job for table {table_name!r} failed: {type(client).__name__}: {client}"
        elif getattr(inner, "failed_message", None):
            message = (
                f"load job for table {table_name!r} failed: {_last_line(inner.failed_message)}"
            )
        asset = layout.asset_for_table(table_name) if table_name else None
        if asset is not None:
            culprit_keys = {asset.key}
    if not culprit_keys:
        culprit_keys = {t.key for t in reported}
    error_class = type(inner).__name__
    for t in reported:
        if t.key in culprit_keys:
            yield AssetFailure(
                key=t.key,
                message=f"dlt {step} failed: {message}",
                error_class=error_class,
                where=where,
            )
        elif step == "extract":
            yield AssetSkipped(
                key=t.key,
                reason=f"not loaded: another resource of the same dlt run failed ({message})",
            )
        else:
            yield AssetFailure(
                key=t.key,
                message=f"not committed: dlt {step} failed for another table of the same load "
                f"package, which was aborted ({message})",
                error_class=error_class,
                where=where,
            )


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
