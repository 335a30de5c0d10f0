"""Running any subset of a dbt component in ONE ``dbt build`` and streaming per-node results.

The compute selects exactly the step's assets and checks (``--indirect-selection empty`` so
dbt adds no tests of its own), reuses the already parsed manifest, and turns dbt's
``NodeFinished`` events into catchment results while dbt is still running: a
``MaterializeResult`` per built node (rows affected, execution time, relation, compiled SQL
path), a ``CheckResult`` per test, an ``AssetFailure`` naming the node's file with dbt's
message, an ``AssetSkipped`` for nodes dbt skipped after an upstream failure.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catchment.context import StepContext
from catchment.keys import AssetKey
from catchment.multi_partitions import MultiPartitions
from catchment.partitions import PartitionsDefinition, TimeWindowPartitions
from catchment.results import (
    AssetFailure,
    AssetSkipped,
    CheckResult,
    MaterializeResult,
    StepResult,
)
from catchment.specs import CheckSpec
from catchment.timeouts import StepTimeout, deadline_of, remaining

from catchment_dbt.manifest import Manifest
from catchment_dbt.project import DbtProject
from catchment_dbt.runner import cancel_running
from catchment_dbt.selection import NodeIndex, select_args
from catchment_dbt.translation import Translation

UNIT_TESTS_ENV = "CATCHMENT_DBT_UNIT_TESTS"
STOP_GRACE = 10.0  # seconds dbt gets to end after its queries were cancelled
_DONE = object()


@dataclass(frozen=True)
class RunOptions:
    """How a component's runs call dbt."""

    partitions: PartitionsDefinition | None = None
    min_var: str = "min_date"
    max_var: str = "max_date"
    key_var: str = "partition_key"
    var_format: str | None = None
    run_unit_tests: bool = False
    extra_args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)


def unit_tests_enabled(attribute: bool) -> bool:
    """Unit tests are declared (and so run) when the component asks, or for a session with
    ``CATCHMENT_DBT_UNIT_TESTS=1``: the core runs every declared check of a selected asset."""
    flag = os.environ.get(UNIT_TESTS_ENV, "").strip().lower()
    return attribute or flag in {"1", "true", "yes"}


def partition_vars(
    partitions: PartitionsDefinition | None,
    keys: tuple[str, ...],
    options: RunOptions,
) -> dict[str, str]:
    """The vars a partitioned run passes: ``[min_var, max_var)`` for time windows covering
    ``keys`` (first window's start to last window's end), ``key_var`` for static keys (and
    for the static part of time x static keys, comma-separated)."""
    if partitions is None or not keys:
        return {}
    if isinstance(partitions, MultiPartitions):
        # time x static: the window vars span the keys' windows; key_var lists the statics
        times = sorted({partitions.split(k)[0] for k in keys}, key=lambda k: k)
        statics = list(dict.fromkeys(partitions.static_of(k) for k in keys))
        out = partition_vars(partitions.time, tuple(times), options)
        out[options.key_var] = ",".join(statics)
        return out
    if isinstance(partitions, TimeWindowPartitions):
        ordered = sorted(keys, key=lambda k: partitions.window(k)[0])
        start = partitions.window(ordered[0])[0]
        end = partitions.window(ordered[-1])[1]
        fmt = options.var_format or (
            "%Y-%m-%d %H:%M:%S" if partitions.cadence == "hourly" else "%Y-%m-%d"
        )
        return {options.min_var: start.strftime(fmt), options.max_var: end.strftime(fmt)}
    return {options.key_var: keys[0] if len(keys) == 1 else ",".join(keys)}


