"""Adapter discovery in-process: every kind of broken adapter is recorded and skipped, the
healthy one still serves its component type; allowlist, strict mode, isolated hooks."""

from __future__ import annotations

import logging
import threading
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from catchment.hookspecs import AdapterInfo, RunInfo, hookimpl
from catchment.plugins import AdapterError, PluginRegistry, get_registry, reset_registry


def _load(site: Path, kit: Any, **kw: Any) -> PluginRegistry:
    registry = PluginRegistry(**kw)
    registry.load_entry_points(kit.entry_points_in(site))
    return registry


def test_builtin_registers_python_and_io_managers_through_the_hooks() -> None:
    registry = PluginRegistry(strict=True, allow=())
    registry.load_entry_points()
    builtin = registry.record("builtin")
    assert builtin is not None
    assert builtin.status == "ok"
    assert builtin.distribution == "catchment"
    assert builtin.component_types == ["python"]
    assert {"memory", "filesystem", "duckdb"} <= set(registry.io_manager_types)
    assert registry.component_types["python"].adapter == "builtin"


def test_broken_adapter_is_recorded_and_healthy_one_loads(
    site: Path, install: Callable[..., str], kit: Any, broken: str
) -> None:
    source, status, fragment = kit.broken[broken]
    install("healthy", kit.healthy, version="1.2.3")
    install(broken, source)
    registry = _load(site, kit, strict=False, allow=None)

    healthy = registry.record("healthy")
    assert healthy is not None
    assert healthy.status == "ok", healthy.error
    assert (healthy.distribution, healthy.version) == ("catchment-healthy", "1.2.3")
    assert registry.component_types["healthy_tables"].adapter == "healthy"

    record = registry.record(broken)
    assert record is not None
    assert record.status == status
    assert record.error is not None
    assert fragment in record.error
    assert record.distribution == f"catchment-{broken.replace('_', '-')}"
    assert record.version == "0.1.0"
    assert record in registry.broken
    # skipped means unregistered: none of its hooks will ever be called
    assert registry.pm.get_plugin(broken) is None


def test_strict_mode_reraises(site: Path, install: Callable[..., str], kit: Any) -> None:
    install("import_error", kit.broken["import_error"][0])
    with pytest.raises(ModuleNotFoundError):
        _load(site, kit, strict=True, allow=None)


def test_strict_mode_raises_adapter_error_for_contract_breaches(
    site: Path, install: Callable[..., str], kit: Any
) -> None:
    install("incompatible_api", kit.broken["incompatible_api"][0])
    with pytest.raises(AdapterError) as info:
        _load(site, kit, strict=True, allow=None)
    assert "incompatible_api" in str(info.value)
    assert "core API" in str(info.value)


def test_allowlist_is_applied_before_import(
    site: Path, install: Callable[..., str], kit: Any
) -> None:
    install("healthy", kit.healthy)
    install("import_error", kit.broken["import_error"][0])
    registry = _load(site, kit, strict=True, allow=["healthy"])  # strict: an import would raise
    skipped = registry.record("import_error")
    assert skipped is not None
    assert skipped.status == "disabled"
    assert "catchment_import_error" not in __import__("sys").modules
    assert registry.record("builtin").status == "ok"  # type: ignore[union-attr]
    assert registry.record("healthy").status == "ok"  # type: ignore[union-attr]


def test_environment_variables_drive_the_process_registry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CATCHMENT_ADAPTERS", "nothing_else")
    monkeypatch.setenv("CATCHMENT_STRICT", "1")
    reset_registry()
    try:
        registry = get_registry()
        assert registry.strict is True
        assert registry.allow == frozenset({"nothing_else"})
        assert get_registry() is registry  # scanned once per process
    finally:
        reset_registry()


def test_invalid_api_specifier_is_a_clear_failure() -> None:
    plugin = types.SimpleNamespace(
        catchment_adapter_info=hookimpl(lambda: AdapterInfo(name="x", version="1", api="one"))
    )
    registry = PluginRegistry(strict=False, allow=None)
    record = registry.add_plugin(plugin, name="x")
    assert record.status == "failed"
    assert "invalid core API range 'one'" in (record.error or "")


def test_unknown_hook_name_fails_the_adapter() -> None:
    class Plugin:
        @hookimpl
        def catchment_adapter_info(self) -> AdapterInfo:
            return AdapterInfo(name="typo", version="1")

        @hookimpl
        def catchment_graph_buildt(self, graph: Any) -> None:
            return None

    registry = PluginRegistry(strict=False, allow=None)
    record = registry.add_plugin(Plugin(), name="typo")
    assert record.status == "failed"
    assert "catchment_graph_buildt" in (record.error or "")


