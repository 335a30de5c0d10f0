"""``AdapterConformance``: the test class every adapter's tests subclass.

An adapter's test module declares what the adapter can do (class attributes, like the
SQLAlchemy and dbt adapter suites) and provides a small project that uses it (fixtures); the
inherited tests then check every conformance rule (see :mod:`catchment.testing.rules`) against
the real engine, the real loader and the real CLI::

    from catchment.testing import AdapterConformance, write_project

    class TestConformance(AdapterConformance):
        adapter_name = "mytool"
        supports_partitions = False

        @pytest.fixture
        def project_dir(self, tmp_path):
            return write_project(tmp_path / "proj", [{"type": "mytool", "name": "x", ...}])

        @pytest.fixture
        def failing_selection(self, project_dir):
            ...  # break something in project_dir so that running this selection fails
            return "key:raw/orders"
"""

from __future__ import annotations

import json
import os
import secrets
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec
import pytest

from catchment.testing.project import (
    DESCRIBE_MARKER,
    describe_definitions,
    load_isolated,
    run_cli,
    snapshot_files,
    warehouse_of,
    warehouse_tables,
)
from catchment.testing.rules import check, violated

if TYPE_CHECKING:
    from catchment.definitions import AssetsDefinition
    from catchment.events import Event
    from catchment.execution.result import ExecutionResult
    from catchment.graph import AssetGraph
    from catchment.keys import AssetKey
    from catchment.project import Project
    from catchment.specs import AssetSpec
    from catchment.storage import Storage
    from catchment.tables import TableRef

__all__ = ["AdapterConformance", "Selection"]

Selection = str | Sequence[str]
"""A selection expression, or a list of asset key strings."""

_TERMINAL = ("materialization", "asset_failed", "asset_skipped")
_NOT_SELECTED = "was not selected; its result is ignored"


