"""Turning an exact set of dbt nodes into short ``--select``/``--exclude`` lists.

dbt evaluates every selector against every node, so listing 2,000 nodes one by one costs
~20 s on a 1,000-model project. A folder (fqn prefix) whose buildable nodes are ALL wanted is
selected with one ``fqn:<prefix>`` criterion instead (a full build needs one criterion), so the
cost tracks the number of folders touched, not nodes. dbt's fqn selector also matches nodes
*below* an fqn (a model's unit tests sit below the model): those are excluded explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass

from catchment_dbt.manifest import Manifest

BUILDABLE = frozenset({"model", "seed", "snapshot", "test", "function"})


@dataclass(frozen=True)
class NodeIndex:
    """The fqn of every node ``dbt build`` can select, and what sits under each prefix."""

    fqns: Mapping[str, tuple[str, ...]]
    under: Mapping[tuple[str, ...], int]
    below_node: Mapping[tuple[str, ...], tuple[str, ...]]
    collapsible: bool

    @classmethod
    def of(cls, manifest: Manifest) -> NodeIndex:
        """Index the manifest (linear in its size)."""
        fqns: dict[str, tuple[str, ...]] = {}
        for uid, node in manifest.nodes.items():
            if node.resource_type in BUILDABLE and node.fqn:
                fqns[uid] = tuple(node.fqn)
        for uid, unit in manifest.unit_tests.items():
            if unit.fqn:
                fqns[uid] = tuple(unit.fqn)
        node_fqns = set(fqns.values())
        under: dict[tuple[str, ...], int] = {}
        below: dict[tuple[str, ...], list[str]] = {}
        collapsible = True
        for uid, fqn in fqns.items():
            if len(fqn) > 1 and fqn[1] == fqn[0]:
                collapsible = False  # dbt also matches fqns without their package: ambiguous
            for i in range(1, len(fqn)):
                prefix = fqn[:i]
                under[prefix] = under.get(prefix, 0) + 1
                if prefix in node_fqns:
                    below.setdefault(prefix, []).append(uid)
        return cls(
            fqns=fqns,
            under=under,
            below_node={k: tuple(v) for k, v in below.items()},
            collapsible=collapsible,
        )


def selector(fqn: tuple[str, ...]) -> str:
    return "fqn:" + ".".join(fqn)


def select_args(index: NodeIndex, wanted: Set[str]) -> tuple[list[str], list[str]]:
    """(select, exclude) selectors choosing exactly ``wanted`` among buildable nodes."""
    counted: dict[tuple[str, ...], int] = {}
    if index.collapsible:
        for uid in wanted:
            fqn = index.fqns[uid]
            for i in range(1, len(fqn)):
                counted[fqn[:i]] = counted.get(fqn[:i], 0) + 1
    select: dict[str, None] = {}
    exclude: dict[str, None] = {}
    for uid in sorted(wanted):
        fqn = index.fqns[uid]
        chosen = None
        for i in range(1, len(fqn) if index.collapsible else 0):
            prefix = fqn[:i]
            if counted.get(prefix) == index.under.get(prefix):
                chosen = selector(prefix)
                break
        if chosen is None:
            chosen = selector(fqn)
            for extra in index.below_node.get(fqn, ()):
                if extra not in wanted:
                    exclude[selector(index.fqns[extra])] = None
        select[chosen] = None
    return list(select), list(exclude)
