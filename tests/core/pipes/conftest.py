"""A minimal StepContext for protocol tests (the engine is not needed to test the protocol)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from catchment.keys import AssetKey
from catchment.specs import AssetSpec, CheckSpec, spec


@dataclass
class RecordingLog:
    lines: list[tuple[str, str]] = field(default_factory=list)

    def _add(self, level: str, msg: str, *args: Any) -> None:
        self.lines.append((level, msg % args if args else msg))

    def debug(self, msg: str, *args: Any) -> None:
        self._add("debug", msg, *args)

    def info(self, msg: str, *args: Any) -> None:
        self._add("info", msg, *args)

    def warning(self, msg: str, *args: Any) -> None:
        self._add("warning", msg, *args)

    def error(self, msg: str, *args: Any) -> None:
        self._add("error", msg, *args)

    def at(self, level: str) -> list[str]:
        return [m for lvl, m in self.lines if lvl == level]


@dataclass
class FakeStepContext:
    keys: tuple[str, ...]
    checks: tuple[CheckSpec, ...] = ()
    run_id: str = "run-1"
    step_key: str = "step"
    partition_key: str | None = None
    partition_keys: tuple[str, ...] = ()
    resources: Mapping[str, Any] = field(default_factory=dict)
    log: RecordingLog = field(default_factory=RecordingLog)
    project_root: Path = Path(".")
    warehouse: Path = Path("warehouse.duckdb")
    attempt: int = 0

    @property
    def selected_keys(self) -> frozenset[AssetKey]:
        return frozenset(AssetKey.parse(k) for k in self.keys)

    @property
    def selected_checks(self) -> frozenset[str]:
        return frozenset(c.id for c in self.checks)

    def spec(self, key: AssetKey) -> AssetSpec:
        return spec(key)

    def check_spec(self, check_id: str) -> CheckSpec:
        return next(c for c in self.checks if c.id == check_id)

    def load_input(self, key: AssetKey) -> Any:
        raise NotImplementedError


@pytest.fixture
def make_context():
    def make(*keys: str, checks: tuple[tuple[str, str], ...] = (), **kw: Any) -> FakeStepContext:
        check_specs = tuple(CheckSpec(name=n, asset=AssetKey.parse(a)) for a, n in checks)
        return FakeStepContext(keys=keys, checks=check_specs, **kw)

    return make