class AdapterConformance:
    """Base class of an adapter's conformance tests; subclass it as ``TestConformance``.

    Capability flags (class attributes) say what the adapter promises; fixtures the subclass
    overrides give the kit a project to exercise. Every ``test_cN_*`` method checks one rule
    and fails with a message naming it.
    """

    # -- capability flags (override in the subclass) ---------------------------------------
    adapter_name: ClassVar[str] = ""
    """The entry point name in group ``catchment.adapters`` (``catchment plugins`` shows it)."""
    component_types: ClassVar[tuple[str, ...]] = ()
    """Component types the adapter serves (default: ``(adapter_name,)``)."""
    extra_adapters: ClassVar[tuple[str, ...]] = ()
    """Other adapters the test project uses (loaded too; every other one is disabled)."""
    supports_subset: ClassVar[bool] = True
    """Every multi-asset definition can run any subset of its assets in one invocation."""
    supports_partitions: ClassVar[bool] = False
    """Assets may be partitioned; then provide the ``partition_key`` fixture."""
    has_checks: ClassVar[bool] = False
    """The adapter declares and evaluates checks (the test project must have some)."""
    writes_tables: ClassVar[bool] = True
    """Every asset declares the physical table it writes (``AssetSpec.table``)."""
    max_subset_runs: ClassVar[int] = 3
    """How many selections the subset rule runs by default (the first is everything)."""
    secret_env: ClassVar[str] = "CATCHMENT_CONFORMANCE_SECRET"
    """An environment variable the kit sets to a random secret for every test; reference it
    where the tool takes a credential (``{{ env("CATCHMENT_CONFORMANCE_SECRET") }}``)."""

    # -- fixtures the subclass provides ------------------------------------------------------
    @pytest.fixture
    def project_dir(self, tmp_path: Path) -> Path:
        """A temporary project folder whose catchment.yaml uses the adapter (required)."""
        pytest.fail(
            f"{type(self).__name__}: define a `project_dir` fixture returning a project folder "
            "with a catchment.yaml that uses the adapter (catchment.testing.write_project helps)"
        )

    @pytest.fixture
    def failing_selection(self, project_dir: Path) -> Selection:
        """Break something in ``project_dir`` the way a user's data or code breaks, and return
        a selection whose run then fails inside the tool (required)."""
        pytest.fail(
            f"{type(self).__name__}: define a `failing_selection` fixture: make execution fail "
            "inside the tool (bad SQL, a raising resource, a missing input) and return the "
            "selection to run"
        )

    @pytest.fixture
    def recovery_selection(self, project_dir: Path) -> Selection | None:
        """A selection that succeeds after the failing run (default: every asset outside the
        failing selection and its downstream; None re-runs the failing one)."""
        return None

    @pytest.fixture
    def partition_key(self) -> str:
        """A partition of the project's partitioned assets (required with
        ``supports_partitions``)."""
        pytest.fail(
            f"{type(self).__name__}: supports_partitions is True: define a `partition_key` "
            "fixture returning a partition of the test project's partitioned assets"
        )

    @pytest.fixture
    def adapter_env(self) -> dict[str, str]:
        """Environment variables the tool needs in tests (binaries, offline switches)."""
        return {}

    @pytest.fixture
    def secret_values(self, conformance_secret: str) -> list[str]:
        """Values that must never appear in output (default: the kit's own secret)."""
        return [conformance_secret]

    @pytest.fixture
    def subsets(self, project: Project, request: pytest.FixtureRequest) -> list[Selection]:
        """Selections the subset rule runs, in order (default: everything, every other asset,
        the last asset), at most ``max_subset_runs``."""
        keys = [k.to_string() for k in self._own_keys(project)]
        out: list[Selection] = [keys]
        if len(keys) >= 3:
            out.append(keys[::2])
        if len(keys) >= 2:
            out.append(keys[-1:])
        return out[: max(1, self.max_subset_runs)]

    # -- kit fixtures --------------------------------------------------------------------------
    @pytest.fixture(autouse=True)
    def conformance_env(
        self, monkeypatch: pytest.MonkeyPatch, adapter_env: dict[str, str]
    ) -> Iterator[dict[str, str]]:
        """The environment of every test: a fresh secret, only this adapter (and
        ``extra_adapters``) loaded, the adapter's own variables; fresh plugin registries."""
        from catchment.plugins import reset_registry

        check(self.adapter_name, "C1", f"{type(self).__name__} does not set adapter_name")
        env = {
            self.secret_env: f"cs-{secrets.token_hex(12)}",
            "CATCHMENT_ADAPTERS": ",".join(self._adapters()),
            **adapter_env,
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("CATCHMENT_STRICT", raising=False)
        reset_registry()
        yield env
        reset_registry()

    @pytest.fixture
    def conformance_secret(self, conformance_env: dict[str, str]) -> str:
        """The random secret the kit put in ``secret_env`` for this test."""
        return conformance_env[self.secret_env]

    @pytest.fixture
    def project(self, project_dir: Path) -> Project:
        """``project_dir`` loaded with a fresh registry of the allowed adapters."""
        return load_isolated(project_dir, self._adapters())

    @pytest.fixture
    def store(self, project: Project) -> Iterator[Storage]:
        """The project's run store (SQLite under .catchment/), closed afterwards."""
        from catchment.execution.project import open_project_storage

        storage = open_project_storage(project)
        try:
            yield storage
        finally:
            storage.close()

    @pytest.fixture
    def resources(self, project: Project) -> dict[str, Any]:
        """The project's configured resources (``resources:`` in catchment.yaml)."""
        return dict(project.resources)

    # -- C1 ------------------------------------------------------------------------------------
    def test_c1_registers_through_entry_point(self) -> None:
        """C1: an entry point names the adapter and ``catchment plugins`` shows it ``ok``."""
        from importlib import metadata

        from catchment.hookspecs import ENTRY_POINT_GROUP

        found = metadata.entry_points(group=ENTRY_POINT_GROUP, name=self.adapter_name)
        check(
            list(found),
            "C1",
            f"no entry point {self.adapter_name!r} in group {ENTRY_POINT_GROUP!r}; add "
            f'[project.entry-points."{ENTRY_POINT_GROUP}"] {self.adapter_name} = '
            f'"catchment_{self.adapter_name}.hooks" to pyproject.toml and reinstall',
        )
        result = run_cli(["plugins", "--json"])
        check(
            result.returncode == 0,
            "C1",
            f"`catchment plugins --json` failed\n{result.describe()}",
        )
        try:
            records = json.loads(result.stdout)
        except ValueError:
            violated("C1", f"`catchment plugins --json` printed no JSON\n{result.describe()}")
        record = next((r for r in records if r.get("name") == self.adapter_name), None)
        check(
            record is not None,
            "C1",
            f"`catchment plugins --json` does not list {self.adapter_name!r}: "
            f"{[r.get('name') for r in records]}",
        )
        assert record is not None
        check(
            record["status"] == "ok",
            "C1",
            f"adapter {self.adapter_name!r} is {record['status']}: {record.get('error')}",
        )
        check(
            record.get("distribution"),
            "C1",
            f"adapter {self.adapter_name!r} was not registered from an installed distribution",
        )
        missing = sorted(set(self._types()) - set(record["component_types"]))
        check(
            not missing,
            "C1",
            f"adapter {self.adapter_name!r} does not register component types {missing} "
            f"(it registers {record['component_types']})",
        )

    # -- C2 ------------------------------------------------------------------------------------
    def test_c2_discovery_returns_valid_specs(self, project: Project) -> None:
        """C2: every component builds into well-labelled definitions of valid specs."""
        from catchment.definitions import AssetsDefinition
        from catchment.keys import AssetKey
        from catchment.specs import AssetSpec
        from catchment.tables import TableRef

        broken = [p for p in project.problems if p.kind in ("adapter", "component", "project")]
        check(not broken, "C2", "the project did not load:\n" + _problems(broken))
        graph_problems = [p for p in project.problems if p.kind == "graph"]
        if graph_problems:
            self._check_unique(project)
            violated("C2", "the asset graph did not build:\n" + _problems(graph_problems))
        own = self._own_definitions(project)
        check(
            own,
            "C2",
            f"no component of type {self._types()} declared any asset; the test project must "
            "use the adapter",
        )
        for d in own:
            label = f"definition {d.name!r} (component {d.component})"
            check(isinstance(d, AssetsDefinition), "C2", f"{label} is not an AssetsDefinition")
            check(
                d.adapter == self.adapter_name,
                "C2",
                f"{label} says adapter={d.adapter!r}; set adapter={self.adapter_name!r}",
            )
            check(d.source, "C2", f"{label} has no source (use ComponentContext.source)")
            check(d.specs, "C2", f"{label} declares no asset")
            for s in d.specs:
                check(isinstance(s, AssetSpec), "C2", f"{label} holds a {type(s).__name__}")
                what = f"asset {s.key} of {label}"
                check(isinstance(s.key, AssetKey), "C2", f"{what}: key is not an AssetKey")
                check(s.kinds, "C2", f"{what} declares no kinds (e.g. ({self.adapter_name!r},))")
                check(
                    isinstance(s.code_version, str) and s.code_version,
                    "C2",
                    f"{what} has no code_version (a hash of what defines it, so `catchment plan` "
                    "sees edits)",
                )
                if self.writes_tables:
                    check(
                        isinstance(s.table, TableRef),
                        "C2",
                        f"{what} declares no table it writes (set AssetSpec.table, or set "
                        "writes_tables = False)",
                    )
                for r in s.reads:
                    check(isinstance(r, TableRef), "C2", f"{what} reads a {type(r).__name__}")
                for c in s.checks:
                    check(c.asset == s.key, "C2", f"{what} holds check {c.id} of another asset")

    # -- C3 ------------------------------------------------------------------------------------
    def test_c3_discovery_is_deterministic(self, project_dir: Path) -> None:
        """C3: two loads (and a load in a process with another hash seed) declare equal specs."""
        first = load_isolated(project_dir, self._adapters())
        second = load_isolated(project_dir, self._adapters())
        a = describe_definitions(self._own_definitions(first))
        b = describe_definitions(self._own_definitions(second))
        _same_description(a, b, "two loads in one process")
        specs_a = {s.key: s for d in self._own_definitions(first) for s in d.specs}
        specs_b = {s.key: s for d in self._own_definitions(second) for s in d.specs}
        for key, s in specs_a.items():
            check(
                specs_b.get(key) == s,
                "C3",
                f"asset {key}: two loads in one process gave unequal AssetSpec objects "
                f"({s!r} != {specs_b.get(key)!r})",
            )
        import subprocess
        import sys

        seed = str(int(os.environ.get("PYTHONHASHSEED") or "0") + 1)
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "catchment.testing.project",
                str(project_dir),
                ",".join(self._adapters()),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=False,
            timeout=600,
        )
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(DESCRIBE_MARKER)]
        check(
            proc.returncode == 0 and lines,
            "C3",
            f"loading the project in another process failed (exit {proc.returncode}):\n"
            f"{proc.stderr[-3000:]}",
        )
        other = json.loads(lines[-1][len(DESCRIBE_MARKER) :])
        own_names = {d["name"] for d in a}
        _same_description(
            a, [d for d in other if d["name"] in own_names], "another process (hash seed differs)"
        )

    # -- C4 ------------------------------------------------------------------------------------
    def test_c4_discovery_is_side_effect_free(self, project_dir: Path) -> None:
        """C4: loading the project (in process and via `catchment assets list`) writes no file
        outside .catchment/ and creates no table."""
        warehouse = warehouse_of(project_dir)
        files_before = snapshot_files(project_dir)
        tables_before = warehouse_tables(warehouse)
        load_isolated(project_dir, self._adapters())
        listed = run_cli(["assets", "list", "--json", "--project", str(project_dir)])
        check(listed.returncode == 0, "C4", f"`assets list` failed\n{listed.describe()}")
        files_after = snapshot_files(project_dir)
        created = sorted(set(files_after) - set(files_before))
        changed = sorted(
            f for f in files_before if f in files_after and files_before[f] != files_after[f]
        )
        deleted = sorted(set(files_before) - set(files_after))
        for what, paths in (("created", created), ("changed", changed), ("deleted", deleted)):
            check(
                not paths,
                "C4",
                f"discovery {what} files in the project folder outside .catchment/: "
                f"{paths[:10]} (keep caches under .catchment/, and never run the tool)",
            )
        tables_after = warehouse_tables(warehouse)
        if tables_before is None:
            check(
                tables_after is None,
                "C4",
                f"discovery created the warehouse {warehouse} "
                f"(tables: {sorted(tables_after or [])})",
            )
        else:
            new = sorted((tables_after or set()) - tables_before)
            gone = sorted(tables_before - (tables_after or set()))
            check(not new, "C4", f"discovery created tables in {warehouse}: {new}")
            check(not gone, "C4", f"discovery dropped tables in {warehouse}: {gone}")

    # -- C5 ------------------------------------------------------------------------------------
    def test_c5_asset_keys_are_unique(self, project: Project) -> None:
        """C5: no two specs share a key, no two definitions a name, no two assets a table."""
        self._check_unique(project)

    # -- C6 ------------------------------------------------------------------------------------
    def test_c6_identities_are_normalised(self, project: Project) -> None:
        """C6: tables and reads are normalised TableRefs (catchment.tables helpers)."""
        seen = 0
        for d in self._own_definitions(project):
            for s in d.specs:
                for role, ref in [("table", s.table), *(("reads", r) for r in s.reads)]:
                    if ref is None:
                        continue
                    seen += 1
                    again = _renormalise(ref)
                    check(
                        again == ref,
                        "C6",
                        f"asset {s.key}: {role} {ref!r} is not normalised; building it with "
                        f"catchment.tables.table() gives {again!r}",
                    )
                    if ref.system == "duckdb" and ref.location != ":memory:":
                        check(
                            Path(ref.location).is_absolute(),
                            "C6",
                            f"asset {s.key}: DuckDB {role} location {ref.location!r} is not an "
                            "absolute path (use catchment.tables.duckdb_table)",
                        )
        if self.writes_tables:
            check(seen, "C6", "no asset declares a table although writes_tables = True")

    # -- C7 ------------------------------------------------------------------------------------
    def test_c7_execution_reports_exactly_the_selection(
        self, project: Project, subsets: list[Selection], request: pytest.FixtureRequest
    ) -> None:
        """C7: each selection's run reports every selected asset once and nothing else."""
        from catchment.execution.project import run_project

        check(subsets, "C7", "the `subsets` fixture returned no selection")
        graph = self._graph(project)
        for selection in subsets:
            keys = _keys_of(graph, selection)
            partition = self._partition_for(project, keys, request)
            result = run_project(project, selection, partition=partition)
            what = f"run of selection {_show(selection)}"
            _check_well_formed(result, what, "C7")
            # after a full run every subset must build; a failed check is the data's business
            for key in result.plan.asset_keys:
                check(
                    result.status_of(key) == "success",
                    "C7",
                    f"{what}: selected asset {key} is {result.status_of(key)}: {_failures(result)}",
                )

    # -- C8 ------------------------------------------------------------------------------------
    def test_c8_failure_becomes_failed_asset(
        self,
        project_dir: Path,
        failing_selection: Selection,
        recovery_selection: Selection | None,
        request: pytest.FixtureRequest,
    ) -> None:
        """C8: a failure inside the tool is a failed asset with a message; the store records
        the run as failed, keeps no half-open run, and later runs work."""
        from catchment.events import EventType
        from catchment.execution.project import open_project_storage, run_project

        project = load_isolated(project_dir, self._adapters())
        graph = self._graph(project)
        what = f"run of failing selection {_show(failing_selection)}"
        try:
            partition = self._partition_for(project, _keys_of(graph, failing_selection), request)
            result = run_project(project, failing_selection, partition=partition)
        except Exception as exc:
            violated("C8", f"{what} raised {type(exc).__name__}: {exc} instead of recording it")
        _check_well_formed(result, what, "C8")
        check(not result.success, "C8", f"{what} succeeded; the fixture must make it fail")
        failed = [e for e in result.events if e.type is EventType.ASSET_FAILED]
        check(failed, "C8", f"{what} failed without any asset_failed event: {_failures(result)}")
        for e in failed:
            failure = e.failure
            check(
                (failure.message or "").strip(),
                "C8",
                f"{what}: asset {e.asset_key} failed without a message",
            )
            check(
                failure.error_class != "MissingResult",
                "C8",
                f"{what}: the compute never reported {e.asset_key} (yield AssetFailure with the "
                f"tool's message): {failure.message}",
            )
        storage = open_project_storage(project)
        try:
            run = storage.get_run(result.run_id)
            check(run is not None, "C8", f"{what}: run {result.run_id} is not in the store")
            assert run is not None
            check(
                run.status == "failure",
                "C8",
                f"{what}: the store records run {result.run_id} as {run.status}",
            )
            stored = storage.events_for_run(result.run_id, [EventType.ASSET_FAILED])
            check(
                {e.asset_key for e in stored} == {e.asset_key for e in failed},
                "C8",
                f"{what}: stored asset_failed events {sorted(str(e.asset_key) for e in stored)} "
                f"differ from the run's {sorted(str(e.asset_key) for e in failed)}",
            )
            open_runs = [r.run_id for r in storage.list_runs(limit=100, status="started")]
            check(not open_runs, "C8", f"runs left open in the store: {open_runs}")
        finally:
            storage.close()

        later = recovery_selection
        if later is None:
            broken = set(_keys_of(graph, failing_selection))
            stopped = broken | set(graph.descendants(broken))
            later = [k.to_string() for k in self._own_keys(project) if k not in stopped]
        again = load_isolated(project_dir, self._adapters())
        what_next = f"run after the failure (selection {_show(later) if later else 'the same'})"
        next_selection = later or failing_selection
        partition = self._partition_for(again, _keys_of(graph, next_selection), request)
        result2 = run_project(again, next_selection, partition=partition)
        _check_well_formed(result2, what_next, "C8")
        check(result2.run_id != result.run_id, "C8", f"{what_next} reused run id {result.run_id}")
        if later:
            check(result2.success, "C8", f"{what_next} failed: {_failures(result2)}")
        storage = open_project_storage(again)
        try:
            run2 = storage.get_run(result2.run_id)
            expected = "success" if result2.success else "failure"
            check(
                run2 is not None and run2.status == expected,
                "C8",
                f"{what_next}: the store records {run2.status if run2 else 'no run'}, "
                f"expected {expected}",
            )
        finally:
            storage.close()

    # -- C9 ------------------------------------------------------------------------------------
    def test_c9_secrets_stay_out_of_output(
        self, project_dir: Path, failing_selection: Selection, secret_values: list[str]
    ) -> None:
        """C9: secrets appear in no CLI output, event, stored record or error text."""
        check(secret_values, "C9", "the `secret_values` fixture returned no secret")
        for s in secret_values:
            check(
                isinstance(s, str) and len(s) >= 6,
                "C9",
                f"secret_values must be strings of 6+ characters (got {len(str(s))} characters)",
            )
        p = ["--project", str(project_dir)]
        keys_arg = (
            failing_selection
            if isinstance(failing_selection, str)
            else " or ".join(f"key:{k}" for k in failing_selection)
        )
        commands = [
            ["check", str(project_dir)],
            ["assets", "list", "--json", *p],
            ["materialize", *p],
            ["materialize", "-s", keys_arg, *p],
            ["runs", "list", *p],
        ]
        outputs = []
        for args in commands:
            result = run_cli(args, cwd=project_dir)
            outputs.append((f"output of `catchment {' '.join(args)}`", result.output))
        from catchment.events import encode_event
        from catchment.execution.project import open_project_storage

        project = load_isolated(project_dir, self._adapters())
        storage = open_project_storage(project)
        try:
            runs = storage.list_runs(limit=100)
            check(runs, "C9", "the CLI runs left no record in the run store")
            for run in runs:
                for event in storage.events_for_run(run.run_id):
                    outputs.append(
                        (f"event {event.type} of run {run.run_id}", encode_event(event).decode())
                    )
        finally:
            storage.close()
        cache = project_dir / ".catchment"
        if cache.is_dir():
            for path in sorted(cache.rglob("*")):
                if path.is_file() and (path.suffix in (".db", ".log", ".json", ".txt")):
                    raw = path.read_bytes().decode("utf-8", "replace")
                    outputs.append((f"file {path.relative_to(project_dir)}", raw))
        for where, text in outputs:
            for i, s in enumerate(secret_values):
                check(s not in text, "C9", f"secret #{i + 1} appears in the {where}")

    # -- C10 -----------------------------------------------------------------------------------
    def test_c10_partitions_match_the_flag(
        self, project: Project, request: pytest.FixtureRequest
    ) -> None:
        """C10: partitioned specs only with supports_partitions; a partition run records
        materializations of exactly that partition."""
        from catchment.events import EventType
        from catchment.execution.project import run_project

        partitioned = [
            s.key for d in self._own_definitions(project) for s in d.specs if s.partitions
        ]
        if not self.supports_partitions:
            check(
                not partitioned,
                "C10",
                f"assets {[str(k) for k in partitioned[:5]]} are partitioned but "
                "supports_partitions = False (set it, and provide `partition_key`)",
            )
            return
        check(
            partitioned,
            "C10",
            "supports_partitions = True but the test project declares no partitioned asset",
        )
        partition = str(request.getfixturevalue("partition_key"))
        graph = self._graph(project)
        before = [
            k.to_string() for k in self._own_keys(project) if graph.specs[k].partitions is None
        ]
        if before:  # the unpartitioned assets first, so the partition run has its inputs
            prelude = run_project(project, before)
            unbuilt = [k for k in before if prelude.status_of(k) != "success"]
            check(
                not unbuilt,
                "C10",
                f"building the unpartitioned assets failed for {unbuilt[:5]}: {_failures(prelude)}",
            )
        result = run_project(project, [k.to_string() for k in partitioned], partition=partition)
        what = f"run of partition {partition!r}"
        _check_well_formed(result, what, "C10")
        for key in partitioned:
            parts = [
                e.partition
                for e in result.events
                if e.type is EventType.MATERIALIZATION and e.asset_key == key.to_string()
            ]
            check(
                parts == [partition],
                "C10",
                f"{what}: {key} recorded materializations for partitions {parts} "
                f"({_failures(result)})",
            )

    # -- C11 -----------------------------------------------------------------------------------
    def test_c11_checks_match_the_flag(
        self, project: Project, request: pytest.FixtureRequest
    ) -> None:
        """C11: checks only with has_checks; a run evaluates exactly its planned checks."""
        from catchment.events import EventType
        from catchment.execution.project import run_project
        from catchment.keys import AssetKey, CheckKey

        declared = [c.id for d in self._own_definitions(project) for c in d.all_check_specs]
        if not self.has_checks:
            check(
                not declared,
                "C11",
                f"checks {declared[:5]} are declared but has_checks = False (set it)",
            )
            return
        check(declared, "C11", "has_checks = True but the test project declares no check")
        own = self._own_keys(project)
        result = run_project(
            project,
            [k.to_string() for k in own],
            partition=self._partition_for(project, own, request),
        )
        what = "run of every asset"
        _check_well_formed(result, what, "C11")
        evaluated = Counter(
            CheckKey(AssetKey(e.asset_key or ""), e.check.check_name).to_string()
            for e in result.events
            if e.type is EventType.CHECK_EVALUATED
        )
        planned = set(result.plan.check_ids)
        extra = sorted(set(evaluated) - planned)
        check(not extra, "C11", f"{what} evaluated checks that were not planned: {extra}")
        twice = sorted(c for c, n in evaluated.items() if n > 1 and not result.plan.partition_keys)
        check(not twice, "C11", f"{what} evaluated checks more than once: {twice}")
        # a planned check of an asset that failed or was skipped may go unevaluated
        ran = {k.to_string() for k in result.materialized_keys}
        missing = sorted(c for c in planned - set(evaluated) if c.rpartition(":")[0] in ran)
        check(not missing, "C11", f"{what} never evaluated planned checks {missing}")

    # -- C12 -----------------------------------------------------------------------------------
    def test_c12_subsetting_matches_the_flag(self, project: Project) -> None:
        """C12: with supports_subset every multi-asset definition can subset; without it none
        claims to."""
        for d in self._own_definitions(project):
            if len(d.specs) < 2:
                continue
            if self.supports_subset:
                check(
                    d.can_subset,
                    "C12",
                    f"definition {d.name!r} has {len(d.specs)} assets but can_subset=False "
                    "(set can_subset=True and run only context.selected_keys, or set "
                    "supports_subset = False)",
                )
            else:
                check(
                    not d.can_subset,
                    "C12",
                    f"definition {d.name!r} claims can_subset=True but supports_subset = False",
                )

    # -- helpers -------------------------------------------------------------------------------
    def _types(self) -> tuple[str, ...]:
        return self.component_types or (self.adapter_name,)

    def _adapters(self) -> tuple[str, ...]:
        return (self.adapter_name, *self.extra_adapters)

    def _own_definitions(self, project: Project) -> list[AssetsDefinition]:
        types = set(self._types())
        return [
            d for d in project.definitions if project.components.get(d.component or "") in types
        ]

    def _own_keys(self, project: Project) -> list[AssetKey]:
        """This adapter's asset keys in dependency order."""
        own = {s.key for d in self._own_definitions(project) for s in d.specs}
        graph = self._graph(project)
        return graph.toposort(own)

    def _partition_for(
        self, project: Project, keys: Sequence[AssetKey], request: pytest.FixtureRequest
    ) -> str | None:
        graph = self._graph(project)
        if any(graph.specs[k].partitions is not None for k in keys):
            return str(request.getfixturevalue("partition_key"))
        return None

    def _graph(self, project: Project) -> AssetGraph:
        """The project's graph; when it did not build, the violated rule (C5 for duplicate
        keys, else C2) instead of a bare GraphError."""
        if project.graph is not None and not [p for p in project.problems if p.kind == "graph"]:
            return project.graph
        self._check_unique(project)
        violated("C2", "the asset graph did not build:\n" + _problems(project.problems))

    def _check_unique(self, project: Project) -> None:
        specs: list[AssetSpec] = [s for d in project.definitions for s in d.specs]
        dup_keys = sorted(str(k) for k, n in Counter(s.key for s in specs).items() if n > 1)
        check(not dup_keys, "C5", f"asset keys declared more than once: {dup_keys[:10]}")
        names = Counter(d.name for d in project.definitions)
        dup_names = sorted(n for n, c in names.items() if c > 1)
        check(not dup_names, "C5", f"definition names used more than once: {dup_names[:10]}")
        tables: Counter[TableRef] = Counter(s.table for s in specs if s.table is not None)
        dup_tables = sorted(str(t) for t, n in tables.items() if n > 1)
        check(not dup_tables, "C5", f"tables written by more than one asset: {dup_tables[:10]}")


