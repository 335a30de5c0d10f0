"""``@spark_asset``: a Python function that receives the SparkSession (and its upstreams as
Spark DataFrames) and returns a DataFrame, which the Spark IO manager writes."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from catchment.context import StepContext
from catchment.definitions import AssetsDefinition, asset, code_version_of
from catchment.errors import DefinitionError
from catchment.keys import AssetKey, CoercibleToKey
from catchment.partitions import PartitionsDefinition
from catchment.results import StepResult
from catchment.specs import AssetDep, RetryPolicy
from catchment.tables import TableRef

from catchment_spark.reading import read_table, to_spark


class _ResourcesWithReads(Mapping[str, Any]):
    """The step's resources plus one entry per declared read, read on first access."""

    def __init__(self, resources: Mapping[str, Any], spark: Any, reads: Mapping[str, TableRef]):
        self._resources = resources
        self._spark = spark
        self._reads = reads
        self._loaded: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name in self._reads:
            if name not in self._loaded:
                self._loaded[name] = read_table(self._spark, self._reads[name])
            return self._loaded[name]
        return self._resources[name]

    def __iter__(self) -> Iterator[str]:
        yield from self._resources
        yield from (n for n in self._reads if n not in self._resources)

    def __len__(self) -> int:
        return len(set(self._resources) | set(self._reads))


class _SparkStepContext:
    """The engine's context, but upstreams load as Spark DataFrames and declared reads
    appear as extra 'resources' (read when the function asks for them)."""

    def __init__(self, inner: StepContext, resource_key: str, reads: Mapping[str, TableRef]):
        self._inner = inner
        self.spark = inner.resources[resource_key]
        self.resources = _ResourcesWithReads(inner.resources, self.spark, reads)

    def load_input(self, key: AssetKey) -> Any:
        return to_spark(self.spark, self._inner.load_input(key))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


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
            yield from inner(_SparkStepContext(context, resource_key, read_params))

        return base_defn.replace(compute=compute, adapter="spark", required_resources=own_resources)

    return decorate(fn) if fn is not None else decorate
