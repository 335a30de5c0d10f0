"""Running one step, in whichever process executes it.

A ``StepRequest`` is plain data (names and strings), so it can cross a process or machine
boundary without pickling definitions: the worker looks the definition up by name in its own
``StepRuntime``. It returns the step's events; the engine records them.
"""

from __future__ import annotations

import io
import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import msgspec

from catchment.errors import CatchmentError
from catchment.events import (
    CheckData,
    Event,
    EventData,
    EventType,
    FailureData,
    LogData,
    MaterializationData,
    SkippedData,
    StepRetryData,
)
from catchment.execution.context import ExecutionStepContext, StepLog, io_manager_for
from catchment.io import PARTITION_METADATA, IOManager, OutputContext
from catchment.keys import AssetKey, CheckKey
from catchment.resources import Resource
from catchment.results import AssetFailure, AssetSkipped, CheckResult, MaterializeResult, Output
from catchment.secrets import redact
from catchment.specs import RetryPolicy
from catchment.timeouts import (
    KILL_GRACE_SECONDS,
    StepInterrupted,
    StepTimeout,
    format_seconds,
    interrupt_at,
)

if TYPE_CHECKING:
    from catchment.definitions import AssetsDefinition
    from catchment.graph import AssetGraph

MAX_CAPTURED_OUTPUT = 20_000
# The compute is interrupted this long after its deadline, so that a tool started through
# ToolProcess (killed AT the deadline) reports first, naming what it killed.
INTERRUPT_MARGIN = 0.5
CANCELED = "canceled: the run was interrupted (Ctrl-C) before this was built"


class StepRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Run definition ``step`` for ``asset_keys`` and ``check_ids`` (plain data)."""

    run_id: str
    step: str
    asset_keys: tuple[str, ...]
    check_ids: tuple[str, ...] = ()
    partition_keys: tuple[str, ...] = ()
    input_versions: dict[str, str | None] = msgspec.field(default_factory=dict)
    timeout: float | None = None  # seconds per attempt; the engine resolves it (see timeout_for)


@dataclass
class StepRuntime:
    """Everything a worker needs to run steps by name."""

    graph: AssetGraph
    resources: Mapping[str, Any] = field(default_factory=dict)
    io_managers: Mapping[str, IOManager] = field(default_factory=dict)
    project_root: Path = field(default_factory=Path.cwd)
    warehouse: Path | None = None
    default_retry: RetryPolicy | None = None
    default_timeout: float | None = None  # seconds per step attempt (``defaults: timeout:``)
    pools: Mapping[str, int] = field(default_factory=dict)  # the project's ``pools:`` limits
    pool_lease_seconds: float = 60.0  # a dead run's pool slots are free after this
    live: Callable[[Event], None] | None = None  # in-process: stream log events as they happen
    # What the log says of a step still running ``overdue_grace`` s past its deadline (where
    # it runs decides); the in-process executor sets the grace from ``kill_grace_seconds``
    overdue_grace: float = KILL_GRACE_SECONDS
    overdue_note: str = (
        "it is blocked where no exception reaches it (native code); "
        "run with --workers to have it killed"
    )
    sleep: Callable[[float], None] = time.sleep

    _inputs: dict[AssetKey, tuple[AssetKey, ...]] = field(default_factory=dict, repr=False)

    @property
    def warehouse_path(self) -> Path:
        return self.warehouse or self.project_root / "warehouse.duckdb"

    def timeout_for(self, defn: AssetsDefinition) -> float | None:
        """The time limit of one attempt of ``defn``'s step: its own, else the project's."""
        return defn.timeout if defn.timeout is not None else self.default_timeout

    def inputs_of(self, key: AssetKey) -> tuple[AssetKey, ...]:
        """``key``'s upstreams that are not external sources, sorted (cached: hot path)."""
        found = self._inputs.get(key)
        if found is None:
            graph = self.graph
            found = tuple(sorted(u for u in graph.upstream(key) if not graph.is_external(u)))
            self._inputs[key] = found
        return found


class _Tee(io.TextIOBase):
    """Keep what a compute prints (bounded) while still showing it."""

    def __init__(self, inner: TextIO, buffer: list[str]):
        self._inner = inner
        self._buffer = buffer

    def write(self, s: str) -> int:
        self._buffer.append(s)
        return self._inner.write(s)

    def flush(self) -> None:
        self._inner.flush()


