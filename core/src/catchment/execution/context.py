"""The concrete ``StepContext`` a compute receives while its step runs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catchment.errors import ExecutionError
from catchment.events import Event, EventType, LogData
from catchment.io import InputContext, IOManager
from catchment.keys import AssetKey, CheckKey
from catchment.secrets import redact
from catchment.specs import AssetSpec, CheckSpec

if TYPE_CHECKING:
    from catchment.graph import AssetGraph


class StepLog:
    """``context.log``: each line becomes a ``log`` event of the run."""

    __slots__ = ("_asset", "_emit", "_run_id", "_step")

    def __init__(
        self, run_id: str, step: str, asset_key: str | None, emit: Callable[[Event], None]
    ):
        self._run_id = run_id
        self._step = step
        self._asset = asset_key
        self._emit = emit

    def _log(self, level: str, msg: str, args: tuple[Any, ...]) -> None:
        text = redact(str(msg) % args if args else str(msg))  # a tool's line may hold a DSN
        self._emit(
            Event.of(
                self._run_id,
                EventType.LOG,
                LogData(level=level, message=text),
                step_key=self._step,
                asset_key=self._asset,
            )
        )

    def debug(self, msg: str, *args: Any) -> None:
        self._log("debug", msg, args)

    def info(self, msg: str, *args: Any) -> None:
        self._log("info", msg, args)

    def warning(self, msg: str, *args: Any) -> None:
        self._log("warning", msg, args)

    def error(self, msg: str, *args: Any) -> None:
        self._log("error", msg, args)


def io_manager_for(spec: AssetSpec, io_managers: Mapping[str, IOManager], where: str) -> IOManager:
    """The IO manager that stores ``spec`` (its ``io_manager_key``, else ``default``)."""
    name = spec.io_manager_key or "default"
    manager = io_managers.get(name)
    if manager is None:
        raise ExecutionError(
            f"asset {spec.key} uses IO manager {name!r}, which is not configured",
            where=where,
            hint=f"add {name!r} under io_managers: in catchment.yaml (or pass io_managers=)",
        )
    return manager


def upstream_partitions(
    graph: AssetGraph,
    downstream: AssetSpec | None,
    upstream: AssetSpec,
    partition_keys: tuple[str, ...],
) -> tuple[str, ...]:
    """The partitions of ``upstream`` that ``downstream`` reads for this run's partitions."""
    if upstream.partitions is None:
        return ()
    mapping = None
    if downstream is not None:
        for dep in downstream.deps:
            if dep.key == upstream.key:
                mapping = dep.partition_mapping
    if mapping is None:
        return partition_keys
    keys: list[str] = []
    down_parts = downstream.partitions if downstream is not None else None
    for p in partition_keys or (None,):
        for k in mapping.upstream_keys(p, down_parts, upstream.partitions):
            if k not in keys:
                keys.append(k)
    return tuple(keys)


class ExecutionStepContext:
    """What a compute may use: the selection, partitions, opened resources, log, inputs."""

    def __init__(
        self,
        *,
        run_id: str,
        step_key: str,
        selected_keys: frozenset[AssetKey],
        selected_checks: frozenset[str],
        partition_keys: tuple[str, ...],
        resources: Mapping[str, Any],
        log: StepLog,
        project_root: Path,
        warehouse: Path,
        attempt: int,
        graph: AssetGraph,
        io_managers: Mapping[str, IOManager],
        io_resources: Mapping[str, Any] | None = None,
        deadline: float | None = None,
        timeout: float | None = None,
    ):
        """``io_resources``: what IO managers receive (default: ``resources``);
        ``deadline``: the ``time.monotonic()`` instant this attempt must end by."""
        self._run_id = run_id
        self._step_key = step_key
        self._selected_keys = selected_keys
        self._selected_checks = selected_checks
        self._partition_keys = partition_keys
        self._resources = resources
        self._log = log
        self._project_root = project_root
        self._warehouse = warehouse
        self._attempt = attempt
        self._graph = graph
        self._io_managers = io_managers
        self._io_resources = resources if io_resources is None else io_resources
        self._deadline = deadline
        self._timeout = timeout
        self.loaded: dict[AssetKey, None] = {}

    @property
    def deadline(self) -> float | None:
        """When this attempt must end (``time.monotonic()``), or None without a time limit."""
        return self._deadline

    @property
    def timeout(self) -> float | None:
        """The step's time limit in seconds (what ``deadline`` was computed from)."""
        return self._timeout

    @property
    def run_id(self) -> str:
        return self._run_id

    @property
    def step_key(self) -> str:
        return self._step_key

    @property
    def selected_keys(self) -> frozenset[AssetKey]:
        return self._selected_keys

    @property
    def selected_checks(self) -> frozenset[str]:
        return self._selected_checks

    @property
    def partition_key(self) -> str | None:
        return self._partition_keys[0] if len(self._partition_keys) == 1 else None

    @property
    def partition_keys(self) -> tuple[str, ...]:
        return self._partition_keys

    @property
    def resources(self) -> Mapping[str, Any]:
        return self._resources

    @property
    def log(self) -> StepLog:
        return self._log

    @property
    def project_root(self) -> Path:
        return self._project_root

    @property
    def warehouse(self) -> Path:
        return self._warehouse

    @property
    def attempt(self) -> int:
        return self._attempt

    def spec(self, key: AssetKey) -> AssetSpec:
        """The spec of any asset in the graph."""
        found = self._graph.specs.get(AssetKey.parse(key))
        if found is None:
            raise ExecutionError(f"no asset {key} in the graph", where=f"step {self._step_key}")
        return found

    def check_spec(self, check_id: str) -> CheckSpec:
        """The check named by ``CheckSpec.id`` (``asset:name``)."""
        for check in self._graph.checks_for(CheckKey.parse(check_id).asset):
            if check.id == check_id:
                return check
        raise ExecutionError(f"no check {check_id} in the graph", where=f"step {self._step_key}")

    def load_input(self, key: AssetKey) -> Any:
        """Load an upstream asset's value through the IO manager that stored it."""
        key = AssetKey.parse(key)
        where = f"step {self._step_key}"
        upstream = self.spec(key)
        if self._graph.is_external(key):
            raise ExecutionError(
                f"asset {key} is an external source: no IO manager holds its value",
                where=where,
                hint=f"read the relation {upstream.table} directly",
            )
        if upstream.writes_own_data:
            raise ExecutionError(
                f"asset {key} returns MaterializeResult (it writes its own data): no IO manager "
                "stored a value of it to load",
                where=where,
                hint=f"name it in deps=[{str(key)!r}] instead of loading it, and read its data "
                "where it wrote it",
            )
        downstream_key = next(iter(self._selected_keys)) if len(self._selected_keys) == 1 else None
        downstream = self._graph.specs.get(downstream_key) if downstream_key else None
        context = InputContext(
            key=key,
            spec=upstream,
            downstream_key=downstream_key,
            partition_keys=upstream_partitions(
                self._graph, downstream, upstream, self._partition_keys
            ),
            resources=self._io_resources,
        )
        value = io_manager_for(upstream, self._io_managers, where).load_input(context)
        self.loaded[key] = None
        return value
