"""OpenLineage run events built from catchment's graph and records.

One OpenLineage job per asset (``{project}.{asset key}``), one OpenLineage run per asset
per catchment run, whose parent is the catchment run (job ``{project}``). Datasets are the
tables of the asset (output) and of its upstream assets (inputs), named by ``naming``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from catchment.columns import ColumnLineage
from catchment.keys import AssetKey
from catchment.specs import AssetSpec
from catchment.tables import TableRef
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    column_lineage_dataset,
    error_message_run,
    job_type_job,
    parent_run,
    processing_engine_run,
    schema_dataset,
    sql_job,
)

from catchment_openlineage import __version__
from catchment_openlineage.columns import match_table
from catchment_openlineage.naming import dataset_id, parse_table_text

__all__ = ["PRODUCER", "AssetEvents", "AssetGraph", "run_uuid"]

PRODUCER = f"https://github.com/catchment-dev/catchment/tree/v{__version__}/adapters/openlineage"

_KIND_TO_SUBTYPE = {
    "identity": ("DIRECT", "IDENTITY"),
    "transformation": ("DIRECT", "TRANSFORMATION"),
    "aggregation": ("DIRECT", "AGGREGATION"),
}


class AssetGraph(Protocol):
    """What events read of the graph the ``catchment_step_started`` hook hands over."""

    @property
    def specs(self) -> Mapping[AssetKey, AssetSpec]: ...

    def upstream(self, key: AssetKey) -> frozenset[AssetKey]: ...


def run_uuid(run_id: str) -> str:
    """catchment's run id (32 hex digits) as the UUID text OpenLineage requires; any other
    id becomes a stable UUID derived from it."""
    try:
        return str(uuid.UUID(hex=run_id))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"catchment-run:{run_id}"))


def _time(timestamp: float | None = None) -> str:
    moment = datetime.now(UTC) if timestamp is None else datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat()


def _schema(metadata: Mapping[str, Any], lineage: ColumnLineage | None) -> Any:
    columns = metadata.get("columns")
    fields: list[Any] = []
    if isinstance(columns, Mapping):
        fields = [
            schema_dataset.SchemaDatasetFacetFields(name=str(n), type=str(t) if t else None)
            for n, t in columns.items()
        ]
    elif isinstance(columns, list | tuple):
        fields = [schema_dataset.SchemaDatasetFacetFields(name=str(n)) for n in columns]
    elif lineage is not None:
        fields = [
            schema_dataset.SchemaDatasetFacetFields(name=n) for n in lineage.columns if n != "*"
        ]
    return schema_dataset.SchemaDatasetFacet(fields=fields) if fields else None


def _rows(metadata: Mapping[str, Any]) -> int | None:
    for key in ("rows", "row_count", "rows_affected", "num_rows"):
        value = metadata.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


class AssetEvents:
    """Builds the events of one catchment run."""

    def __init__(self, graph: AssetGraph, run_id: str, *, namespace: str, project: str):
        self.graph = graph
        self.namespace = namespace
        self.project = project
        self.parent_run_id = run_uuid(run_id)
        self.engine = processing_engine_run.ProcessingEngineRunFacet(
            version=_catchment_version(), name="catchment", openlineageAdapterVersion=__version__
        )

    # -- names --------------------------------------------------------------------------------

    def job_name(self, key: str) -> str:
        """``{project}.{asset key}``: unique in the namespace, readable in a catalog."""
        return f"{self.project}.{key}"

    def dataset_of(self, key: AssetKey, table_text: str | None = None) -> tuple[str, str] | None:
        """The dataset of ``key``: its spec's table, else the table its materialization
        named, else None (an asset that writes no table)."""
        spec = self.graph.specs.get(key)
        if spec is not None and spec.table is not None:
            return dataset_id(spec.table)
        if table_text:
            return parse_table_text(table_text)
        return None

    def inputs_of(self, key: AssetKey) -> list[tuple[str, str, TableRef | None]]:
        """``(namespace, name, table)`` of every upstream asset that has a table."""
        out: list[tuple[str, str, TableRef | None]] = []
        for up in sorted(self.graph.upstream(key)):
            spec = self.graph.specs.get(up)
            if spec is not None and spec.table is not None:
                out.append((*dataset_id(spec.table), spec.table))
        return out

    # -- events -------------------------------------------------------------------------------

    def parent(self, state: str, timestamp: float | None = None) -> RunEvent:
        """An event of the catchment run itself (job ``{project}``)."""
        return RunEvent(
            eventType=RunState[state],
            eventTime=_time(timestamp),
            run=Run(runId=self.parent_run_id, facets={"processing_engine": self.engine}),
            job=Job(namespace=self.namespace, name=self.project, facets=self._job_facets(None)),
            producer=PRODUCER,
        )

    def asset(
        self,
        state: str,
        key: AssetKey,
        run_id: str,
        *,
        timestamp: float | None = None,
        metadata: Mapping[str, Any] | None = None,
        table_text: str | None = None,
        lineage: ColumnLineage | None = None,
        sql: str | None = None,
        error: str | None = None,
    ) -> RunEvent:
        """START, COMPLETE, FAIL or ABORT of one asset's OpenLineage run."""
        metadata = metadata or {}
        spec = self.graph.specs.get(key)
        inputs = self.inputs_of(key)
        output_id = self.dataset_of(key, table_text)
        outputs: list[OutputDataset] = []
        if output_id is not None:
            facets: dict[str, Any] = {}
            schema = _schema({**(spec.metadata if spec else {}), **metadata}, lineage)
            if schema is not None:
                facets["schema"] = schema
            if lineage is not None:
                column_facet = self._column_lineage(lineage, inputs, output_id, spec)
                if column_facet is not None:
                    facets["columnLineage"] = column_facet
            output_facets: dict[str, Any] = {}
            rows = _rows(metadata)
            if state == "COMPLETE" and rows is not None:
                output_facets["outputStatistics"] = output_statistics_facet(rows)
            outputs.append(
                OutputDataset(
                    namespace=output_id[0],
                    name=output_id[1],
                    facets=facets,
                    outputFacets=output_facets,
                )
            )
        run_facets: dict[str, Any] = {
            "parent": parent_run.ParentRunFacet(
                run=parent_run.Run(runId=self.parent_run_id),
                job=parent_run.Job(namespace=self.namespace, name=self.project),
                root=parent_run.Root(
                    run=parent_run.RootRun(runId=self.parent_run_id),
                    job=parent_run.RootJob(namespace=self.namespace, name=self.project),
                ),
            ),
            "processing_engine": self.engine,
        }
        if error is not None:
            run_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
                message=error, programmingLanguage="python"
            )
        return RunEvent(
            eventType=RunState[state],
            eventTime=_time(timestamp),
            run=Run(runId=run_id, facets=run_facets),
            job=Job(
                namespace=self.namespace,
                name=self.job_name(str(key)),
                facets=self._job_facets(spec, sql),
            ),
            inputs=[InputDataset(namespace=ns, name=name) for ns, name, _ in inputs],
            outputs=outputs,
            producer=PRODUCER,
        )

    def _job_facets(self, spec: AssetSpec | None, sql: str | None = None) -> dict[str, Any]:
        facets: dict[str, Any] = {
            "jobType": job_type_job.JobTypeJobFacet(
                processingType="BATCH",
                integration="CATCHMENT",
                jobType="ASSET" if spec is not None else "RUN",
            )
        }
        if sql:
            facets["sql"] = sql_job.SQLJobFacet(query=sql, dialect=_dialect_name(spec))
        return facets

    def _column_lineage(
        self,
        lineage: ColumnLineage,
        inputs: list[tuple[str, str, TableRef | None]],
        output_id: tuple[str, str],
        spec: AssetSpec | None,
    ) -> Any:
        # a table the SQL names that no input is: in the inputs' system when there are any
        # (a Sling stream's SQL runs on its source); for SQL run where it writes (dbt), the
        # output's; a Sling stream with no known input: left out (its source is not named)
        if inputs:
            fallback: str | None = inputs[0][0]
        elif spec is not None and "sling" in spec.kinds:
            fallback = None
        else:
            fallback = output_id[0]
        candidates = [
            (t.database, t.schema, t.name) if t is not None else tuple(n.split("."))
            for _, n, t in inputs
        ]
        fields: dict[str, Any] = {}
        for column, sources in lineage.columns.items():
            if column == "*" or not sources:
                continue
            kind = lineage.kinds.get(column, "transformation")
            type_, subtype = _KIND_TO_SUBTYPE.get(kind, ("DIRECT", "TRANSFORMATION"))
            found = []
            for source in sources:
                index = match_table(source.table, candidates)
                if index is not None:
                    namespace, name = inputs[index][0], inputs[index][1]
                elif fallback is not None:  # named as the query names it
                    namespace, name = fallback, source.table
                else:
                    continue
                found.append(
                    column_lineage_dataset.InputField(
                        namespace=namespace,
                        name=name,
                        field=source.column,
                        transformations=[
                            column_lineage_dataset.Transformation(type=type_, subtype=subtype)
                        ],
                    )
                )
            if found:
                fields[column] = column_lineage_dataset.Fields(inputFields=found)
        return column_lineage_dataset.ColumnLineageDatasetFacet(fields=fields) if fields else None


def output_statistics_facet(rows: int) -> Any:
    """The output statistics facet: rows written."""
    from openlineage.client.facet_v2 import output_statistics_output_dataset

    return output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(rowCount=rows)


def _dialect_name(spec: AssetSpec | None) -> str | None:
    if spec is None or spec.table is None or "sling" in spec.kinds:
        return None
    return spec.table.system


def _catchment_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("catchment")
    except PackageNotFoundError:  # pragma: no cover - a source checkout without metadata
        return "0"