class DbtCompute:
    """The compute of a dbt component: ``compute(context)`` yields one result per node."""

    def __init__(
        self,
        project: DbtProject,
        translation: Translation,
        manifest_path: Path,
        manifest: Manifest | None,
        options: RunOptions,
    ):
        self.project = project
        self.translation = translation
        self.manifest_path = manifest_path
        self._manifest = manifest
        self.options = options
        self._index: NodeIndex | None = None

    @property
    def manifest(self) -> Manifest:
        """The decoded manifest; read on first use when the translation came from its cache."""
        if self._manifest is None:
            self._manifest = self.project.load_manifest_at(self.manifest_path)
        return self._manifest

    @property
    def index(self) -> NodeIndex:
        """The fqn index of the manifest, built on the first run (discovery does not need it)."""
        if self._index is None:
            self._index = NodeIndex.of(self.manifest)
        return self._index

    def wanted(self, context: StepContext) -> tuple[dict[str, AssetKey], dict[str, CheckSpec]]:
        """(nodes to build by unique id, tests to run by unique id) for this step."""
        tr = self.translation
        nodes = {tr.node_of[k]: k for k in context.selected_keys if k in tr.node_of}
        tests: dict[str, CheckSpec] = {}
        for check_id in context.selected_checks:
            uid = tr.test_of_check.get(check_id)
            if uid is None:
                continue
            tests[uid] = tr.checks_of_test[uid]
        return nodes, tests

    def args(self, wanted: set[str], extra_vars: Mapping[str, str]) -> list[str]:
        """The ``dbt build`` command line for exactly ``wanted``."""
        select, exclude = select_args(self.index, wanted)
        args = ["build", *self.project.cli_args(extra_vars), "--select", *select]
        if exclude:
            args += ["--exclude", *exclude]
        args += ["--indirect-selection", "empty", "--log-level", "none", *self.options.extra_args]
        return args

    def __call__(self, context: StepContext) -> Iterator[StepResult]:
        nodes, tests = self.wanted(context)
        if not nodes and not tests:
            return
        keys = context.partition_keys or ((context.partition_key,) if context.partition_key else ())
        args = self.args(
            set(nodes) | set(tests), partition_vars(self.options.partitions, keys, self.options)
        )
        manifest = self.project.dbt_manifest(self.manifest_path)
        results: queue.Queue[Any] = queue.Queue()
        handler = _Handler(self, nodes, tests, results)
        failure: list[str] = []
        deadline = deadline_of(context)
        limit = getattr(context, "timeout", None)

        def run() -> None:
            try:
                outcome = self.project.invoke(
                    args, manifest=manifest, callbacks=[handler], deadline=deadline, limit=limit
                )
                if outcome.exception is not None:
                    failure.append(f"{type(outcome.exception).__name__}: {outcome.exception}")
            except BaseException as exc:
                failure.append(f"{type(exc).__name__}: {exc}")
            finally:
                results.put(_DONE)

        context.log.info("dbt %s", " ".join(_short(args)))
        worker = threading.Thread(target=run, name=f"dbt-{context.step_key}", daemon=True)
        worker.start()
        try:
            while (item := _next(results, deadline, limit)) is not _DONE:
                yield item
        finally:
            if worker.is_alive():  # timed out, canceled, or the step stopped reading
                _stop(worker, context)
        worker.join()
        for uid in nodes.keys() - handler.reported:
            yield AssetFailure(
                key=nodes[uid],
                message=failure[0] if failure else "dbt finished without reporting on this node",
                error_class="DbtRunError",
                where=self.file_of(uid),
            )

    def file_of(self, uid: str) -> str | None:
        rel = self.translation.files.get(uid)
        return str(self.project.project_dir / rel) if rel else None

    def compiled_path(self, uid: str, package: str) -> str | None:
        rel = self.translation.files.get(uid)
        if not rel:
            return None
        path = self.project.target_path / "compiled" / package / rel
        return str(path) if path.is_file() else None