# -- module helpers ---------------------------------------------------------------------------
def _problems(problems: Sequence[Any]) -> str:
    return "\n".join(f"  - [{p.kind}] {p}" for p in problems)


def _show(selection: Selection) -> str:
    if isinstance(selection, str):
        return repr(selection)
    items = list(selection)
    return repr(items if len(items) <= 6 else [*items[:6], f"... {len(items)} keys"])


def _keys_of(graph: Any, selection: Selection) -> list[AssetKey]:
    from catchment.keys import AssetKey

    if isinstance(selection, str):
        return graph.toposort(graph.select(selection))  # type: ignore[no-any-return]
    return [AssetKey.parse(k) for k in selection]


def _failures(result: ExecutionResult) -> str:
    lines = [
        f"{e.asset_key or e.step_key}: {f.error_class}: {f.message}"
        for e, f in ((e, e.failure) for e in result.failures)
    ]
    return "; ".join(lines[:5]) or result.status


def _renormalise(ref: TableRef) -> TableRef:
    from catchment.tables import duckdb_table, table

    if ref.system == "duckdb":
        return duckdb_table(ref.location, ref.name, schema=ref.schema, database=ref.database)
    return table(
        ref.system,
        ref.name,
        schema=ref.schema or None,
        database=ref.database or None,
        location=ref.location or None,
    )