def _jsonable(value: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = msgspec.to_builtins(dict(value), enc_hook=str, str_keys=True)
    return out


def _error_where(exc: BaseException, defn: AssetsDefinition) -> str | None:
    if isinstance(exc, CatchmentError) and exc.where:
        return exc.where
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return defn.source
    source_file = (defn.source or "").rpartition(":")[0]
    own = [f for f in frames if source_file and f.filename == source_file]
    frame = own[-1] if own else frames[-1]
    return f"{frame.filename}:{frame.lineno}"


# A compute that calls sys.exit (a tool's main()) fails its step, not the whole run; one
# interrupted at its deadline fails as timed out.
_COMPUTE_ERRORS = (Exception, SystemExit, StepInterrupted)


def _error_data(exc: BaseException, defn: AssetsDefinition, output: str) -> FailureData:
    if isinstance(exc, CatchmentError):
        message = exc.message
    elif isinstance(exc, SystemExit):
        message = f"the compute called sys.exit({exc.code!r})"
    else:
        message = str(exc)
    return FailureData(
        error_class=type(exc).__name__,
        message=redact(message) or type(exc).__name__,
        where=_error_where(exc, defn),
        output=redact(output[-MAX_CAPTURED_OUTPUT:]),
        hint=exc.hint if isinstance(exc, CatchmentError) else None,
    )


class _Attempt:
    """One try at a step: runs the compute and turns what it yields into events."""

    def __init__(
        self,
        runtime: StepRuntime,
        request: StepRequest,
        defn: AssetsDefinition,
        keys: frozenset[AssetKey],
        checks: frozenset[str],
        attempt: int,
    ):
        self.runtime = runtime
        self.request = request
        self.defn = defn
        self.keys = keys
        self.checks = checks
        self.attempt = attempt
        self.events: list[Event] = []
        self.reported: set[AssetKey] = set()
        self.failed: set[AssetKey] = set()
        self.skipped: set[AssetKey] = set()
        self.checked: set[str] = set()  # check ids the compute reported
        self.produced: dict[str, str] = {}  # asset -> data version made in this attempt
        self.error: FailureData | None = None
        self.canceled = False  # Ctrl-C reached the compute
        self.io_resources: Mapping[str, Any] = runtime.resources
        self.output: list[str] = []
        self._last = time.perf_counter()
        self.timeout = request.timeout
        self.deadline = None if self.timeout is None else time.monotonic() + self.timeout

    def emit(self, event: Event) -> None:
        self.events.append(event)
        if self.runtime.live is not None and event.type is EventType.LOG:
            self.runtime.live(event)

    def _event(
        self,
        type: EventType,
        key: AssetKey | str | None,
        payload: EventData,
        partition: str | None = None,
    ) -> Event:
        return Event.of(
            self.request.run_id,
            type,
            payload,
            step_key=self.defn.name,
            asset_key=str(key) if key is not None else None,
            partition=partition,
        )

    def run(self) -> None:
        defn = self.defn
        single = str(next(iter(self.keys))) if len(self.keys) == 1 else None
        log = StepLog(self.request.run_id, defn.name, single, self.emit)
        out, err = sys.stdout, sys.stderr

        def overdue() -> None:
            limit = format_seconds(self.timeout or 0.0)
            log.error(
                "step %s passed its %s s timeout but is still running: %s",
                defn.name,
                limit,
                self.runtime.overdue_note,
            )

        try:
            interrupt = None if self.deadline is None else self.deadline + INTERRUPT_MARGIN
            grace = self.runtime.overdue_grace
            with interrupt_at(interrupt, on_overdue=overdue, grace=grace), ExitStack() as stack:
                self._compute(stack, log, out, err)
        except _COMPUTE_ERRORS as exc:  # a resource's teardown failed, or the deadline hit
            if self.error is None:
                self.error = _error_data(exc, defn, "".join(self.output))
        self._timed_out()
        self._finish()

    def _timed_out(self) -> None:
        """Past the deadline, whatever the compute raised (a tool killed under it, a query
        cancelled) is reported as the timeout it is."""
        if self.error is None or self.deadline is None or self.timeout is None:
            return
        cause = self.error
        kind = cause.error_class
        if kind == "StepTimeout":
            return  # a tool's own report, naming what was killed
        if time.monotonic() < self.deadline and kind != "StepInterrupted":
            return
        where = cause.where or self.defn.label
        timeout = _error_data(StepTimeout(self.timeout, where=where), self.defn, cause.output)
        if kind != "StepInterrupted":
            timeout.message = f"{timeout.message} (then: {kind}: {cause.message})"
        timeout.where = where
        self.error = timeout

    def _compute(self, stack: ExitStack, log: StepLog, out: TextIO, err: TextIO) -> None:
        runtime, defn, request = self.runtime, self.defn, self.request
        try:
            resources = self._open_resources(stack)
            # IO managers see what the step opened, and the configured resources otherwise.
            self.io_resources = {**runtime.resources, **resources}
            context = ExecutionStepContext(
                run_id=request.run_id,
                step_key=defn.name,
                selected_keys=self.keys,
                selected_checks=self.checks,
                partition_keys=self._partition_keys(),
                resources=resources,
                log=log,
                project_root=runtime.project_root,
                warehouse=runtime.warehouse_path,
                attempt=self.attempt,
                graph=runtime.graph,
                io_managers=runtime.io_managers,
                io_resources=self.io_resources,
                deadline=self.deadline,
                timeout=self.timeout,
            )
            sys.stdout = _Tee(out, self.output)
            sys.stderr = _Tee(err, self.output)
            self._last = time.perf_counter()
            for result in defn.compute(context):
                self._handle(result, context)
        except _COMPUTE_ERRORS as exc:
            self.error = _error_data(exc, defn, "".join(self.output))
        except KeyboardInterrupt:
            # recorded as canceled (what it built so far stays); the engine then stops
            self.canceled = True
            self.error = FailureData(error_class="Canceled", message=CANCELED, where=defn.label)
        finally:
            sys.stdout, sys.stderr = out, err

    def _partition_keys(self) -> tuple[str, ...]:
        """The run's partitions, for a step with a partitioned asset (or only checks); a step of
        unpartitioned assets runs once, unaware of them, in a run that mixes both."""
        specs = self.runtime.graph.specs
        if self.keys and all(specs[k].partitions is None for k in self.keys):
            return ()
        return self.request.partition_keys

    def _open_resources(self, stack: ExitStack) -> dict[str, Any]:
        opened: dict[str, Any] = {}
        for name in sorted(self.defn.required_resources):
            if name not in self.runtime.resources:
                raise CatchmentError(
                    f"resource {name!r} is not configured",
                    where=f"step {self.defn.name}",
                    hint=f"add {name!r} under resources: in catchment.yaml (or pass resources=)",
                )
            value = self.runtime.resources[name]
            opened[name] = (
                stack.enter_context(value.open()) if isinstance(value, Resource) else value
            )
        return opened

    def _handle(self, result: Any, context: ExecutionStepContext) -> None:
        if (
            self.deadline is not None
            and time.monotonic() > self.deadline
            and not isinstance(result, AssetFailure | AssetSkipped)
        ):
            # a compute that ignored its deadline: what it builds now is not recorded
            # (failures it reports, e.g. a killed tool's, still are)
            raise StepInterrupted
        now = time.perf_counter()
        duration, self._last = now - self._last, now
        if isinstance(result, CheckResult):
            self._check(result, self._check_target(result, None))
            return
        if not isinstance(result, Output | MaterializeResult | AssetFailure | AssetSkipped):
            raise CatchmentError(
                f"the compute yielded {type(result).__name__}, not a result",
                where=self.defn.label,
                hint="yield Output, MaterializeResult, AssetFailure, AssetSkipped or CheckResult",
            )
        key = result.key if result.key is not None else self._only_key(result)
        if key not in self.keys:
            if key in self.defn.keys:  # built although not selected: note it, record nothing
                self.emit(
                    self._event(
                        EventType.LOG,
                        key,
                        LogData(
                            level="warning",
                            message=f"{key} was not selected; its result is ignored",
                        ),
                    )
                )
                return
            raise CatchmentError(
                f"the compute reported asset {key}, which this definition does not declare",
                where=self.defn.label,
            )
        # checks it evaluated on the way: their assets told apart before anything is recorded
        nested = (
            [(c, self._check_target(c, key)) for c in result.check_results]
            if isinstance(result, MaterializeResult)
            else []
        )
        self.reported.add(key)
        if isinstance(result, AssetFailure):
            self.failed.add(key)
            failure = FailureData(
                error_class=result.error_class or "AssetFailure",
                message=result.message,
                where=result.where or self.defn.source,
                output=(result.output or "")[-MAX_CAPTURED_OUTPUT:],
                hint=result.hint,
            )
            self.emit(self._event(EventType.ASSET_FAILED, key, failure))
        elif isinstance(result, AssetSkipped):
            self.skipped.add(key)
            self.emit(self._event(EventType.ASSET_SKIPPED, key, SkippedData(reason=result.reason)))
        else:
            try:
                self._materialized(key, result, duration)
            except BaseException:
                # The IO manager failed to store it: not reported, so it is recorded as failed.
                self.reported.discard(key)
                raise
            for check, checked in nested:
                self._check(check, checked)

    def _only_key(
        self, result: Output | MaterializeResult | AssetFailure | AssetSkipped
    ) -> AssetKey:
        """The key of a result that names none: the definition's one asset (as in Dagster)."""
        keys = self.defn.keys
        if len(keys) == 1:
            return keys[0]
        kind = type(result).__name__
        raise CatchmentError(
            f"the compute of {self.defn.name} yielded a {kind} without a key, but the "
            f"definition has {len(keys)} assets",
            where=self.defn.label,
            hint=f"pass key= to say which asset it is, e.g. {kind}(key={str(keys[0])!r}, ...)",
        )

    def _check_target(self, result: CheckResult, owner: AssetKey | None) -> CheckKey:
        """The check ``result`` reports: on the asset :meth:`_check_key` tells, named by its
        own ``check_name``, else the one check the definition declares on that asset (an
        ``@asset_check``'s own, an ``@asset(check_specs=[...])``'s only one), as in Dagster."""
        key = self._check_key(result, owner)
        if result.check_name is not None:
            return CheckKey(key, result.check_name)
        defn = self.defn
        declared = [c.name for c in defn.all_check_specs if c.asset == key]
        if len(declared) == 1:
            return CheckKey(key, declared[0])
        names = ", ".join(declared) or "none"
        example = declared[0] if declared else "row_count"
        more = (
            ""
            if declared
            else f", or declare the check: check_specs=[CheckSpec(name={example!r}, "
            f"asset={str(key)!r})]"
        )
        raise CatchmentError(
            f"the compute of {defn.name} yielded a CheckResult on {key} without a check_name, "
            f"but the definition declares {len(declared)} checks on it ({names}), so it cannot "
            "tell which one it is",
            where=defn.label,
            hint=f"pass check_name=, e.g. CheckResult(check_name={example!r}, ...){more}",
        )

    def _check_key(self, result: CheckResult, owner: AssetKey | None) -> AssetKey:
        """The asset ``result`` checks: its own ``asset_key``, else that of the
        ``MaterializeResult`` it came in (``owner``), else the definition's one asset (or, for
        a definition of checks only, the one asset they check), as in Dagster. An asset the
        definition neither builds nor checks is refused, naming both."""
        defn = self.defn
        checked = tuple(dict.fromkeys(c.asset for c in defn.all_check_specs))
        key = result.asset_key or owner
        named = f" {result.check_name!r}" if result.check_name is not None else ""
        if key is None:
            candidates = defn.keys or checked
            if len(candidates) != 1:
                example = str(candidates[0]) if candidates else "raw/orders"
                name = f", check_name={result.check_name!r}" if named else ""
                raise CatchmentError(
                    f"the compute of {defn.name} yielded CheckResult{named} "
                    f"without an asset_key, but the definition has {len(candidates)} assets "
                    f"({', '.join(map(str, candidates)) or 'none'}), so it cannot tell which "
                    "one it checks",
                    where=defn.label,
                    hint=f"pass asset_key=, e.g. CheckResult(asset_key={example!r}{name}, "
                    "...), or return it in that asset's MaterializeResult(check_results=[...])",
                )
            key = candidates[0]
        if key not in defn.keys and key not in checked:
            known = ", ".join(map(str, dict.fromkeys((*defn.keys, *checked)))) or "none"
            raise CatchmentError(
                f"the compute of {defn.name} reported check{named} on asset "
                f"{key}, which this definition does not declare (its assets: {known})",
                where=defn.label,
                hint="report checks only on the definition's own assets; check another asset "
                "with @asset_check(asset=...)",
            )
        return key

    def _materialized(
        self, key: AssetKey, result: Output | MaterializeResult, duration: float
    ) -> None:
        graph, request = self.runtime.graph, self.request
        spec = graph.specs[key]
        metadata: dict[str, Any] = dict(result.metadata)
        parts = request.partition_keys if spec.partitions is not None else ()
        if isinstance(result, Output):
            manager = io_manager_for(spec, self.runtime.io_managers, f"step {self.defn.name}")
            context = OutputContext(
                key=key,
                spec=spec,
                run_id=request.run_id,
                partition_key=parts[0] if len(parts) == 1 else None,
                partition_keys=parts,
                resources=self.io_resources,
            )
            stored = dict(manager.handle_output(context, result.value) or {})
            split = stored.pop(PARTITION_METADATA, None) or _rows_by_partition(result.value, parts)
            metadata.update(stored)
            shape = getattr(result.value, "shape", None)
            if "rows" not in metadata and isinstance(shape, tuple) and shape:
                metadata["rows"] = shape[0]
            per_partition = _merge_partition_metadata(split, result.partition_metadata)
        else:
            per_partition = _merge_partition_metadata({}, result.partition_metadata)
        metadata.setdefault("duration", round(duration, 6))
        table = spec.table or metadata.get("table")
        version = result.data_version or os.urandom(8).hex()
        data = MaterializationData(
            metadata=_jsonable(metadata),
            code_version=spec.code_version,
            data_version=version,
            # An upstream built earlier in this same step (dbt, Snowflake objects) was read
            # at the version it just got, not the one it had when the step started.
            input_versions={
                name: self.produced.get(name, request.input_versions.get(name))
                for name in map(str, self.runtime.inputs_of(key))
            },
            table=str(table) if table is not None else None,
        )
        self.produced[str(key)] = version
        for partition in parts or (None,):
            own = _partition_data(data, metadata, per_partition, partition, len(parts))
            self.emit(self._event(EventType.MATERIALIZATION, key, own, partition))

    def _check(self, result: CheckResult, target: CheckKey) -> None:
        """Record ``result``, the verdict of check ``target``."""
        key = target.asset
        check_id = target.to_string()
        self.checked.add(check_id)
        severity = result.severity
        if severity is None:
            spec = next(
                (c for c in self.runtime.graph.checks_for(key) if c.id == check_id),
                None,
            )
            severity = spec.severity if spec is not None else "error"
        data = CheckData(
            check_name=target.name,
            passed=result.passed,
            severity=severity,
            metadata=_jsonable(result.metadata),
            description=result.description,
        )
        self.emit(self._event(EventType.CHECK_EVALUATED, key, data))

    def _finish(self) -> None:
        missing = sorted(self.keys - self.reported)
        if self.canceled:
            for key in missing:
                self.skipped.add(key)
                self.emit(self._event(EventType.ASSET_SKIPPED, key, SkippedData(reason=CANCELED)))
            return
        if self.error is not None:
            self.emit(self._event(EventType.STEP_FAILED, None, self.error))
            for key in missing:
                self.failed.add(key)
                self.emit(self._event(EventType.ASSET_FAILED, key, self.error))
        else:
            for key in missing:
                self.failed.add(key)
                self.emit(
                    self._event(
                        EventType.ASSET_FAILED,
                        key,
                        FailureData(
                            error_class="MissingResult",
                            message=f"the compute of {self.defn.name} finished without "
                            f"reporting {key}",
                            where=self.defn.source,
                            output="".join(self.output)[-MAX_CAPTURED_OUTPUT:],
                        ),
                    )
                )
        self._unreported_checks()

    def _unreported_checks(self) -> None:
        """A selected check the compute never reported counts as failed, so a blocking check
        that did not run cannot let downstream assets through. Checks of assets that failed or
        were skipped in this step are left alone: there was nothing to check."""
        if self.error is not None:
            return
        built = self.built
        for check_id in sorted(self.checks - self.checked):
            key, name = CheckKey.parse(check_id)
            if key in self.keys and key not in built:
                continue
            self._check(
                CheckResult(
                    asset_key=key,
                    check_name=name,
                    passed=False,
                    metadata={"reason": f"the compute of {self.defn.name} did not report it"},
                ),
                CheckKey(key, name),
            )

    @property
    def built(self) -> set[AssetKey]:
        """Assets this attempt materialized (reported, and neither failed nor skipped)."""
        return self.reported - self.failed - self.skipped

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failed


def run_step(runtime: StepRuntime, request: StepRequest, *, first_attempt: int = 0) -> list[Event]:
    """Run one step, retrying per its ``RetryPolicy``, and return the events it produced.

    A failed attempt's failure events are replaced by one ``step_retry`` event; what the
    attempt did materialize stays recorded. A definition that can subset retries only the
    assets that failed. ``first_attempt`` counts attempts already spent elsewhere (a
    distributed worker that died mid-step).
    """
    defn = runtime.graph.definitions[request.step]
    keys = frozenset(AssetKey(k) for k in request.asset_keys)
    checks = frozenset(request.check_ids)
    policy = defn.retry or runtime.default_retry or RetryPolicy()
    events: list[Event] = []
    attempt = first_attempt
    while True:
        run = _Attempt(runtime, request, defn, keys, checks, attempt)
        run.run()
        if run.ok or run.canceled or attempt >= policy.max_retries:
            events.extend(run.events)
            return events
        wait = policy.wait_for(attempt)
        # The next attempt decides the fate of what this one failed or skipped: drop those
        # verdicts, keep what it built.
        superseded = (EventType.ASSET_FAILED, EventType.STEP_FAILED, EventType.ASSET_SKIPPED)
        events.extend(e for e in run.events if e.type not in superseded)
        first = run.error or next(
            (e.failure for e in run.events if e.type is EventType.ASSET_FAILED), FailureData()
        )
        retry = StepRetryData(
            attempt=attempt + 1,
            of=policy.max_retries,
            wait=wait,
            failed=sorted(str(k) for k in run.failed),
            error_class=first.error_class,
            message=first.message,
            where=first.where,
        )
        events.append(Event.of(request.run_id, EventType.STEP_RETRY, retry, step_key=defn.name))
        # A definition that can subset retries only what it did not build, whether its
        # assets failed one by one or the compute crashed part way through.
        remaining = keys - run.built
        if defn.can_subset and remaining:
            keys = frozenset(remaining)
            checks = frozenset(c for c in checks if CheckKey.parse(c).asset in keys)
        if wait > 0:
            runtime.sleep(wait)
        attempt += 1


def _rows_by_partition(value: Any, parts: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Rows per partition of a range run's ``{partition_key: frame}`` output."""
    if len(parts) < 2 or not isinstance(value, Mapping):
        return {}
    out: dict[str, dict[str, Any]] = {}
    for part, frame in value.items():
        shape = getattr(frame, "shape", None)
        if isinstance(shape, tuple) and shape:
            out[str(part)] = {"rows": shape[0]}
    return out


def _merge_partition_metadata(
    found: Mapping[str, Mapping[str, Any]], given: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Per-partition metadata: what the IO manager found, then what the compute said."""
    out = {str(p): dict(m) for p, m in found.items()}
    for part, meta in given.items():
        out.setdefault(str(part), {}).update(meta)
    return out


def _partition_data(
    data: MaterializationData,
    metadata: Mapping[str, Any],
    per_partition: Mapping[str, Mapping[str, Any]],
    partition: str | None,
    count: int,
) -> MaterializationData:
    """One partition's record: its own metadata over the run's; in a range run a row count
    that is not the partition's own is kept as ``run_rows`` (it counts the whole range)."""
    if count < 2 or partition is None:
        return data
    own = per_partition.get(partition, {})
    merged = {**metadata, **own}
    if "rows" in metadata and "rows" not in own:
        merged["run_rows"] = merged.pop("rows")
    if merged == metadata:
        return data
    return msgspec.structs.replace(data, metadata=_jsonable(merged))
