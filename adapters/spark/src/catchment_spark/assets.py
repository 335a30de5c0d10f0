"""Spark assets: ``@spark_asset`` (a Python function that receives the SparkSession, and its
upstreams as Spark DataFrames, and returns a DataFrame the Spark IO manager writes) and one
definition per PySpark script job of a ``spark`` component."""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from catchment.components import ComponentContext
from catchment.context import StepContext
from catchment.definitions import AssetsDefinition, asset, code_version_of
from catchment.errors import ConfigError, DefinitionError
from catchment.keys import AssetKey, CoercibleToKey
from catchment.partitions import PartitionsDefinition
from catchment.results import StepResult
from catchment.specs import AssetDep, AssetSpec, CheckSpec, RetryPolicy, spec
from catchment.tables import TableRef

from catchment_spark.attributes import Job, SparkAttributes
from catchment_spark.execution import SparkStepContext, SparkSubmit


def spark_asset(
    fn: Callable[..., Any] | None = None,
    *,
    key: CoercibleToKey | None = None,
    key_prefix: str | Sequence[str] | None = None,
    ins: Mapping[str, CoercibleToKey] | None = None,
    reads: Mapping[str, TableRef] | Iterable[TableRef] = (),
    deps: Iterable[CoercibleToKey | AssetDep] = (),
    description: str | None = None,
    group: str | None = None,
    owners: Iterable[str] = (),
    tags: Mapping[str, str] | None = None,
    kinds: Iterable[str] = (),
    metadata: Mapping[str, Any] | None = None,
    code_version: str | None = None,
    partitions: PartitionsDefinition | None = None,
    io_manager_key: str | None = "spark",
    resource_key: str = "spark",
    resources: Iterable[str] = (),
    table: TableRef | None = None,
    retry: RetryPolicy | None = None,
) -> Any:
    """Declare a Spark asset. The parameter named ``resource_key`` (``spark``) receives the
    SparkSession; other parameters are upstream assets, loaded as Spark DataFrames whatever
    stored them; ``reads={"orders": duckdb_table(...)}`` hands the parameter ``orders`` that
    relation as a DataFrame and links it in the graph to the asset that writes it. The
    returned DataFrame is stored by the IO manager ``io_manager_key`` (a ``SparkIOManager``).
    """
    read_params: dict[str, TableRef] = (
        dict(reads) if isinstance(reads, Mapping) else {}  # named reads become parameters
    )
    read_refs = tuple(read_params.values()) if isinstance(reads, Mapping) else tuple(reads)

    def decorate(func: Callable[..., Any]) -> AssetsDefinition:
        params = set(inspect.signature(func).parameters)
        if resource_key not in params:
            raise DefinitionError(
                f"@spark_asset {func.__name__}: needs a parameter {resource_key!r} "
                "for the SparkSession",
                where=f"{func.__code__.co_filename}:{func.__code__.co_firstlineno}",
                hint=f"def {func.__name__}({resource_key}, ...): return {resource_key}.sql(...)",
            )
        unknown = set(read_params) - params
        if unknown:
            raise DefinitionError(
                f"@spark_asset {func.__name__}: reads names unknown parameters {sorted(unknown)}",
                where=f"{func.__code__.co_filename}:{func.__code__.co_firstlineno}",
            )
        own_resources = frozenset({resource_key, *resources})
        base = asset(
            func,
            key=key,
            key_prefix=key_prefix,
            ins=ins,
            deps=deps,
            description=description,
            group=group,
            owners=owners,
            tags=tags,
            kinds=("spark", *kinds),
            metadata=metadata,
            code_version=code_version or code_version_of(func),
            partitions=partitions,
            io_manager_key=io_manager_key,
            resources=[*own_resources, *read_params],
            table=table,
            reads=read_refs,
            retry=retry,
        )
        base_defn: AssetsDefinition = base
        inner = base_defn.compute

        def compute(context: StepContext) -> Iterator[StepResult]:
            yield from inner(SparkStepContext(context, resource_key, read_params))

        return base_defn.replace(compute=compute, adapter="spark", required_resources=own_resources)

    return decorate(fn) if fn is not None else decorate


def _code_version(script: Path, job: Job) -> str:
    digest = hashlib.sha256(script.read_bytes())
    digest.update(json.dumps(job.model_dump(mode="json"), sort_keys=True).encode())
    return digest.hexdigest()[:16]


def job_definition(
    job: Job, index: int, attrs: SparkAttributes, context: ComponentContext
) -> AssetsDefinition:
    """One definition per script: its outputs are the specs, its inputs the deps and reads."""
    where = f"{context.source} attributes.jobs[{index}]"
    script = context.path(job.script)
    if not script.is_file():
        raise ConfigError(
            f"script {job.script!r} of job {job.name!r} does not exist",
            where=f"{where}.script",
            hint=f"paths are relative to the project folder {context.root}",
        )
    deps = [AssetKey.parse(i.asset) for i in job.inputs if i.asset]
    reads = tuple(i.ref(context) for i in job.inputs if not i.asset)
    version = _code_version(script, job)
    outputs: dict[AssetKey, TableRef] = {}
    specs: list[AssetSpec] = []
    for out in job.outputs:
        key = AssetKey.parse(out.key)
        if out.duckdb:
            raise ConfigError(
                f"output {out.key}: Spark jobs write paths or tables, not DuckDB",
                where=f"{where}.outputs",
                hint="give path: or table:",
            )
        ref = out.ref(context)
        outputs[key] = ref
        specs.append(
            spec(
                key,
                deps=deps,
                description=out.description or job.description,
                group=job.group or attrs.group,
                owners=job.owners or attrs.owners,
                tags={**job.tags, **out.tags},
                kinds=("spark", "parquet" if ref.system == "file" else ref.system),
                metadata={**out.metadata, "script": str(script), "job": job.name},
                code_version=version,
                checks=[
                    CheckSpec(
                        name=c.name,
                        asset=key,
                        severity=c.severity,
                        description=c.description,
                        blocking=c.blocking,
                    )
                    for c in out.checks
                ],
                table=ref,
                reads=reads,
            )
        )
    submit = SparkSubmit(
        master=attrs.master,
        conf={**attrs.conf, **job.conf},
        env={**attrs.env, **job.env},
        spark_submit=attrs.spark_submit,
        timeout=job.timeout,
    )

    def compute(step: StepContext) -> Iterator[StepResult]:
        yield from submit.run(
            step, script, args=job.args, outputs=outputs, inputs=reads, cwd=context.root
        )

    return AssetsDefinition(
        name=f"{context.name}.{job.name}",
        specs=tuple(specs),
        compute=compute,
        can_subset=False,
        source=where,
        component=context.name,
        adapter="spark",
        metadata={"script": str(script), "master": attrs.master},
    )