class _Handler:
    """dbt callback: turns ``NodeFinished`` events into results (called on dbt's threads)."""

    def __init__(
        self,
        compute: DbtCompute,
        nodes: Mapping[str, AssetKey],
        tests: Mapping[str, CheckSpec],
        out: queue.Queue[Any],
    ):
        self.compute = compute
        self.nodes = nodes
        self.tests = tests
        self.out = out
        self.reported: set[str] = set()
        self.project_name = compute.project.name

    def __call__(self, event: Any) -> None:
        if event.info.name != "NodeFinished":
            return
        data = event.data
        uid = data.node_info.unique_id
        rr = data.run_result
        if uid in self.nodes:
            self.reported.add(uid)
            self.out.put(self._node_result(uid, data, rr))
        elif uid in self.tests:
            result = self._test_result(uid, rr)
            if result is not None:
                self.out.put(result)

    def _node_result(self, uid: str, data: Any, rr: Any) -> StepResult:
        key = self.nodes[uid]
        status = rr.status
        if status == "success":
            response = _response(rr.adapter_response)
            spec_table = self.compute.translation.tables.get(key)
            meta: dict[str, Any] = {
                "execution_time": round(float(rr.execution_time), 4),
                "dbt_status": status,
            }
            if "rows_affected" in response:
                meta["rows_affected"] = int(response["rows_affected"])
            if rr.message:
                meta["dbt_message"] = rr.message
            relation = data.node_info.node_relation.relation_name
            if relation:
                meta["relation"] = relation
            if spec_table is not None:
                meta["table"] = str(spec_table)
            package = uid.split(".")[1] if uid.count(".") >= 2 else self.project_name
            compiled = self.compute.compiled_path(uid, package)
            if compiled:
                meta["compiled_code_path"] = compiled
            return MaterializeResult(key=key, metadata=meta)
        if status == "skipped":
            return AssetSkipped(key=key, reason="dbt skipped it: an upstream node failed")
        return AssetFailure(
            key=key,
            message=rr.message or f"dbt reported status {status!r}",
            error_class=f"dbt:{status}",
            where=self.compute.file_of(uid),
        )

    def _test_result(self, uid: str, rr: Any) -> CheckResult | None:
        check = self.tests[uid]
        status = rr.status
        if status == "skipped":
            return None
        meta: dict[str, Any] = {
            "dbt_status": status,
            "execution_time": round(float(rr.execution_time), 4),
        }
        if rr.num_failures:
            meta["failures"] = int(rr.num_failures)
        if rr.message:
            meta["dbt_message"] = rr.message
        where = self.compute.file_of(uid)
        if where:
            meta["file"] = where
        return CheckResult(
            asset_key=check.asset,
            check_name=check.name,
            passed=status == "pass",
            severity="warn" if status == "warn" else check.severity,
            description=rr.message or None,
            metadata=meta,
        )


def _next(results: queue.Queue[Any], deadline: float | None, limit: float | None) -> Any:
    """The next result dbt reported; ``StepTimeout`` when the step's deadline passes first."""
    while True:
        left = remaining(deadline)
        try:
            return results.get(timeout=None if left is None else max(left, 0.01))
        except queue.Empty:
            if left is not None and left <= 0:
                raise StepTimeout(
                    limit if limit is not None else 0.0, what="dbt", killed=None
                ) from None


def _stop(worker: threading.Thread, context: StepContext) -> None:
    """Cancel dbt's open queries until the in-process invocation ends (a node that starts
    after one cancel is caught by the next); say so if it does not end in time."""
    cancelled: set[str] = set()
    until = time.monotonic() + STOP_GRACE
    while worker.is_alive() and time.monotonic() < until:
        cancelled.update(cancel_running())
        worker.join(0.25)
    if worker.is_alive():
        context.log.error(
            "dbt is still running %s s after its queries were cancelled (%s); it runs in this "
            "process and cannot be killed; its results are ignored",
            STOP_GRACE,
            ", ".join(sorted(cancelled)) or "no open query",
        )


def _response(struct: Any) -> dict[str, Any]:
    try:
        return dict(struct.items())  # google.protobuf.Struct
    except Exception:
        return {}


def _short(args: list[str], limit: int = 12) -> list[str]:
    return args if len(args) <= limit else [*args[:limit], f"... ({len(args) - limit} more)"]
