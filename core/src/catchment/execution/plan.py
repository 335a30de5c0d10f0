"""The planner: a selection becomes steps, one per compute, in dependency order.

A step runs one ``AssetsDefinition`` for the subset of its assets that was selected (all of
them when the definition cannot subset) and evaluates the checks of those assets. Check-only
definitions (``@asset_check``) are steps after the step of their asset; steps downstream of an
asset also wait for its blocking checks, so a failed check can stop them.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import msgspec

from catchment.errors import ConfigError, ExecutionError
from catchment.keys import AssetKey, CheckKey, CoercibleToKey

if TYPE_CHECKING:
    from catchment.definitions import AssetsDefinition
    from catchment.graph import AssetGraph

RANGE_SEPARATOR = "..."


class Step(msgspec.Struct, frozen=True, kw_only=True):
    """One invocation of a definition's compute."""

    name: str
    asset_keys: tuple[AssetKey, ...]
    check_ids: tuple[str, ...] = ()
    upstream_steps: tuple[str, ...] = ()

    @property
    def is_check_only(self) -> bool:
        return not self.asset_keys


class Plan(msgspec.Struct, frozen=True, kw_only=True):
    """Steps in an order that respects dependencies, plus the partitions they run for."""

    steps: tuple[Step, ...]
    partition_keys: tuple[str, ...] = ()
    selection: str | None = None

    @property
    def asset_keys(self) -> tuple[AssetKey, ...]:
        return tuple(k for s in self.steps for k in s.asset_keys)

    @property
    def check_ids(self) -> tuple[str, ...]:
        return tuple(c for s in self.steps for c in s.check_ids)

    @property
    def partition_key(self) -> str | None:
        return self.partition_keys[0] if len(self.partition_keys) == 1 else None

    def step(self, name: str) -> Step:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(name)

    def __len__(self) -> int:
        return len(self.steps)


def parse_partition(text: str | Sequence[str] | None) -> tuple[str, tuple[str, str] | None] | None:
    """``"KEY"`` -> (KEY, None); ``"START...END"`` -> ("", (START, END)); None -> None."""
    if text is None or (isinstance(text, str) and not text):
        return None
    if not isinstance(text, str):
        raise TypeError("parse_partition takes a string")
    if RANGE_SEPARATOR in text:
        start, _, end = text.partition(RANGE_SEPARATOR)
        if not start or not end:
            raise ConfigError(
                f"partition range {text!r} needs both ends",
                where="--partition",
                hint="write START...END, e.g. 2024-01-01...2024-01-31",
            )
        return "", (start.strip(), end.strip())
    return text.strip(), None


def resolve_partitions(
    graph: AssetGraph, keys: Iterable[AssetKey], partition: str | Sequence[str] | None
) -> tuple[str, ...]:
    """The partition keys of a run, validated against every selected partitioned asset."""
    partitioned = [k for k in keys if graph.specs[k].partitions is not None]
    if partition is None or partition == "" or partition == ():
        if partitioned:
            names = ", ".join(str(k) for k in partitioned[:3])
            raise ConfigError(
                f"selected assets are partitioned ({names}): say which partitions to run",
                where="--partition",
                hint="pass --partition KEY or --partition START...END",
            )
        return ()
    if not partitioned:
        raise ConfigError(
            "a partition was given but no selected asset is partitioned",
            where="--partition",
            hint="drop --partition, or select partitioned assets",
        )
    first = graph.specs[partitioned[0]].partitions
    assert first is not None
    if isinstance(partition, str):
        parsed = parse_partition(partition)
        assert parsed is not None
        single, span = parsed
        wanted = tuple(first.range(*span)) if span else (first.validate(single),)
    else:
        wanted = tuple(partition)
    for k in partitioned:
        defn = graph.specs[k].partitions
        assert defn is not None
        for p in wanted:
            if not defn.contains(p):
                raise ConfigError(
                    f"asset {k} has no partition {p!r}",
                    where="--partition",
                    hint="select assets that share the partitions, or pick another key",
                )
    return wanted


def _selected_keys(
    graph: AssetGraph, selection: str | Iterable[CoercibleToKey] | None
) -> frozenset[AssetKey]:
    if selection is None or isinstance(selection, str):
        return graph.select(selection)
    keys = [AssetKey.parse(k) for k in selection]
    for k in keys:
        if k not in graph:
            raise ConfigError(
                f"no asset {k} in the graph", hint="run `catchment assets list` to see the keys"
            )
    return frozenset(keys)