def _same_description(a: list[dict[str, Any]], b: list[dict[str, Any]], how: str) -> None:
    check(
        [d["name"] for d in a] == [d["name"] for d in b],
        "C3",
        f"{how}: definitions differ: {[d['name'] for d in a]} vs {[d['name'] for d in b]}",
    )
    for da, db in zip(a, b, strict=True):
        keys_a = [s["key"] for s in da["specs"]]
        keys_b = [s["key"] for s in db["specs"]]
        check(
            keys_a == keys_b,
            "C3",
            f"{how}: definition {da['name']!r} declares keys {keys_a[:8]} then {keys_b[:8]}",
        )
        for field in da:
            if field != "specs":
                check(
                    da[field] == db[field],
                    "C3",
                    f"{how}: definition {da['name']!r} field {field!r} differs: "
                    f"{da[field]!r} vs {db[field]!r}",
                )
        for sa, sb in zip(da["specs"], db["specs"], strict=True):
            for field, value in sa.items():
                check(
                    value == sb[field],
                    "C3",
                    f"{how}: asset {sa['key']} field {field!r} differs: {value!r} vs {sb[field]!r}",
                )


def _check_well_formed(result: ExecutionResult, what: str, rule: str) -> None:
    """Events of one run: one terminal result per planned asset (per partition), none for
    anything else, failures with messages, materializations with metadata and table."""
    from catchment.events import EventType

    planned = {k.to_string() for k in result.plan.asset_keys}
    parts = len(result.plan.partition_keys) or 1
    terminal: Counter[str] = Counter()
    for e in result.events:
        check(e.run_id == result.run_id, rule, f"{what}: event {e.type} of another run")
        if e.type is EventType.LOG and _NOT_SELECTED in e.log_line.message:
            violated(
                "C7",
                f"{what}: the compute reported {e.asset_key}, which was not selected "
                "(build and report only context.selected_keys)",
            )
        if e.type is EventType.STEP_FAILED and "does not declare" in str(e.failure.message):
            violated("C7", f"{what}: {e.failure.message}")
        if e.type.value not in _TERMINAL:
            continue
        check(
            e.asset_key in planned,
            "C7",
            f"{what}: {e.type.value} event for {e.asset_key}, which was not selected "
            f"(selected: {sorted(planned)[:8]})",
        )
        assert e.asset_key is not None
        terminal[e.asset_key] += 1
        _check_event(e, result, what, rule)
    for key in sorted(planned):
        n = terminal.get(key, 0)
        check(n, "C7", f"{what}: selected asset {key} has no result event")
        check(
            n <= parts,
            "C7",
            f"{what}: selected asset {key} has {n} result events for {parts} partition(s)",
        )
    missing = [
        e.asset_key
        for e in result.events
        if e.type is EventType.ASSET_FAILED and e.failure.error_class == "MissingResult"
    ]
    check(
        not missing,
        "C7",
        f"{what}: the compute finished without reporting {missing} (yield MaterializeResult, "
        "AssetFailure or AssetSkipped for every selected key)",
    )


def _check_event(e: Event, result: ExecutionResult, what: str, rule: str) -> None:
    from catchment.events import EventType

    if e.type is EventType.MATERIALIZATION:
        try:
            data = e.materialization
        except msgspec.ValidationError as exc:
            violated(rule, f"{what}: materialization of {e.asset_key} is malformed: {exc}")
        try:
            json.dumps(data.metadata)
        except (TypeError, ValueError):
            violated(rule, f"{what}: metadata of {e.asset_key} is not JSON: {data.metadata!r}")
        spec = result.graph.specs.get(_key(e.asset_key))
        if spec is not None and spec.table is not None:
            check(
                data.table == str(spec.table),
                rule,
                f"{what}: materialization of {e.asset_key} names table {data.table} "
                f"but the asset declares {spec.table}",
            )
    elif e.type is EventType.ASSET_FAILED:
        check(
            (e.failure.message or "").strip(),
            rule,
            f"{what}: asset {e.asset_key} failed without a message",
        )
    elif e.type is EventType.ASSET_SKIPPED:
        check(e.skipped.reason, rule, f"{what}: asset {e.asset_key} skipped without a reason")


def _key(text: str | None) -> AssetKey:
    from catchment.keys import AssetKey

    return AssetKey.parse(text or "")