class _Recorder:
    def __init__(self, name: str, fail: bool):
        self.name, self.fail, self.calls = name, fail, []  # type: list[str]

    @hookimpl
    def catchment_adapter_info(self) -> AdapterInfo:
        return AdapterInfo(name=self.name, version="1")

    @hookimpl
    def catchment_run_started(self, run: RunInfo) -> None:
        self.calls.append(f"started {run.run_id}")
        if self.fail:
            raise RuntimeError("alerting is down")

    @hookimpl
    def catchment_run_finished(self, run: RunInfo, status: str) -> str:
        self.calls.append(f"finished {status}")
        if self.fail:
            raise RuntimeError("alerting is down")
        return self.name

    @hookimpl
    def catchment_asset_materialized(self, run: RunInfo, event: Any) -> None:
        self.calls.append(f"materialized {event}")

    @hookimpl
    def catchment_check_evaluated(self, run: RunInfo, event: Any) -> None:
        self.calls.append(f"check {event}")


def test_life_cycle_hooks_isolate_each_adapter(caplog: pytest.LogCaptureFixture) -> None:
    registry = PluginRegistry(strict=False, allow=None)
    bad, good = _Recorder("bad", fail=True), _Recorder("good", fail=False)
    registry.add_plugin(bad, name="bad")
    registry.add_plugin(good, name="good")
    run = RunInfo(run_id="r1", selection=None, asset_keys=("a",))
    with caplog.at_level(logging.WARNING, logger="catchment.plugins"):
        registry.hook.catchment_run_started(run=run)
        results = registry.hook.catchment_run_finished(run=run, status="success")
        registry.hook.catchment_asset_materialized(run=run, event="e1")
        registry.hook.catchment_check_evaluated(run=run, event="c1")
    assert good.calls == ["started r1", "finished success", "materialized e1", "check c1"]
    assert bad.calls[:2] == ["started r1", "finished success"]
    assert results == [("good", "good")]
    assert [(a, h) for a, h, _ in registry.hook.errors] == [
        ("bad", "catchment_run_started"),
        ("bad", "catchment_run_finished"),
    ]
    assert "adapter bad raised in catchment_run_started: RuntimeError: alerting is down" in (
        caplog.text
    )


def test_life_cycle_hook_errors_reraise_in_strict_mode() -> None:
    registry = PluginRegistry(strict=True, allow=None)
    registry.add_plugin(_Recorder("bad", fail=True), name="bad")
    run = RunInfo(run_id="r1", selection=None, asset_keys=())
    with pytest.raises(RuntimeError, match="alerting is down"):
        registry.hook.catchment_run_started(run=run)


def test_graph_built_rejections_wrong_types_and_crashes_are_reasons() -> None:
    class Policy:
        def __init__(self, name: str, result: Any):
            self.name, self.result = name, result

        @hookimpl
        def catchment_adapter_info(self) -> AdapterInfo:
            return AdapterInfo(name=self.name, version="1")

        @hookimpl
        def catchment_graph_built(self, graph: Any) -> Any:
            if isinstance(self.result, Exception):
                raise self.result
            return self.result

    registry = PluginRegistry(strict=False, allow=None)
    for name, result in [
        ("accepts", None),
        ("rejects", ["no owner on a"]),
        ("wrong", 42),
        ("crashes", ValueError("policy bug")),
    ]:
        registry.add_plugin(Policy(name, result), name=name)
    reasons = dict(registry.graph_rejections(graph=object()))  # type: ignore[arg-type]
    assert set(reasons) == {"rejects", "wrong", "crashes"}
    assert reasons["rejects"] == "no owner on a"
    assert "returned int" in reasons["wrong"]
    assert "ValueError: policy bug" in reasons["crashes"]


def test_an_adapter_calling_sys_exit_in_a_hook_cannot_end_the_command() -> None:
    import sys

    class Quitter:
        @hookimpl
        def catchment_adapter_info(self) -> AdapterInfo:
            return AdapterInfo(name="quitter", version="1")

        @hookimpl
        def catchment_component_types(self, register: Any) -> None:
            sys.exit("quitter gives up")

    class Exiter:
        @hookimpl
        def catchment_adapter_info(self) -> AdapterInfo:
            return AdapterInfo(name="exiter", version="1")

        @hookimpl
        def catchment_run_started(self, run: Any) -> None:
            sys.exit(3)

    registry = PluginRegistry(strict=False, allow=None)
    quitter = registry.add_plugin(Quitter(), name="quitter")
    assert quitter.status == "failed"
    assert "quitter gives up" in (quitter.error or "")
    assert registry.add_plugin(Exiter(), name="exiter").status == "ok"
    run = RunInfo(run_id="r1", selection=None, asset_keys=("a",))
    registry.hook.catchment_run_started(run=run)  # returns: the exit is recorded, not obeyed
    assert [(a, h) for a, h, _ in registry.hook.errors] == [("exiter", "catchment_run_started")]


def test_loading_every_installed_adapter_starts_at_most_one_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Imports and registration hooks of all adapters share one worker thread (not three
    threads per adapter), still each with its time limit."""
    started: list[str] = []
    start = threading.Thread.start

    def counting(thread: threading.Thread) -> None:
        started.append(thread.name)
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", counting)
    registry = PluginRegistry(strict=False, allow=None)
    registry.load_entry_points()
    assert len([r for r in registry.adapters if r.status == "ok"]) >= 2
    assert len([n for n in started if n.startswith("adapter-")]) <= 1