def build_plan(
    graph: AssetGraph,
    selection: str | Iterable[CoercibleToKey] | None = None,
    *,
    partition: str | Sequence[str] | None = None,
    extra_checks: Iterable[str] = (),
) -> Plan:
    """Plan the steps that materialize ``selection`` (an expression, or keys; None = all).

    ``partition`` is one key, ``START...END``, or a sequence of keys. ``extra_checks`` names
    checks (``CheckSpec.id``) of check-only definitions to run even though their asset is not
    selected (re-execution uses it).
    """
    order = graph.toposort()
    rank = {k: i for i, k in enumerate(order)}
    selected = {k for k in _selected_keys(graph, selection) if not graph.is_external(k)}

    # One entry per definition: the subset of its assets to build.
    step_assets: dict[str, set[AssetKey]] = {}
    defs: dict[str, AssetsDefinition] = {}
    for key in selected:
        d = graph.definition_of(key)
        if d is None:
            continue
        defs[d.name] = d
        step_assets.setdefault(d.name, set()).update(d.keys if not d.can_subset else (key,))
    planned: dict[AssetKey, str] = {k: name for name, ks in step_assets.items() for k in ks}

    # Checks: those evaluated by a planned definition go with it; check-only definitions
    # become steps of their own.
    step_checks: dict[str, list[str]] = {name: [] for name in step_assets}
    wanted_extra = set(extra_checks)
    check_only_of: dict[AssetKey, set[str]] = {}
    for key in sorted(
        set(planned) | {CheckKey.parse(c).asset for c in wanted_extra}, key=lambda k: rank[k]
    ):
        for d in graph.check_definitions_for(key):
            ids = [c.id for c in d.all_check_specs if c.asset == key]
            if d.specs:
                if d.name in step_checks and key in planned:
                    step_checks[d.name].extend(ids)
                continue
            if key not in planned:
                ids = [i for i in ids if i in wanted_extra]
            if ids:
                defs[d.name] = d
                step_checks.setdefault(d.name, []).extend(ids)
                check_only_of.setdefault(key, set())
                if any(c.blocking for c in d.check_specs):
                    check_only_of[key].add(d.name)

    # Dependencies between steps.
    upstream_steps: dict[str, set[str]] = {name: set() for name in step_checks}
    for name, keys in step_assets.items():
        for key in keys:
            for up in graph.upstream(key):
                owner = planned.get(up)
                if owner is not None and owner != name:
                    upstream_steps[name].add(owner)
                upstream_steps[name].update(check_only_of.get(up, ()))
    for name in step_checks:
        if name in step_assets:
            continue
        for check_id in step_checks[name]:
            owner = planned.get(CheckKey.parse(check_id).asset)
            if owner is not None:
                upstream_steps[name].add(owner)

    def first_rank(name: str) -> tuple[int, str]:
        keys = step_assets.get(name) or {CheckKey.parse(c).asset for c in step_checks[name]}
        return (min(rank[k] for k in keys), name)

    ordered = _order_steps(upstream_steps, first_rank)
    steps = tuple(
        Step(
            name=name,
            asset_keys=tuple(sorted(step_assets.get(name, ()), key=rank.__getitem__)),
            check_ids=tuple(dict.fromkeys(step_checks[name])),
            upstream_steps=tuple(sorted(upstream_steps[name])),
        )
        for name in ordered
    )
    partitions = resolve_partitions(graph, (k for s in steps for k in s.asset_keys), partition)
    text = selection if isinstance(selection, str) else None
    return Plan(steps=steps, partition_keys=partitions, selection=text)


def _order_steps(
    upstream: dict[str, set[str]], prio: Callable[[str], tuple[int, str]]
) -> list[str]:
    """Kahn's algorithm, ties broken by ``prio`` (graph order): deterministic."""
    downstream: dict[str, list[str]] = {name: [] for name in upstream}
    missing = {name: len(ups) for name, ups in upstream.items()}
    for name, ups in upstream.items():
        for up in ups:
            downstream[up].append(name)
    heap = [(prio(n), n) for n, count in missing.items() if count == 0]
    heapq.heapify(heap)
    out: list[str] = []
    while heap:
        _, name = heapq.heappop(heap)
        out.append(name)
        for down in downstream[name]:
            missing[down] -= 1
            if missing[down] == 0:
                heapq.heappush(heap, (prio(down), down))
    if len(out) != len(upstream):
        stuck = sorted(set(upstream) - set(out))
        raise ExecutionError(
            f"the selected steps depend on each other in a loop: {', '.join(stuck)}",
            where="plan",
            hint="a multi-asset definition that cannot subset sits both upstream and "
            "downstream of another step; select its assets separately or allow subsetting",
        )
    return out
