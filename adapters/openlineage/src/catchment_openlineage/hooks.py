"""The OpenLineage adapter's plugin hooks: life-cycle hooks only (it serves no component type).

Each hook returns at once when OpenLineage is not configured; otherwise it builds events and
queues them (delivery happens on a background thread, bounded at the run's end).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from catchment.hookspecs import AdapterInfo, RunInfo, hookimpl

from catchment_openlineage import __version__

if TYPE_CHECKING:
    from catchment_openlineage.events import AssetGraph


@hookimpl
def catchment_adapter_info() -> AdapterInfo:
    """Name, version and supported core API range of catchment-openlineage."""
    return AdapterInfo(
        name="openlineage",
        version=__version__,
        description="OpenLineage run events per asset, with column lineage",
    )


@hookimpl
def catchment_run_started(run: RunInfo) -> None:
    """Decide whether this run emits (OpenLineage configured) and remember it."""
    from catchment_openlineage.emitter import start_run

    start_run(run)


@hookimpl
def catchment_step_started(run: RunInfo, event: Any, graph: AssetGraph) -> None:
    """START for every asset of the step."""
    from catchment_openlineage.emitter import for_run

    chosen = for_run(run)
    if chosen is not None:
        chosen.step_started(run, event, graph)


@hookimpl
def catchment_asset_materialized(run: RunInfo, event: Any) -> None:
    """COMPLETE, with schema, row count and column lineage."""
    from catchment_openlineage.emitter import for_run

    chosen = for_run(run)
    if chosen is not None:
        chosen.asset_materialized(run, event)


@hookimpl
def catchment_asset_failed(run: RunInfo, event: Any) -> None:
    """FAIL, with the error message facet."""
    from catchment_openlineage.emitter import for_run

    chosen = for_run(run)
    if chosen is not None:
        chosen.asset_failed(run, event)


@hookimpl
def catchment_run_finished(run: RunInfo, status: str) -> None:
    """ABORT what never ended, end the parent run, wait (bounded) for delivery."""
    from catchment_openlineage.emitter import finish_run

    finish_run(run, status)
